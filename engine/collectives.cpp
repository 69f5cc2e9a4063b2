#include "engine/collectives.h"

#include <numeric>

#include "engine/error.h"

namespace tessera::engine {

namespace {

template <typename T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<std::int64_t>() { return MPI_INT64_T; }
template <>
MPI_Datatype mpi_type<char>() { return MPI_CHAR; }

// MPI counts are int: large buffers go in chunks.
constexpr std::size_t kMaxChunk = std::size_t(1) << 30;

template <typename T>
void allreduce_sum_impl(const Context& ctx, std::span<T> values) {
  if (ctx.size() == 1) return;
  for (std::size_t offset = 0; offset < values.size(); offset += kMaxChunk) {
    const int count = int(std::min(kMaxChunk, values.size() - offset));
    TESSERA_MPI(MPI_Allreduce(MPI_IN_PLACE, values.data() + offset, count, mpi_type<T>(), MPI_SUM, ctx.comm()));
  }
}

template <typename T>
void broadcast_impl(const Context& ctx, std::span<T> values, int root) {
  if (ctx.size() == 1) return;
  for (std::size_t offset = 0; offset < values.size(); offset += kMaxChunk) {
    const int count = int(std::min(kMaxChunk, values.size() - offset));
    TESSERA_MPI(MPI_Bcast(values.data() + offset, count, mpi_type<T>(), root, ctx.comm()));
  }
}

template <typename T>
std::vector<T> allgatherv_impl(const Context& ctx, std::span<const T> local) {
  if (ctx.size() == 1) return {local.begin(), local.end()};
  TESSERA_CHECK(local.size() < std::size_t(1) << 31, "allgatherv: local block of ", local.size(),
                " elements is too large for one MPI call");
  int count = int(local.size());
  std::vector<int> counts(ctx.size());
  TESSERA_MPI(MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, ctx.comm()));
  std::vector<int> displs(ctx.size(), 0);
  std::int64_t total = 0;
  for (int r = 0; r < ctx.size(); ++r) {
    TESSERA_CHECK(total < (std::int64_t(1) << 31), "allgatherv: gathered size exceeds 2^31 elements");
    displs[r] = int(total);
    total += counts[r];
  }
  std::vector<T> all(total);
  TESSERA_MPI(MPI_Allgatherv(local.data(), count, mpi_type<T>(), all.data(), counts.data(), displs.data(),
                             mpi_type<T>(), ctx.comm()));
  return all;
}

}  // namespace

void allreduce_sum(const Context& ctx, std::span<double> values) { allreduce_sum_impl(ctx, values); }
void allreduce_sum(const Context& ctx, std::span<float> values) { allreduce_sum_impl(ctx, values); }
void allreduce_sum(const Context& ctx, std::span<std::int64_t> values) { allreduce_sum_impl(ctx, values); }
void allreduce_sum(const Context& ctx, Eigen::MatrixXd& matrix) {
  allreduce_sum_impl(ctx, std::span<double>(matrix.data(), std::size_t(matrix.size())));
}

double allreduce_sum(const Context& ctx, double value) {
  allreduce_sum_impl(ctx, std::span<double>(&value, 1));
  return value;
}

std::int64_t allreduce_sum(const Context& ctx, std::int64_t value) {
  allreduce_sum_impl(ctx, std::span<std::int64_t>(&value, 1));
  return value;
}

double allreduce_max(const Context& ctx, double value) {
  if (ctx.size() > 1) TESSERA_MPI(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, ctx.comm()));
  return value;
}

bool allreduce_any(const Context& ctx, bool flag) {
  int value = flag ? 1 : 0;
  if (ctx.size() > 1) TESSERA_MPI(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_LOR, ctx.comm()));
  return value != 0;
}

void broadcast(const Context& ctx, std::span<double> values, int root) { broadcast_impl(ctx, values, root); }
void broadcast(const Context& ctx, std::span<std::int64_t> values, int root) {
  broadcast_impl(ctx, values, root);
}

void broadcast(const Context& ctx, std::string& text, int root) {
  if (ctx.size() == 1) return;
  std::int64_t length = std::int64_t(text.size());
  broadcast_impl(ctx, std::span<std::int64_t>(&length, 1), root);
  text.resize(std::size_t(length));
  broadcast_impl(ctx, std::span<char>(text.data(), text.size()), root);
}

std::vector<double> allgatherv(const Context& ctx, std::span<const double> local) {
  return allgatherv_impl(ctx, local);
}
std::vector<std::int64_t> allgatherv(const Context& ctx, std::span<const std::int64_t> local) {
  return allgatherv_impl(ctx, local);
}

std::vector<std::string> allgatherv(const Context& ctx, const std::vector<std::string>& local) {
  // Strings travel as one buffer of characters plus their lengths.
  std::vector<std::int64_t> lengths;
  std::string joined;
  for (const auto& s : local) {
    lengths.push_back(std::int64_t(s.size()));
    joined += s;
  }
  const auto all_lengths = allgatherv_impl(ctx, std::span<const std::int64_t>(lengths));
  const auto all_chars = allgatherv_impl(ctx, std::span<const char>(joined.data(), joined.size()));
  std::vector<std::string> all;
  all.reserve(all_lengths.size());
  std::size_t offset = 0;
  for (auto n : all_lengths) {
    all.emplace_back(all_chars.data() + offset, std::size_t(n));
    offset += std::size_t(n);
  }
  return all;
}

}  // namespace tessera::engine
