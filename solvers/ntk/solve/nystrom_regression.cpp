#include "solvers/ntk/solve/nystrom_regression.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <span>

#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/partition.h"
#include "engine/scalapack.h"
#include "solvers/ntk/solve/leverage_scores.h"
#include "solvers/ntk/solve/matrix_free.h"
#include "solvers/ntk/solve/nystrom.h"
#include "solvers/ntk/solve/parallel_for.h"

namespace tessera::solvers::ntk {

namespace {

// Rows a worker thread evaluates at once inside a tile; fixed, so that nothing depends on the thread count.
constexpr std::int64_t kThreadRows = 64;
constexpr int kJitterAttempts = 7;

using Clock = std::chrono::steady_clock;
double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Every rank takes rank 0's copy, so that decisions made from it (Cholesky success, jitter) agree everywhere.
void make_identical(const engine::Context& ctx, Eigen::MatrixXd& matrix) {
  engine::broadcast(ctx, std::span<double>(matrix.data(), std::size_t(matrix.size())));
}

// The lower triangle mirrored into the upper one (SYRK fills only the lower).
void mirror_lower(Eigen::MatrixXd& matrix) {
  matrix.triangularView<Eigen::StrictlyUpper>() = matrix.transpose().triangularView<Eigen::StrictlyUpper>();
}

// M centres by params.sampling. Collective (leverage scores are computed over every rank's rows).
std::vector<std::int64_t> draw_centres(const engine::Context& ctx, const KernelOperator& kernel, std::int64_t m,
                                       const NystromParams& params, int threads) {
  const std::int64_t n = kernel.size();
  switch (params.sampling) {
    case CentreSampling::kUniform:
      return NystromPreconditioner::sample_centres(n, m, params.seed);
    case CentreSampling::kLeverage:
      return sample_leverage_centres(ctx, kernel, m, params.leverage_ridge, params.seed, threads);
  }
  TESSERA_FAIL("ntk_centre_sampling: unknown value");
}

// One streamed pass: G = K_NM^T K_NM and B = K_NM^T Y over this rank's rows, and this rank's rows of K_MM,
// each summed over ranks afterwards by the caller.
void stream_pass(const KernelOperator& kernel, const engine::BlockRange& mine, const std::vector<std::int64_t>& centres,
                 const Eigen::MatrixXd& y_local, std::int64_t tile_rows, int threads, Eigen::MatrixXd& g,
                 Eigen::MatrixXd& b, Eigen::MatrixXd& kmm) {
  const std::int64_t m = std::int64_t(centres.size()), rows = mine.size(), genes = y_local.cols();
  Eigen::MatrixXd tile(std::min(tile_rows, std::max<std::int64_t>(rows, 1)), m);
  const std::span<const std::int64_t> columns(centres);
  // The first centre at or after this rank's first row: centres are sorted, so the ones inside a tile are a run.
  auto next_centre = std::lower_bound(centres.begin(), centres.end(), mine.begin);
  for (std::int64_t r0 = 0; r0 < rows; r0 += tile_rows) {
    const std::int64_t nr = std::min(tile_rows, rows - r0);
    auto block = tile.topRows(nr);
    parallel_for((nr + kThreadRows - 1) / kThreadRows, threads, [&](std::int64_t k, int) {
      const std::int64_t s0 = k * kThreadRows, sn = std::min(kThreadRows, nr - s0);
      kernel.gather_columns(mine.begin + r0 + s0, columns, block.middleRows(s0, sn));
    });
    engine::blas::syrk_lower('T', m, nr, 1.0, tile.data(), tile.rows(), 1.0, g.data(), m);
    engine::blas::gemm('T', 'N', m, genes, nr, 1.0, tile.data(), tile.rows(), y_local.data() + r0, rows, 1.0, b.data(),
                       m);
    for (; next_centre != centres.end() && *next_centre < mine.begin + r0 + nr; ++next_centre)
      kmm.row(next_centre - centres.begin()) = block.row(*next_centre - mine.begin - r0);
  }
}

// Per-gene CG on the symmetric positive semi-definite S: x = S^-1 c column by column, each column with its own
// step sizes, stopped at ||r|| <= tolerance ||c|| (or a breakdown p^T S p <= 0, then it keeps its iterate).
struct CgOutcome {
  int iterations = 0;
  bool converged = true;
  double max_relative_residual = 0;
};
CgOutcome conjugate_gradients(const Eigen::MatrixXd& s, const Eigen::MatrixXd& c, double tolerance, int max_iterations,
                              Eigen::MatrixXd& x) {
  const std::int64_t m = s.rows(), cols = c.cols();
  x = Eigen::MatrixXd::Zero(m, cols);
  CgOutcome outcome;
  if (cols == 0) return outcome;
  Eigen::MatrixXd r = c, p = c, sp(m, cols);
  Eigen::ArrayXd rr = r.colwise().squaredNorm().transpose();
  const Eigen::ArrayXd target = tolerance * tolerance * rr;
  std::vector<char> active(static_cast<std::size_t>(cols), 0);
  for (std::int64_t j = 0; j < cols; ++j) active[std::size_t(j)] = rr(j) > target(j) && rr(j) > 0;
  for (int it = 0; it < max_iterations; ++it) {
    if (std::none_of(active.begin(), active.end(), [](char a) { return a != 0; })) break;
    outcome.iterations = it + 1;
    engine::blas::gemm('N', 'N', m, cols, m, 1.0, s.data(), m, p.data(), m, 0.0, sp.data(), m);
    for (std::int64_t j = 0; j < cols; ++j) {
      if (!active[std::size_t(j)]) continue;
      const double pap = p.col(j).dot(sp.col(j));
      if (!(pap > 0)) {
        active[std::size_t(j)] = 0;
        continue;
      }
      const double step = rr(j) / pap;
      x.col(j) += step * p.col(j);
      r.col(j) -= step * sp.col(j);
      const double rr_new = r.col(j).squaredNorm();
      p.col(j) = r.col(j) + (rr_new / rr(j)) * p.col(j);
      rr(j) = rr_new;
      if (rr_new <= target(j)) active[std::size_t(j)] = 0;
    }
  }
  for (std::int64_t j = 0; j < cols; ++j) {
    const double norm_c = c.col(j).norm();
    const double relative = norm_c > 0 ? std::sqrt(rr(j)) / norm_c : 0.0;
    outcome.max_relative_residual = std::max(outcome.max_relative_residual, relative);
    if (relative > tolerance) outcome.converged = false;
  }
  return outcome;
}

}  // namespace

const engine::NameTable<CentreSampling>& name_table(CentreSampling) {
  static const engine::NameTable<CentreSampling> table{{CentreSampling::kUniform, "uniform"},
                                                       {CentreSampling::kLeverage, "leverage"}};
  return table;
}

void NystromParams::validate() const {
  engine::check_knobs(*this);
  TESSERA_CHECK(tolerance > 0 && tolerance < 1, "Nystrom solver: tolerance = ", tolerance, " must lie in (0, 1)");
  TESSERA_CHECK(max_iterations >= 1, "Nystrom solver: max_iterations = ", max_iterations, " must be at least 1");
  TESSERA_CHECK(threads >= 0, "Nystrom solver: threads = ", threads, " must be >= 0 (0 = automatic)");
  TESSERA_CHECK(tile_rows >= 0, "Nystrom solver: tile_rows = ", tile_rows, " must be >= 0 (0 = automatic)");
}

std::int64_t nystrom_tile_rows(std::int64_t centres, const NystromParams& params) {
  if (params.tile_rows > 0) return params.tile_rows;
  const std::int64_t fit = (std::int64_t(1) << 25) / std::max<std::int64_t>(centres, 1);  // 2^25 doubles = 256 MiB
  return std::clamp<std::int64_t>(fit, 256, 4096);
}

double nystrom_bytes_per_rank(std::int64_t n, std::int64_t centres, std::int64_t genes, int ranks,
                              const NystromParams& params) {
  const double m = double(std::min(centres, n)), rows = double((n + ranks - 1) / ranks);
  const double tile = double(std::min<std::int64_t>(nystrom_tile_rows(std::int64_t(m), params), std::int64_t(rows)));
  const double solve = 8.0 * (5.0 * m * m + 3.0 * m * double(genes) + rows * double(genes) + tile * m);
  if (params.sampling != CentreSampling::kLeverage) return solve;
  // The pilot factor (p = M rows), 64 rows of pilot columns per thread (counted as one tile: exact up to
  // rows_per_tile / 64 threads), the N scores, keys and indices.
  const double p = double(leverage_pilot_size(n, std::int64_t(m)));
  return std::max(solve, 8.0 * (p * p + tile * p + 3.0 * double(n)));
}

NystromResult solve_nystrom(const engine::Context& ctx, const KernelOperator& kernel, const Eigen::MatrixXd& y_local,
                            const NystromParams& params) {
  params.validate();
  const std::int64_t n = kernel.size(), genes = y_local.cols();
  const auto mine = engine::block_range(n, ctx.size(), ctx.rank());
  TESSERA_CHECK(y_local.rows() == mine.size(), "Nystrom solver: this rank holds ", y_local.rows(),
                " right-hand-side rows but its block of N = ", n, " has ", mine.size());
  const double bad_rows = engine::allreduce_max(ctx, y_local.allFinite() ? 0.0 : 1.0);
  TESSERA_CHECK(bad_rows == 0.0, "Nystrom solver: a training signature holds NaN or infinity; impute or drop it");
  MatrixFreeParams thread_params;
  thread_params.threads = params.threads;
  const int threads = default_threads(ctx, thread_params);

  NystromResult result;
  const std::int64_t m = std::min(params.centres, n);
  result.centres = draw_centres(ctx, kernel, m, params, threads);
  result.tile_rows = nystrom_tile_rows(m, params);

  // One pass over this rank's rows; then the sums over ranks, rank 0's copy everywhere.
  auto start = Clock::now();
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(m, m), b = Eigen::MatrixXd::Zero(m, genes);
  Eigen::MatrixXd kmm = Eigen::MatrixXd::Zero(m, m);
  stream_pass(kernel, mine, result.centres, y_local, result.tile_rows, threads, g, b, kmm);
  engine::allreduce_sum(ctx, g);
  engine::allreduce_sum(ctx, b);
  engine::allreduce_sum(ctx, kmm);
  make_identical(ctx, g);
  make_identical(ctx, b);
  make_identical(ctx, kmm);
  mirror_lower(g);
  kmm = 0.5 * (kmm + kmm.transpose()).eval();
  result.pass_seconds = since(start);

  start = Clock::now();
  const double trace = kmm.trace(), mean_diagonal = trace / double(m);
  TESSERA_CHECK(std::isfinite(trace) && trace > 0, "Nystrom solver: K_MM of ", m, " centres has trace ", trace,
                "; the kernel has NaNs or is not positive semi-definite");
  result.lambda = params.ridge * mean_diagonal / double(n);

  // L L^T = K_MM + jitter I (Falkon's T = L^T), jitter raised while the factorisation fails.
  result.jitter = std::numeric_limits<double>::epsilon() * trace;
  Eigen::MatrixXd lower;
  for (int attempt = 0;; ++attempt) {
    lower = kmm;
    lower.diagonal().array() += result.jitter;
    // Every rank factors the same K_MM; the verdict is agreed all the same, so that no rank retries alone.
    if (engine::allreduce_max(ctx, engine::lapack_cholesky_factor(lower) == 0 ? 0.0 : 1.0) == 0.0) {
      lower.triangularView<Eigen::StrictlyUpper>().setZero();
      break;
    }
    TESSERA_CHECK(attempt + 1 < kJitterAttempts, "Nystrom solver: K_MM of ", m,
                  " centres is not positive definite even with jitter ", result.jitter,
                  "; the kernel is not positive semi-definite or has NaNs; check the kernel or lower ntk_centres");
    result.jitter *= 100;
  }
  if (result.jitter > std::numeric_limits<double>::epsilon() * trace * 1.5)
    engine::warn("Nystrom solver: K_MM needed jitter ", result.jitter, " (near-duplicate centres?)");

  // Lam Lam^T = L^T L / M + lambda I (Falkon's A = Lam^T).
  Eigen::MatrixXd a_lower = Eigen::MatrixXd::Zero(m, m);
  engine::blas::syrk_lower('T', m, m, 1.0 / double(m), lower.data(), m, 0.0, a_lower.data(), m);
  mirror_lower(a_lower);
  a_lower.diagonal().array() += result.lambda;
  TESSERA_CHECK(engine::allreduce_max(ctx, engine::lapack_cholesky_factor(a_lower) == 0 ? 0.0 : 1.0) == 0.0,
                "Nystrom solver: L^T L / M + lambda I is not positive definite; the kernel has NaNs or is not "
                "positive semi-definite");
  a_lower.triangularView<Eigen::StrictlyUpper>().setZero();

  // S = Lam^-1 L^-1 (G / N + lambda K_MM) L^-T Lam^-T, in place of G; c = Lam^-1 L^-1 B / N in place of B.
  g /= double(n);
  g += result.lambda * kmm;
  kmm.resize(0, 0);
  engine::blas::solve_left_lower('N', m, m, lower.data(), m, g.data(), m);
  engine::blas::solve_right_lower_transposed(m, m, lower.data(), m, g.data(), m);
  engine::blas::solve_left_lower('N', m, m, a_lower.data(), m, g.data(), m);
  engine::blas::solve_right_lower_transposed(m, m, a_lower.data(), m, g.data(), m);
  g = 0.5 * (g + g.transpose()).eval();
  b /= double(n);
  engine::blas::solve_left_lower('N', m, genes, lower.data(), m, b.data(), m);
  engine::blas::solve_left_lower('N', m, genes, a_lower.data(), m, b.data(), m);
  result.factor_seconds = since(start);

  // S beta = c for this rank's genes: by Cholesky of S when it is numerically positive definite (the same answer
  // on every rank, which all hold S), else by CG; then alpha = L^-T Lam^-T beta and the genes of every rank.
  start = Clock::now();
  const auto my_genes = engine::block_range(genes, ctx.size(), ctx.rank());
  Eigen::MatrixXd beta = b.middleCols(my_genes.begin, my_genes.size());
  CgOutcome cg;
  result.direct = false;
  if (params.direct) {
    Eigen::MatrixXd s_lower = g;
    result.direct = engine::allreduce_max(ctx, engine::lapack_cholesky_factor(s_lower) == 0 ? 0.0 : 1.0) == 0.0;
    if (result.direct && beta.cols() > 0) {
      engine::blas::solve_left_lower('N', m, beta.cols(), s_lower.data(), m, beta.data(), m);
      engine::blas::solve_left_lower('T', m, beta.cols(), s_lower.data(), m, beta.data(), m);
    }
    if (!result.direct) engine::warn("Nystrom solver: S is not numerically positive definite; solving by CG");
  }
  if (!result.direct) {
    const Eigen::MatrixXd c = beta;
    cg = conjugate_gradients(g, c, params.tolerance, params.max_iterations, beta);
  }
  if (beta.cols() > 0) {
    engine::blas::solve_left_lower('T', m, beta.cols(), a_lower.data(), m, beta.data(), m);
    engine::blas::solve_left_lower('T', m, beta.cols(), lower.data(), m, beta.data(), m);
  }
  result.alpha = Eigen::MatrixXd::Zero(m, genes);
  result.alpha.middleCols(my_genes.begin, my_genes.size()) = beta;
  engine::allreduce_sum(ctx, result.alpha);
  result.iterations = int(engine::allreduce_max(ctx, double(cg.iterations)));
  result.max_relative_residual = engine::allreduce_max(ctx, cg.max_relative_residual);
  result.converged = engine::allreduce_max(ctx, cg.converged ? 0.0 : 1.0) == 0.0;
  result.cg_seconds = since(start);
  return result;
}

}  // namespace tessera::solvers::ntk
