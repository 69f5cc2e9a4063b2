#include "solvers/ntk/solve/nystrom.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <span>
#include <unordered_set>

#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/random.h"
#include "solvers/ntk/solve/parallel_for.h"

namespace tessera::solvers::ntk {

namespace {

// Work granularity: kernel columns are evaluated and BLAS calls are issued per chunk of this many rows, and
// M x M products per panel of kPanel columns. Fixed sizes (not derived from the thread count) keep every
// entry's summation order independent of the number of threads.
constexpr std::int64_t kRowChunk = 4096;
constexpr std::int64_t kPanel = 128;
constexpr int kJitterAttempts = 7;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Every rank takes rank 0's copy, so decisions made from it (Cholesky success, jitter) agree everywhere.
void make_identical(const engine::Context& ctx, Eigen::MatrixXd& matrix) {
  engine::broadcast(ctx, std::span<double>(matrix.data(), std::size_t(matrix.size())));
}

}  // namespace

std::vector<std::int64_t> NystromPreconditioner::sample_centres(std::int64_t n, std::int64_t m, std::uint64_t seed) {
  TESSERA_CHECK(m >= 0 && m <= n, "Nystrom centres: cannot draw ", m, " distinct centres from ", n, " rows");
  engine::RandomStream stream(seed, "ntk/nystrom-centres");
  // Floyd: for j = n-m .. n-1 draw t in [0, j]; take t unless taken, else j. Uniform over m-subsets.
  std::unordered_set<std::int64_t> taken;
  taken.reserve(std::size_t(m) * 2);
  std::vector<std::int64_t> chosen;
  chosen.reserve(std::size_t(m));
  for (std::int64_t j = n - m; j < n; ++j) {
    const auto t = std::int64_t(stream.uniform_int(std::uint64_t(j + 1)));
    const std::int64_t pick = taken.count(t) ? j : t;
    taken.insert(pick);
    chosen.push_back(pick);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

std::int64_t NystromPreconditioner::bytes(std::int64_t local_rows, std::int64_t centres, std::int64_t cols) {
  return 8 * (local_rows * centres + 4 * centres * centres + centres * cols);
}

NystromPreconditioner::NystromPreconditioner(const engine::Context& ctx, const KernelOperator& kernel,
                                             std::int64_t num_centres, double lambda, double shift, std::uint64_t seed,
                                             int threads)
    : ctx_(ctx),
      mine_(engine::block_range(kernel.size(), ctx.size(), ctx.rank())),
      threads_(std::max(1, threads)),
      lambda_(lambda) {
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t n = kernel.size();
  TESSERA_CHECK(num_centres >= 1 && num_centres <= n, "Nystrom preconditioner: num_centres = ", num_centres,
                " must lie in [1, N = ", n, "]");
  TESSERA_CHECK(lambda >= 0 && std::isfinite(lambda), "Nystrom preconditioner: lambda = ", lambda,
                " must be finite and >= 0");
  centres_ = sample_centres(n, num_centres, seed);
  const std::int64_t m = num_centres, rows = mine_.size();

  // K[my rows, centres], one kernel column at a time.
  b_.resize(rows, m);
  const std::int64_t chunks = ceil_div(rows, kRowChunk);
  parallel_for(m * chunks, threads_, [&](std::int64_t item, int) {
    const std::int64_t j = item / chunks, r0 = (item % chunks) * kRowChunk;
    const std::int64_t nr = std::min(kRowChunk, rows - r0);
    Eigen::Map<Eigen::MatrixXd> column(b_.data() + j * rows + r0, nr, 1);
    kernel.tile(mine_.begin + r0, centres_[std::size_t(j)], column);
  });

  // K_MM from the rows of the centres each rank holds.
  Eigen::MatrixXd kmm = Eigen::MatrixXd::Zero(m, m);
  for (std::int64_t a = 0; a < m; ++a) {
    const std::int64_t c = centres_[std::size_t(a)];
    if (mine_.contains(c)) kmm.row(a) = b_.row(c - mine_.begin);
  }
  engine::allreduce_sum(ctx, kmm);
  make_identical(ctx, kmm);
  kmm = 0.5 * (kmm + kmm.transpose()).eval();

  // L L^T = K_MM + jitter I. Falkon's jitter (machine epsilon times the trace), raised while it fails: centres
  // that are (near) duplicates make K_MM singular.
  const double trace = kmm.trace();
  jitter_ = std::numeric_limits<double>::epsilon() * std::max(trace, std::numeric_limits<double>::min());
  Eigen::LLT<Eigen::MatrixXd> llt;
  for (int attempt = 0;; ++attempt) {
    Eigen::MatrixXd shifted = kmm;
    shifted.diagonal().array() += jitter_;
    llt.compute(shifted);
    if (llt.info() == Eigen::Success) break;
    TESSERA_CHECK(attempt + 1 < kJitterAttempts, "Nystrom preconditioner: K_MM of ", m,
                  " centres is not positive definite even with jitter ", jitter_,
                  "; the kernel is not positive semi-definite or has NaNs; check the kernel or lower num_centres");
    jitter_ *= 100;
  }
  if (jitter_ > std::numeric_limits<double>::epsilon() * trace)
    engine::warn("Nystrom preconditioner: K_MM needed jitter ", jitter_, " (near-duplicate centres?)");
  const Eigen::MatrixXd lower = llt.matrixL();

  // B = K_NM L^-T, by row chunks.
  parallel_for(chunks, threads_, [&](std::int64_t c, int) {
    const std::int64_t r0 = c * kRowChunk, nr = std::min(kRowChunk, rows - r0);
    engine::blas::solve_right_lower_transposed(nr, m, lower.data(), m, b_.data() + r0, rows);
  });

  // diag(E) = K_ii - ||B_i||^2: the automatic shift and a report of how much the Nystrom part misses.
  double local_max_residual = 0, local_max_diagonal = 0;
  for (std::int64_t i = 0; i < rows; ++i) {
    const double kii = kernel.diagonal(mine_.begin + i);
    local_max_diagonal = std::max(local_max_diagonal, kii);
    local_max_residual = std::max(local_max_residual, kii - b_.row(i).squaredNorm());
  }
  max_residual_ = engine::allreduce_max(ctx, local_max_residual);
  const double max_diagonal = engine::allreduce_max(ctx, local_max_diagonal);
  if (shift < 0) {
    // A floor keeps the Woodbury form away from dividing by ~0 when the centres cover (almost) every row.
    mu_ = lambda + std::max(max_residual_, 1e-10 * max_diagonal);
  } else {
    mu_ = lambda + shift;
    TESSERA_CHECK(mu_ > 0, "Nystrom preconditioner: lambda + preconditioner_shift must be > 0 (got lambda = ", lambda,
                  ", shift = ", shift, "); use a positive shift or the automatic one (shift < 0)");
  }

  // H = mu I + B^T B, summed over ranks, by column panels.
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(m, m);
  parallel_for(ceil_div(m, kPanel), threads_, [&](std::int64_t p, int) {
    const std::int64_t c0 = p * kPanel, nc = std::min(kPanel, m - c0);
    engine::blas::gemm('T', 'N', m, nc, rows, 1.0, b_.data(), rows, b_.data() + c0 * rows, rows, 0.0, h.data() + c0 * m,
                       m);
  });
  engine::allreduce_sum(ctx, h);
  make_identical(ctx, h);
  h = 0.5 * (h + h.transpose()).eval();
  h.diagonal().array() += mu_;
  Eigen::LLT<Eigen::MatrixXd> h_llt(h);
  TESSERA_CHECK(h_llt.info() == Eigen::Success,
                "Nystrom preconditioner: mu I + B^T B is not positive definite (mu = ", mu_,
                "); the kernel has NaNs or is not positive semi-definite");
  h_lower_ = h_llt.matrixL();
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void NystromPreconditioner::apply(const double* r, std::int64_t cols, double* z) const {
  const std::int64_t m = num_centres(), rows = mine_.size();
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(m, cols);
  parallel_for(ceil_div(m, kPanel), threads_, [&](std::int64_t p, int) {
    const std::int64_t c0 = p * kPanel, nc = std::min(kPanel, m - c0);
    engine::blas::gemm('T', 'N', nc, cols, rows, 1.0, b_.data() + c0 * rows, rows, r, rows, 0.0, w.data() + c0, m);
  });
  engine::allreduce_sum(ctx_, w);
  engine::blas::solve_left_lower('N', m, cols, h_lower_.data(), m, w.data(), m);
  engine::blas::solve_left_lower('T', m, cols, h_lower_.data(), m, w.data(), m);
  std::copy(r, r + rows * cols, z);
  const double inverse_mu = 1.0 / mu_;
  parallel_for(ceil_div(rows, kRowChunk), threads_, [&](std::int64_t c, int) {
    const std::int64_t r0 = c * kRowChunk, nr = std::min(kRowChunk, rows - r0);
    engine::blas::gemm('N', 'N', nr, cols, m, -1.0, b_.data() + r0, rows, w.data(), m, 1.0, z + r0, rows);
    for (std::int64_t j = 0; j < cols; ++j)
      for (std::int64_t i = r0; i < r0 + nr; ++i) z[j * rows + i] *= inverse_mu;
  });
}

}  // namespace tessera::solvers::ntk
