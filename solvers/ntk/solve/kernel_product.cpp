#include "solvers/ntk/solve/kernel_product.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>

#include "engine/blas.h"
#include "engine/error.h"
#include "solvers/ntk/solve/parallel_for.h"

namespace tessera::solvers::ntk {

namespace {

// CPU time of the calling thread: unlike wall time it does not count time the thread spent descheduled, so the
// split between tiles and GEMM stays meaningful on a shared, oversubscribed machine.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace

KernelProduct::KernelProduct(const engine::Context& ctx, const KernelOperator& kernel, double lambda,
                             std::int64_t tile_size, int threads, std::int64_t max_cols)
    : ctx_(ctx),
      kernel_(kernel),
      lambda_(lambda),
      n_(kernel.size()),
      tile_size_(tile_size),
      threads_(std::max(1, threads)),
      max_cols_(max_cols),
      mine_(engine::block_range(kernel.size(), ctx.size(), ctx.rank())),
      // Rank 0 has the most rows.
      ring_(ctx, engine::block_range(kernel.size(), ctx.size(), 0).size() * max_cols) {
  TESSERA_CHECK(tile_size_ > 0, "KernelProduct: tile_size must be positive, got ", tile_size_);
  device_ = kernel.block_product(mine_.begin, mine_.size(), engine::block_range(n_, ctx.size(), 0).size(), max_cols);
  if (device_ != nullptr) return;  // no CPU tiles needed
  const std::int64_t side = std::min(tile_size_, std::max<std::int64_t>(n_, 1));
  tiles_.resize(std::size_t(threads_));
  for (auto& tile : tiles_) tile.resize(std::size_t(side * side));
}

std::int64_t KernelProduct::workspace_bytes(std::int64_t n, int ranks, std::int64_t tile_size, int threads,
                                            std::int64_t max_cols) {
  const std::int64_t widest = ceil_div(n, ranks);
  const std::int64_t side = std::min(tile_size, n);
  return 8 * (engine::BlockRing::buffer_count(ranks) * widest * max_cols + std::int64_t(threads) * side * side);
}

void KernelProduct::apply(const double* p_local, std::int64_t cols, double* out) {
  TESSERA_CHECK(cols >= 0 && cols <= max_cols_, "KernelProduct::apply: ", cols, " columns, workspace holds ",
                max_cols_);
  const int ranks = ctx_.size();
  const std::int64_t rows = mine_.size();
  std::fill(out, out + rows * cols, 0.0);
  ring_.rotate(
      {p_local, std::size_t(rows * cols)},
      [&](int owner) { return engine::block_range(n_, ranks, owner).size() * cols; },
      [&](int owner, const double* block) { multiply_block(owner, block, cols, out); });
  if (lambda_ != 0.0)
    for (std::int64_t i = 0; i < rows * cols; ++i) out[i] += lambda_ * p_local[i];
  ++products_;
}

void KernelProduct::multiply_block(int owner, const double* block, std::int64_t cols, double* out) {
  const engine::BlockRange theirs = engine::block_range(n_, ctx_.size(), owner);
  const std::int64_t rows = mine_.size(), their_rows = theirs.size();
  if (rows == 0 || their_rows == 0 || cols == 0) return;
  if (device_ != nullptr) {
    const auto start = std::chrono::steady_clock::now();
    device_->multiply_add(theirs.begin, their_rows, block, cols, out);
    tile_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return;
  }
  const std::int64_t row_tiles = ceil_div(rows, tile_size_), col_tiles = ceil_div(their_rows, tile_size_);
  std::vector<double> tile_time(std::size_t(threads_), 0.0), gemm_time(std::size_t(threads_), 0.0);
  parallel_for(row_tiles, threads_, [&](std::int64_t i, int thread) {
    const std::int64_t r0 = i * tile_size_, nr = std::min(tile_size_, rows - r0);
    double* tile = tiles_[std::size_t(thread)].data();
    for (std::int64_t j = 0; j < col_tiles; ++j) {
      const std::int64_t c0 = j * tile_size_, nc = std::min(tile_size_, their_rows - c0);
      const double start = thread_cpu_seconds();
      Eigen::Map<Eigen::MatrixXd> view(tile, nr, nc);
      kernel_.tile(mine_.begin + r0, theirs.begin + c0, view);
      const double middle = thread_cpu_seconds();
      engine::blas::gemm('N', 'N', nr, cols, nc, 1.0, tile, nr, block + c0, their_rows, 1.0, out + r0, rows);
      tile_time[std::size_t(thread)] += middle - start;
      gemm_time[std::size_t(thread)] += thread_cpu_seconds() - middle;
    }
  });
  for (int t = 0; t < threads_; ++t) {
    tile_seconds_ += tile_time[std::size_t(t)];
    gemm_seconds_ += gemm_time[std::size_t(t)];
  }
}

}  // namespace tessera::solvers::ntk
