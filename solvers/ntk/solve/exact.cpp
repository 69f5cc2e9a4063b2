#include "solvers/ntk/solve/exact.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/scalapack.h"
#include "solvers/ntk/solve/jitter_attempts.h"
#include "solvers/ntk/solve/parallel_for.h"

namespace tessera::solvers::ntk {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double mean_diagonal(const KernelOperator& kernel) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < kernel.size(); ++i) sum += kernel.diagonal(i);
  return kernel.size() > 0 ? sum / double(kernel.size()) : 0.0;
}

// Every rank learns whether any rank built a non-finite tile, so that all of them throw together.
void check_finite(const engine::Context& ctx, bool bad_here) {
  TESSERA_CHECK(!engine::allreduce_any(ctx, bad_here), "ntk exact solve: the kernel has NaN or infinite entries ",
                "(non-finite features); check the input signatures");
}

ExactResult solve_one_rank(const engine::Context& ctx, const KernelOperator& kernel,
                           const engine::RowShardedMatrix& rhs, const ExactOptions& options) {
  ExactResult result;
  const auto n = kernel.size(), nb = options.block_size, blocks = (n + nb - 1) / nb;
  Eigen::MatrixXd k(n, n);
  result.kernel_values = k.size();
  // Lower-triangle tiles, column block by column block.
  std::vector<std::pair<std::int64_t, std::int64_t>> tiles;
  for (std::int64_t bj = 0; bj < blocks; ++bj)
    for (std::int64_t bi = bj; bi < blocks; ++bi) tiles.emplace_back(bi, bj);

  auto build = [&](double shift) {
    std::atomic<bool> bad{false};
    parallel_for(std::int64_t(tiles.size()), ctx.threads_per_rank(), [&](std::int64_t t, int) {
      const auto [bi, bj] = tiles[std::size_t(t)];
      const auto r0 = bi * nb, c0 = bj * nb;
      auto block = k.block(r0, c0, std::min(nb, n - r0), std::min(nb, n - c0));
      kernel.tile(r0, c0, block);
      if (!block.allFinite()) bad = true;
    });
    check_finite(ctx, bad);
    if (shift != 0.0) k.diagonal().array() += shift;
  };
  factor_with_jitter(
      kernel.size(), mean_diagonal(kernel), options, result, build, [&] { return engine::lapack_cholesky_factor(k); },
      [&] { return k.diagonal().minCoeff(); });

  const auto start = Clock::now();
  Eigen::MatrixXd x = rhs.local();
  engine::lapack_cholesky_solve(k, x);
  result.solution = engine::RowShardedMatrix(ctx, n, rhs.cols());
  result.solution.local() = std::move(x);
  result.solve_seconds = seconds_since(start);
  return result;
}

ExactResult solve_distributed(const engine::Context& ctx, const KernelOperator& kernel,
                              const engine::RowShardedMatrix& rhs, const ExactOptions& options) {
  ExactResult result;
  const engine::BlacsGrid grid(ctx);
  const auto n = kernel.size(), nb = options.block_size;
  engine::BlockCyclicMatrix k(grid, n, n, nb, nb, /*zero_fill=*/false);  // upper blocks never touched
  result.kernel_values = k.local().size();
  auto& local = k.local();

  // My blocks in the lower triangle: local block (lbi, lbj) is global block (lbi nprow + myrow, lbj npcol + mycol).
  std::vector<std::pair<std::int64_t, std::int64_t>> tiles;
  const auto local_row_blocks = (local.rows() + nb - 1) / nb, local_col_blocks = (local.cols() + nb - 1) / nb;
  for (std::int64_t lbj = 0; lbj < local_col_blocks; ++lbj)
    for (std::int64_t lbi = 0; lbi < local_row_blocks; ++lbi)
      if (k.global_row(lbi * nb) >= k.global_col(lbj * nb)) tiles.emplace_back(lbi, lbj);

  auto build = [&](double shift) {
    std::atomic<bool> bad{false};
    parallel_for(std::int64_t(tiles.size()), ctx.threads_per_rank(), [&](std::int64_t t, int) {
      const auto [lbi, lbj] = tiles[std::size_t(t)];
      const auto rows = std::min<std::int64_t>(nb, local.rows() - lbi * nb);
      const auto cols = std::min<std::int64_t>(nb, local.cols() - lbj * nb);
      auto block = local.block(lbi * nb, lbj * nb, rows, cols);
      kernel.tile(k.global_row(lbi * nb), k.global_col(lbj * nb), block);
      if (!block.allFinite()) bad = true;
    });
    check_finite(ctx, bad);
    if (shift != 0.0)
      for (Eigen::Index lj = 0; lj < local.cols(); ++lj) {
        const auto g = k.global_col(lj);
        if (k.row_owner(g) == grid.my_row()) local(k.local_row(g), lj) += shift;
      }
  };
  auto min_pivot = [&] {
    double smallest = std::numeric_limits<double>::infinity();
    for (Eigen::Index lj = 0; lj < local.cols(); ++lj) {
      const auto g = k.global_col(lj);
      if (k.row_owner(g) == grid.my_row()) smallest = std::min(smallest, local(k.local_row(g), lj));
    }
    return -engine::allreduce_max(ctx, -smallest);
  };
  factor_with_jitter(
      kernel.size(), mean_diagonal(kernel), options, result, build, [&] { return engine::cholesky_factor(k); },
      min_pivot);

  const auto start = Clock::now();
  auto b = engine::to_block_cyclic(grid, rhs, nb, nb);
  engine::cholesky_solve(k, b);
  result.solution = engine::to_row_sharded(b);
  result.solve_seconds = seconds_since(start);
  return result;
}

}  // namespace

void ExactOptions::validate() const {
  engine::check_knobs(*this);
  TESSERA_CHECK(std::isfinite(jitter_growth) && jitter_growth > 1.0, "ntk exact solve: jitter growth ", jitter_growth,
                " must exceed 1");
  TESSERA_CHECK(std::isfinite(max_jitter) && max_jitter >= jitter, "ntk exact solve: max jitter ", max_jitter,
                " must be at least ntk_jitter = ", jitter);
}

ExactResult solve_exact(const engine::Context& ctx, const KernelOperator& kernel, const engine::RowShardedMatrix& rhs,
                        const ExactOptions& options) {
  options.validate();
  TESSERA_CHECK(rhs.global_rows() == kernel.size(), "ntk exact solve: the kernel is ", kernel.size(), " x ",
                kernel.size(), " but the right-hand sides have ", rhs.global_rows(), " rows");
  const auto expected = engine::block_range(rhs.global_rows(), ctx.size(), ctx.rank());
  TESSERA_CHECK(rhs.range().begin == expected.begin && rhs.range().end == expected.end,
                "ntk exact solve: the right-hand sides were not sharded over this context's ranks");
  const engine::blas::ThreadLimit blas_threads(ctx.threads_per_rank());  // ranks sharing a node share its cores
  return ctx.size() == 1 ? solve_one_rank(ctx, kernel, rhs, options) : solve_distributed(ctx, kernel, rhs, options);
}

std::int64_t exact_kernel_bytes(std::int64_t n, int ranks, std::int64_t block_size) {
  if (ranks <= 1) return n * n * std::int64_t(sizeof(double));
  const auto [rows, cols] = engine::blacs_grid_shape(ranks);
  return engine::numroc(n, block_size, 0, rows) * engine::numroc(n, block_size, 0, cols) * std::int64_t(sizeof(double));
}

}  // namespace tessera::solvers::ntk
