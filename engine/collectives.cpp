#include "engine/collectives.h"

#include <algorithm>
#include <climits>
#include <exception>
#include <numeric>

#include "engine/error.h"

namespace tessera::engine {

namespace {

template <typename T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpi_type<std::int64_t>() {
  return MPI_INT64_T;
}
template <>
MPI_Datatype mpi_type<char>() {
  return MPI_CHAR;
}

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
void broadcast(const Context& ctx, std::span<std::int64_t> values, int root) { broadcast_impl(ctx, values, root); }

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

std::vector<double> alltoallv(const Context& ctx, std::span<const double> send,
                              std::span<const std::int64_t> send_counts, std::span<const std::int64_t> recv_counts) {
  const auto ranks = std::size_t(ctx.size());
  TESSERA_CHECK(send_counts.size() == ranks && recv_counts.size() == ranks, "alltoallv: ", send_counts.size(),
                " send counts and ", recv_counts.size(), " receive counts for ", ranks, " ranks");
  std::vector<int> scounts(ranks), sdispls(ranks), rcounts(ranks), rdispls(ranks);
  std::int64_t sent = 0, received = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    TESSERA_CHECK(send_counts[r] >= 0 && recv_counts[r] >= 0, "alltoallv: negative count for rank ", r);
    TESSERA_CHECK(sent + send_counts[r] <= INT_MAX && received + recv_counts[r] <= INT_MAX,
                  "alltoallv: ", std::max(sent + send_counts[r], received + recv_counts[r]),
                  " values on one rank exceed MPI's int counts; exchange them in chunks or use more ranks");
    scounts[r] = int(send_counts[r]), sdispls[r] = int(sent), sent += send_counts[r];
    rcounts[r] = int(recv_counts[r]), rdispls[r] = int(received), received += recv_counts[r];
  }
  TESSERA_CHECK(std::size_t(sent) == send.size(), "alltoallv: the send counts add up to ", sent, " values but ",
                send.size(), " were given");
  if (ranks == 1) {
    TESSERA_CHECK(received == sent, "alltoallv: one rank sends itself ", sent, " values but expects ", received);
    return {send.begin(), send.end()};
  }
  std::vector<double> recv(static_cast<std::size_t>(received));
  TESSERA_MPI(MPI_Alltoallv(send.data(), scounts.data(), sdispls.data(), MPI_DOUBLE, recv.data(), rcounts.data(),
                            rdispls.data(), MPI_DOUBLE, ctx.comm()));
  return recv;
}

int BlockRing::buffer_count(int ranks) { return std::min(ranks - 1, 2); }

BlockRing::BlockRing(const Context& ctx, std::int64_t max_block) : ctx_(ctx), max_block_(max_block) {
  TESSERA_CHECK(max_block >= 0, "BlockRing: max_block = ", max_block);
  buffers_.resize(std::size_t(buffer_count(ctx.size())));
  for (auto& buffer : buffers_) buffer.resize(std::size_t(max_block));
}

void BlockRing::rotate(std::span<const double> mine, const std::function<std::int64_t(int owner)>& block_size,
                       const std::function<void(int owner, const double* block)>& visit) {
  const int ranks = ctx_.size(), rank = ctx_.rank();
  TESSERA_CHECK(std::int64_t(mine.size()) == block_size(rank), "BlockRing: this rank's block has ", mine.size(),
                " values but block_size says ", block_size(rank));
  // Every rank checks every block before anything is sent, so that all fail alike or none.
  for (int owner = 0; owner < ranks; ++owner) {
    const std::int64_t size = block_size(owner);
    TESSERA_CHECK(size >= 0 && (ranks == 1 || size <= max_block_), "BlockRing: rank ", owner, "'s block of ", size,
                  " values exceeds the ring's buffers of ", max_block_);
  }
  const int left = (rank - 1 + ranks) % ranks, right = (rank + 1) % ranks;
  std::exception_ptr failure;
  // Step t visits the block of rank (rank - t) while the block of rank (rank - t - 1) arrives from the left.
  const double* current = mine.data();
  int owner = rank;
  std::size_t next_buffer = 0;
  for (int step = 0; step < ranks; ++step) {
    const bool more = step + 1 < ranks;
    const int incoming = (owner - 1 + ranks) % ranks;
    double* receiving = more ? buffers_[next_buffer].data() : nullptr;
    // Messages go in chunks of kMaxChunk doubles, so that every MPI count fits in an int; both ends cut the
    // block alike, and messages between two ranks with one tag arrive in order.
    std::vector<MPI_Request> requests;
    if (more) {
      const std::int64_t in_size = block_size(incoming), out_size = block_size(owner);
      for (std::int64_t at = 0; at < in_size; at += std::int64_t(kMaxChunk)) {
        requests.emplace_back();
        TESSERA_MPI(MPI_Irecv(receiving + at, int(std::min<std::int64_t>(std::int64_t(kMaxChunk), in_size - at)),
                              MPI_DOUBLE, left, step, ctx_.comm(), &requests.back()));
      }
      for (std::int64_t at = 0; at < out_size; at += std::int64_t(kMaxChunk)) {
        requests.emplace_back();
        TESSERA_MPI(MPI_Isend(current + at, int(std::min<std::int64_t>(std::int64_t(kMaxChunk), out_size - at)),
                              MPI_DOUBLE, right, step, ctx_.comm(), &requests.back()));
      }
    }
    if (!failure) {
      try {
        visit(owner, current);
      } catch (...) {
        failure = std::current_exception();  // pass the remaining blocks on first, or the neighbours hang
      }
    }
    if (!requests.empty()) TESSERA_MPI(MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE));
    if (more) {
      current = receiving;
      owner = incoming;
      next_buffer = (next_buffer + 1) % buffers_.size();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace tessera::engine
