// The exact kernel-regression solve K X = B by Cholesky, with every right-hand side (all genes) at once.
//
// One rank: the lower triangle of K is built tile by tile into one N x N column-major matrix and factored by
// LAPACK (OpenBLAS DPOTRF / DPOTRS, threaded). Several ranks: K is built straight into ScaLAPACK's 2-D
// block-cyclic layout (engine/scalapack.h), each rank evaluating only the tiles it owns in the lower triangle,
// and factored by PDPOTRF / PDPOTRS; B and X move between row blocks and block-cyclic layout by one all-to-all.
// Tiles are built, and OpenBLAS runs, with this rank's share of the node's cores (cores / ranks on the node).
//
// A kernel that is not numerically positive definite (duplicate training rows with no one-hot term, or rows so
// alike that rounding wins) makes the plain factorisation fail, or leaves a pivot^2 below N eps x mean diagonal
// (then it counts as failed too). The solver then warns and retries with a jitter:
// jitter x mean(diag K) added to the diagonal, starting at options.jitter and growing by jitter_growth up to
// max_jitter, and reports the jitter it used. NaN in K is an error, not a reason to add jitter.
//
// Memory per rank: about N^2 / ranks doubles for K (the whole upper triangle is allocated, as ScaLAPACK wants),
// plus the rank's share of B.
#pragma once

#include <cstdint>

#include "engine/context.h"
#include "engine/parameters.h"
#include "engine/sharded_matrix.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

struct ExactOptions {
  double jitter = 1e-10;          // first relative jitter tried after a failed factorisation
  double jitter_growth = 100;     // factor between attempts (> 1)
  double max_jitter = 1e-4;       // give up (tessera::Error) beyond this relative jitter (>= jitter)
  std::int64_t block_size = 128;  // ScaLAPACK block (and tile) size

  // The knobs ntk_jitter and ntk_block_size, each range written here once. Self is ExactOptions or a struct with
  // the same jitter and block_size members: KernelSolveParams declares its own (copied here) through this.
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("ntk_jitter", self.jitter, "NTK: first relative diagonal jitter tried if Cholesky fails")
                .above(0.0)
                .below(1.0));
    declare(
        engine::knob("ntk_block_size", self.block_size, "NTK: ScaLAPACK block size of the exact solver, usually 64-256")
            .in(1, 4096));
  }
  // Throws tessera::Error naming the bad field.
  void validate() const;
};

struct ExactResult {
  engine::RowShardedMatrix solution;  // X = K^-1 B: N x B.cols(), row blocks as B
  double jitter = 0.0;                // relative jitter of the factorisation used (0: none was needed)
  double diagonal_shift = 0.0;        // what was added to each diagonal entry: jitter x mean(diag K)
  int factorisations = 0;             // Cholesky attempts, 1 when the kernel was positive definite
  double min_pivot_squared = 0.0;     // smallest L_ii^2 / mean(diag K): a lower bound's proxy of conditioning
  double build_seconds = 0.0;         // kernel tiles, summed over attempts
  double factor_seconds = 0.0;
  double solve_seconds = 0.0;      // triangular solves plus moving B and X
  std::int64_t kernel_values = 0;  // doubles of kernel storage on this rank
};

// Collective over ctx: every rank passes the same kernel (same N) and its row block of B (N x nrhs, made on
// ctx). Throws tessera::Error when the kernel has NaN or stays indefinite up to max_jitter.
ExactResult solve_exact(const engine::Context& ctx, const KernelOperator& kernel, const engine::RowShardedMatrix& rhs,
                        const ExactOptions& options = {});

// Bytes of kernel storage on the most loaded rank for N pairs on `ranks` ranks. Local.
std::int64_t exact_kernel_bytes(std::int64_t n, int ranks, std::int64_t block_size = 128);

}  // namespace tessera::solvers::ntk
