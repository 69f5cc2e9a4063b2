// Nystrom kernel ridge regression in the style of Falkon (Rudi, Carratino, Rosasco 2017; Meanti et al. 2020): the
// NTK solver for N past what the exact solve (N^2 doubles) or the matrix-free solve (N^2 kernel entries per PCG
// iteration) can hold. The estimator is f(x) = sum_j alpha_j k(x, c_j) over M centres c_j drawn from the N training
// rows, with alpha (M x genes) minimising, for every gene at once,
//   (1/N) ||K_NM alpha - Y||^2 + lambda alpha^T K_MM alpha,   lambda = ridge * mean(diag K_MM) / N,
// i.e. the normal equations (G + ridge d K_MM) alpha = B, G = K_NM^T K_NM, B = K_NM^T Y, d = mean(diag K_MM).
// The ridge is written in units of the full system: with M = N (every row a centre) the equations become
// (K + ridge d I) alpha = Y, the exact solver's system with a relative diagonal ridge, so ridge -> 0 approaches
// the exact NTK interpolant and the knob means the same whatever N is.
//
// Why G is formed instead of Falkon's iteration: Falkon multiplies by K_NM^T K_NM inside every CG iteration,
// 4 N M genes flops plus N M kernel entries (re-evaluated, or N M doubles stored) per iteration. Forming G and B
// once costs N M^2 flops (one SYRK per tile) + 2 N M genes (GEMM) + N M kernel entries, i.e. as much as M / (4 genes)
// Falkon iterations: 1.3 at M = 5,000 and 5 at M = 20,000 for 978 genes, while Falkon needs tens of iterations. So
// for M below ~4 genes x iterations (tens of thousands) forming G wins, and after it every CG iteration costs
// O(M^2 genes), independent of N. One streamed pass over row tiles of K_NM (computed on the fly, never stored;
// this rank's engine::block_range rows; SYRK into G, GEMM into B; O(N M^2 / ranks) flops), one allreduce of M x M
// and M x genes, then all the rest is M x M work:
//   L L^T = K_MM + jitter I            (Falkon's T = L^T)
//   Lam Lam^T = L^T L / M + lambda I   (Falkon's A = Lam^T)
//   S = Lam^-1 L^-1 (G / N + lambda K_MM) L^-T Lam^-T,   c = Lam^-1 L^-1 B / N,
// then S beta = c and alpha = L^-T Lam^-T beta. S is Falkon's preconditioned operator, formed once (4 M^3 flops of
// triangular solves). Falkon runs CG on it; here S is explicit, so a Cholesky factorisation of S (M^3 / 3 flops) and
// two triangular solves (2 M^2 genes) replace the iterations: one CG iteration is one M x M by M x genes product,
// 2 M^2 genes flops, so the factorisation costs M / (6 genes) iterations (a third of one at M = 2,000), while CG took
// 25-35 iterations at ridge 1e-6 (N = 4,898, M = 1,000-2,000: CG 6.3 s against a 3.2 s pass). Because S is the
// preconditioned, well-scaled matrix (S ~ I when the centres cover the data; S = I with M = N and no jitter), its
// Cholesky does not suffer the squared condition number of G + lambda N K_MM. When S is not numerically positive
// definite (ridge 0 with redundant centres), per-gene CG (per-gene step sizes) on S runs instead (also with
// params.direct = false), to params.tolerance. Either way the genes are shared out over the ranks (block_range): no
// messages until alpha is summed.
//
// Numerics with a small ridge: (1) every factor is of a well-scaled matrix: G and B are divided by N (entries
// O(k^2), whatever N), lambda is relative to the kernel's diagonal; (2) K_MM gets Falkon's jitter, machine
// epsilon x trace(K_MM), multiplied by 100 while the Cholesky fails (near-duplicate centres), with a warning;
// (3) A = chol(T T^T / M + lambda I) exists even for ridge = 0 because T is nonsingular; (4) no Cholesky of
// G + lambda K_MM is taken (that matrix has K's condition number squared), only of S, with CG (which needs S
// only positive semi-definite) when that fails. G, K_MM and B are made identical
// on every rank (rank 0's copy) after the allreduce, so every decision agrees everywhere. The default ridge
// (1e-6) is far above the rounding floor of G (epsilon ~ 2e-16 relative) and far below the NTK's own smallest
// eigenvalues (the one-hot term keeps them O(0.1) relative to the diagonal), so it costs ~1e-5 relative in the
// predictions.
//
// Centres (ntk_centre_sampling), sorted training rows, the same on every rank and for any rank count:
//   uniform   without replacement (NystromPreconditioner::sample_centres, engine::RandomStream(seed,
//             "ntk/nystrom-centres")).
//   leverage  without replacement in proportion to approximate ridge leverage scores (solvers/ntk/solve/
//             leverage_scores.h: a uniform pilot of min(N, M) rows, one extra pass over the rows as costly as the
//             solver's own), so that rows the others explain poorly (small or far-away groups of pairs) get
//             centres that uniform sampling would leave them without.
// The leverage ridge t = leverage_ridge x d (ntk_leverage_ridge, d the mean diagonal) is not the solver's ridge: at
// 1e-6 every score is ~1 (d_eff(t) ~ N) and leverage sampling is uniform sampling; at a large one every score tends
// to k_ii / t, the diagonal, uniform again for the NTK (whose diagonal is nearly constant). The scores discriminate
// in between, and the default 1 (t = d, one row's own variance) sits there: a row with no look-alikes scores ~1,
// one of many ~0, and the NTK's one-hot term (an own part of ~0.1 d in every row, its eigenvalue floor) adds only
// ~0.1 to every score. On two clusters of 560 and 40 rows (test_leverage_scores), ridge 1 gave the small cluster the
// most centres and the lowest errors of 1, 3, 15 and 50 (10.9 of 40 centres, rms 0.36 against uniform's 2.9 and
// 0.64). On ntk_nystrom_bench's synthetic screen, where every pair has many look-alikes, it changes little (r vs
// exact at M = 1,000 / 2,000: N = 9,866 0.9151 / 0.9567 uniform, 0.9126 / 0.9562 leverage; N = 19,733 0.8834 /
// 0.9342 uniform, 0.8873 / 0.9336 leverage; ridge 3, where d_eff(t) ~ M, within 0.0005 of ridge 1), which is why
// uniform stays the default sampling.
//
// Memory per rank (nystrom_bytes_per_rank): G (then S), K_MM, L, Lam and the factor of S as M x M (counted as 5 M^2
// doubles; at most 4 are alive at once), B and
// alpha M x genes, this rank's Y rows, one kernel tile rows_per_tile x M. Leverage sampling runs before all of it
// and frees what it used: the pilot factor (M x M), one tile, and the N scores with their keys and indices; the
// larger of the two phases is counted.
//
// Collective over ctx; fixed seed, same rank count: bit-identical results (any thread count: tiles are computed
// per entry and BLAS calls do not depend on the thread split of the tile evaluation).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

enum class CentreSampling { kUniform, kLeverage };
const engine::NameTable<CentreSampling>& name_table(CentreSampling);  // uniform, leverage

struct NystromParams {
  std::int64_t centres = 5000;  // M, clipped to N
  CentreSampling sampling = CentreSampling::kUniform;
  double ridge = 1e-6;         // relative to mean(diag K); the full-system ridge (see above); >= 0
  double leverage_ridge = 1;   // leverage sampling's ridge relative to mean(diag K) (see above); > 0
  bool direct = true;          // Cholesky of S; false = CG (tests); CG also when S is not numerically definite
  double tolerance = 1e-10;    // CG on S: relative residual per gene
  int max_iterations = 500;    // CG on S
  std::uint64_t seed = 0;      // centre sampling
  int threads = 0;             // kernel tile threads per rank; 0 = hardware threads / ranks on the node
  std::int64_t tile_rows = 0;  // rows per kernel tile; 0 = about 256 MB of tile, in [256, 4096]

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("ntk_centres", self.centres,
                         "NTK nystrom: Nystrom centres M of the nystrom solver (clipped to the training pairs)")
                .in(1, 1000000));
    declare(engine::knob("ntk_centre_sampling", self.sampling,
                         "NTK nystrom: how centres are drawn: uniform, or leverage (in proportion to approximate "
                         "ridge leverage scores; one extra pass over the rows)"));
    declare(engine::knob("ntk_nystrom_ridge", self.ridge,
                         "NTK nystrom: ridge, relative to the kernel's mean diagonal, of the equivalent full system "
                         "(with M = N it solves (K + ridge I) alpha = Y)")
                .in(0.0, 1.0));
    declare(engine::knob("ntk_leverage_ridge", self.leverage_ridge,
                         "NTK nystrom: ridge of the leverage scores (ntk_centre_sampling leverage), relative to the "
                         "kernel's mean diagonal (smaller: scores nearer 1, sampling nearer uniform)")
                .above(0.0)
                .at_most(1e6));
  }
  // Throws tessera::Error naming the first bad knob or field.
  void validate() const;
};

struct NystromResult {
  Eigen::MatrixXd alpha;              // M x genes, the same on every rank
  std::vector<std::int64_t> centres;  // sorted training-row indices
  double lambda = 0;                  // ridge * d / N, Falkon's lambda
  double jitter = 0;                  // added to K_MM's diagonal
  bool direct = false;                // solved by Cholesky of S (else CG)
  int iterations = 0;                 // most CG iterations of any gene (0 when direct)
  bool converged = false;             // every gene reached the tolerance (all ranks)
  double max_relative_residual = 0;   // over genes, of CG on S
  double pass_seconds = 0;            // kernel tiles, SYRK and GEMM, allreduce
  double factor_seconds = 0;          // L, Lam, S
  double cg_seconds = 0;              // S beta = c, either way
  std::int64_t tile_rows = 0;
};

// Rows per kernel tile for M centres (params.tile_rows, or ~256 MB of tile clamped to [256, 4096]). Local.
std::int64_t nystrom_tile_rows(std::int64_t centres, const NystromParams& params);

// Bytes one rank holds for N rows, M centres (already clipped), `genes` right-hand sides, `ranks` ranks: five
// M x M matrices, B and alpha, this rank's Y rows and one tile; with leverage sampling, at least its own phase
// (the M x M pilot factor, one tile and 3 N numbers). Local.
double nystrom_bytes_per_rank(std::int64_t n, std::int64_t centres, std::int64_t genes, int ranks,
                              const NystromParams& params = {});

// Collective. y_local: this rank's engine::block_range(N, ranks, rank) rows of Y (N = kernel.size()), genes
// columns, the same on every rank; NaN in Y is an error. params.centres is clipped to N.
NystromResult solve_nystrom(const engine::Context& ctx, const KernelOperator& kernel, const Eigen::MatrixXd& y_local,
                            const NystromParams& params);

}  // namespace tessera::solvers::ntk
