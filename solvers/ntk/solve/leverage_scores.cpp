#include "solvers/ntk/solve/leverage_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/partition.h"
#include "engine/random.h"
#include "engine/scalapack.h"
#include "solvers/ntk/solve/nystrom.h"
#include "solvers/ntk/solve/parallel_for.h"

namespace tessera::solvers::ntk {

namespace {

constexpr int kJitterAttempts = 7;

// K_PP on every rank: each rank evaluates the pilot rows of its block_range share of P, the rest are zeros, and
// the sum over ranks is exact (each entry is one value plus zeros), so every rank holds the same matrix.
Eigen::MatrixXd pilot_kernel(const engine::Context& ctx, const KernelOperator& kernel,
                             const std::vector<std::int64_t>& pilot, int threads) {
  const std::int64_t p = std::int64_t(pilot.size());
  Eigen::MatrixXd kpp = Eigen::MatrixXd::Zero(p, p);
  const auto mine = engine::block_range(p, ctx.size(), ctx.rank());
  const std::span<const std::int64_t> columns(pilot);
  parallel_for(mine.size(), threads, [&](std::int64_t k, int) {
    Eigen::MatrixXd row(1, p);
    kernel.gather_columns(pilot[std::size_t(mine.begin + k)], columns, row);
    kpp.row(mine.begin + k) = row;
  });
  engine::allreduce_sum(ctx, kpp);
  return 0.5 * (kpp + kpp.transpose());
}

}  // namespace

std::int64_t leverage_pilot_size(std::int64_t n, std::int64_t m) { return std::min(n, m); }

LeverageScores approximate_leverage_scores(const engine::Context& ctx, const KernelOperator& kernel,
                                           std::vector<std::int64_t> pilot, double relative_ridge, int threads) {
  const std::int64_t n = kernel.size(), p = std::int64_t(pilot.size());
  TESSERA_CHECK(relative_ridge > 0 && std::isfinite(relative_ridge),
                "leverage scores: ntk_leverage_ridge = ", relative_ridge, " must be finite and > 0");
  TESSERA_CHECK(p >= 1 && p <= n && std::is_sorted(pilot.begin(), pilot.end()) &&
                    std::adjacent_find(pilot.begin(), pilot.end()) == pilot.end() && pilot.front() >= 0 &&
                    pilot.back() < n,
                "leverage scores: the pilot set must hold 1 to N = ", n, " sorted distinct rows; it has ", p);
  threads = std::max(1, threads);
  LeverageScores result;
  result.pilot = std::move(pilot);
  const auto& rows_p = result.pilot;

  // L L^T = K_PP + s I, factored on rank 0 by single-threaded LAPACK (the same bits whatever the rank and thread
  // counts), broadcast with the verdict; the jitter grows as in the solver when rounding defeats s.
  Eigen::MatrixXd lower = pilot_kernel(ctx, kernel, rows_p, threads);
  const double trace = lower.trace();
  TESSERA_CHECK(std::isfinite(trace) && trace > 0, "leverage scores: K_PP of ", p, " pilot rows has trace ", trace,
                "; the kernel has NaNs or is not positive semi-definite");
  result.ridge = relative_ridge * trace / double(p);
  result.pilot_ridge = result.ridge * double(p) / double(n);
  double jitter = std::numeric_limits<double>::epsilon() * trace;
  for (int attempt = 0;; ++attempt) {
    Eigen::MatrixXd factor = lower;
    factor.diagonal().array() += result.pilot_ridge;
    double failed = 0;
    if (ctx.rank() == 0) {
      const engine::blas::ThreadLimit single(1);
      failed = engine::lapack_cholesky_factor(factor) == 0 ? 0.0 : 1.0;
    }
    engine::broadcast(ctx, std::span<double>(&failed, 1));
    if (failed == 0) {
      engine::broadcast(ctx, std::span<double>(factor.data(), std::size_t(factor.size())));
      factor.triangularView<Eigen::StrictlyUpper>().setZero();
      lower = std::move(factor);
      break;
    }
    TESSERA_CHECK(attempt + 1 < kJitterAttempts, "leverage scores: K_PP of ", p,
                  " pilot rows is not positive definite even with jitter ", jitter,
                  "; the kernel is not positive semi-definite or has NaNs");
    result.pilot_ridge += jitter;
    jitter *= 100;
  }

  // This rank's groups of rows: w_i = L^-1 k_Pi by one single-threaded TRSM per group, tau_i = (k_ii - |w_i|^2) / t.
  const std::int64_t groups = (n + kLeverageGroupRows - 1) / kLeverageGroupRows;
  const auto my_groups = engine::block_range(groups, ctx.size(), ctx.rank());
  const std::int64_t first = my_groups.begin * kLeverageGroupRows;
  const std::int64_t last = std::min(n, my_groups.end * kLeverageGroupRows);
  std::vector<double> local(std::size_t(std::max<std::int64_t>(last - first, 0)));
  std::vector<Eigen::MatrixXd> blocks(static_cast<std::size_t>(threads));
  const std::span<const std::int64_t> columns(rows_p);
  {
    const engine::blas::ThreadLimit single(1);
    parallel_for(my_groups.size(), threads, [&](std::int64_t k, int thread) {
      auto& block = blocks[std::size_t(thread)];
      if (block.size() == 0) block.resize(kLeverageGroupRows, p);
      const std::int64_t row0 = (my_groups.begin + k) * kLeverageGroupRows;
      const std::int64_t nr = std::min(kLeverageGroupRows, n - row0);
      kernel.gather_columns(row0, columns, block.topRows(nr));
      engine::blas::solve_right_lower_transposed(nr, p, lower.data(), p, block.data(), kLeverageGroupRows);
      for (std::int64_t r = 0; r < nr; ++r) {
        double explained = 0;
        for (std::int64_t j = 0; j < p; ++j) explained += block(r, j) * block(r, j);
        // >= 0 in exact arithmetic (a Schur complement plus s); rounding may leave a tiny negative.
        local[std::size_t(row0 + r - first)] = std::max(0.0, (kernel.diagonal(row0 + r) - explained) / result.ridge);
      }
    });
  }
  result.tau = engine::allgatherv(ctx, std::span<const double>(local));
  TESSERA_CHECK(std::int64_t(result.tau.size()) == n, "leverage scores: gathered ", result.tau.size(),
                " scores for N = ", n, " rows");
  for (const double tau : result.tau) result.effective_dimension += tau;  // row order: the same sum everywhere
  TESSERA_CHECK(std::isfinite(result.effective_dimension) && result.effective_dimension > 0,
                "leverage scores: the scores sum to ", result.effective_dimension,
                "; the kernel has NaNs, or its diagonal is below its off-diagonal entries");
  return result;
}

std::vector<std::int64_t> sample_by_weight(std::span<const double> weights, std::int64_t m, std::uint64_t seed) {
  const std::int64_t n = std::int64_t(weights.size());
  TESSERA_CHECK(m >= 0 && m <= n, "weighted centres: cannot draw ", m, " distinct rows from ", n);
  engine::RandomStream stream(seed, "ntk/nystrom-leverage");
  // Key log(u) / w with u uniform in (0, 1]: the m largest keys are a successive weighted sample. Weight 0: -inf.
  std::vector<double> keys(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double w = weights[std::size_t(i)];
    TESSERA_CHECK(std::isfinite(w) && w >= 0, "weighted centres: row ", i, " has weight ", w,
                  "; weights must be finite and >= 0");
    const double u = 1.0 - stream.uniform();
    keys[std::size_t(i)] = w > 0 ? std::log(u) / w : -std::numeric_limits<double>::infinity();
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t(0));
  // A strict total order (key, then index), so the chosen set does not depend on the selection algorithm.
  const auto before = [&](std::int64_t a, std::int64_t b) {
    const double ka = keys[std::size_t(a)], kb = keys[std::size_t(b)];
    return ka != kb ? ka > kb : a < b;
  };
  std::nth_element(order.begin(), order.begin() + m, order.end(), before);
  order.resize(std::size_t(m));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<std::int64_t> sample_leverage_centres(const engine::Context& ctx, const KernelOperator& kernel,
                                                  std::int64_t m, double relative_ridge, std::uint64_t seed,
                                                  int threads) {
  const std::int64_t n = kernel.size();
  TESSERA_CHECK(m >= 1 && m <= n, "leverage centres: cannot draw ", m, " distinct centres from ", n, " rows");
  auto pilot = NystromPreconditioner::sample_centres(n, leverage_pilot_size(n, m), seed);
  const auto scores = approximate_leverage_scores(ctx, kernel, std::move(pilot), relative_ridge, threads);
  const auto [low, high] = std::minmax_element(scores.tau.begin(), scores.tau.end());
  engine::info("Nystrom leverage sampling: pilot ", scores.pilot.size(), " rows, ridge ", scores.ridge,
               ", effective dimension ", scores.effective_dimension, ", scores in [", *low, ", ", *high, "]");
  return sample_by_weight(scores.tau, m, seed);
}

}  // namespace tessera::solvers::ntk
