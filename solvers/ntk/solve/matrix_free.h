// Matrix-free solver of the kernel system (K + lambda I) X = Y for N too large to store K (N x N).
//
// Method: preconditioned conjugate gradients on all m right-hand sides (genes) at once, one independent CG per
// column sharing the kernel products (per-column step sizes), with the Nystrom preconditioner of
// solvers/ntk/solve/nystrom.h (Falkon-style centres and Cholesky factors, applied to the full system through
// Woodbury). K is only ever evaluated in tiles (solvers/ntk/solve/kernel_product.h) and never stored.
//
// Layout: X, Y and every CG block are row-sharded by engine::block_range(N, ranks, rank); y_local and
// x_local are this rank's rows x m, Eigen column-major. Every function marked collective must be called by all
// ranks of ctx with the same parameters.
//
// Memory (per rank, n = ceil(N / ranks), b = batch columns, M = centres, 8-byte doubles):
//   Y and X: 2 n m;  Nystrom B: n M;  CG blocks R, P and AP/Z: 3 n b;  ring pass: min(ranks - 1, 2) n b;
//   tiles: threads * tile_size^2. Columns are solved in batches of b (max_rhs_batch, or the widest batch that
//   fits memory_budget_bytes); each batch re-evaluates the kernel tiles, so wider batches are cheaper.
//
// Threads: tile evaluation and GEMM run on `threads` std::threads per rank, each owning whole row tiles of the
// product; the BLAS is pinned to one thread meanwhile. Results do not depend on the thread count.
//
// Convergence: column j stops when ||r_j|| / ||y_j|| <= tolerance (r_j the CG-recurrence residual). Columns
// that never converge are reported in the result (converged = false), not thrown. With check_true_residual
// the solver spends one more product per batch to report ||y_j - (K + lambda I) x_j|| / ||y_j||.
//
// Checkpoints (solvers/ntk/solve/cg_checkpoint.h): with checkpoint_path set, the state is written every
// checkpoint_every iterations, whenever should_stop asks to stop, and at the end; with resume, a run continues
// from the checkpoint and ends bit-identical to an uninterrupted run with the same rank count (any thread
// count). Resuming a finished run returns its result at once (plus the true-residual product); resuming one
// that ran out of iterations with a larger max_iterations continues its last batch. Use one checkpoint_path per
// problem (per fold): a checkpoint of another problem is an error when resume is set.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

struct MatrixFreeParams {
  double lambda = 0.0;               // added to K's diagonal; >= 0 (0 allowed: the NTK is positive definite)
  double tolerance = 1e-6;           // per column, relative residual ||r|| / ||y||
  int max_iterations = 1000;         // per column batch
  std::int64_t num_centres = 1000;   // Nystrom centres M (clipped to N); 0 = no preconditioner (plain CG)
  double preconditioner_shift = -1;  // mu - lambda of the preconditioner; < 0 = automatic (nystrom.h)
  std::uint64_t seed = 0;            // centre sampling
  std::int64_t tile_size = 2048;     // kernel tile side; >= 1
  std::int64_t max_rhs_batch = 0;    // columns per batch; 0 = as many as fit the memory budget
  double memory_budget_bytes = 0;    // per rank; 0 = min(80% physical, 90% available) / ranks on node
  int threads = 0;                   // worker threads per rank; 0 = hardware threads / ranks on the node
  bool check_true_residual = true;   // one more product per batch to report the true residual
  std::string checkpoint_path;       // empty = no checkpoints
  int checkpoint_every = 0;          // iterations between checkpoints; 0 = only when stopped
  bool resume = false;               // continue from checkpoint_path when it exists (else start afresh)

  // The fields users set, as the NTK imputers' knobs (KernelSolveParams declares them through this); the other
  // fields are set by code and checked in validate().
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("ntk_cg_tolerance", self.tolerance,
                         "NTK matrix-free: relative residual per gene at which PCG stops")
                .above(0.0)
                .below(1.0));
    declare(
        engine::knob("ntk_cg_max_iterations", self.max_iterations, "NTK matrix-free: most PCG iterations").at_least(1));
    declare(engine::knob("ntk_nystrom_centres", self.num_centres,
                         "NTK matrix-free: Nystrom preconditioner centres (0 = plain CG)")
                .at_least(0));
    declare(engine::knob("ntk_checkpoint_every", self.checkpoint_every,
                         "NTK matrix-free: PCG iterations between checkpoints (0 = only when stopped by a signal)")
                .at_least(0));
  }
  // Throws tessera::Error naming the first option out of range and its allowed range. Local.
  void validate() const;
};

// Column status in MatrixFreeResult::column_status.
enum class ColumnStatus : int { kNotFinished = 0, kConverged = 1, kBreakdown = 2 };

struct MatrixFreeResult {
  Eigen::MatrixXd x_local;                      // this rank's rows x m
  int iterations = 0;                           // the most iterations any column batch ran
  std::int64_t total_iterations = 0;            // iterations summed over batches (one product each)
  std::vector<int> column_iterations;           // per column: iterations until it converged (or stopped)
  std::vector<double> relative_residuals;       // per column: recurrence ||r|| / ||y|| (0 when y = 0)
  std::vector<double> true_relative_residuals;  // per column with check_true_residual, else empty
  std::vector<ColumnStatus> column_status;
  std::vector<double> max_residual_history;  // per iteration of this call: worst recurrence residual of
                                             // the columns active before it (batch after batch)
  bool converged = false;                    // every column reached the tolerance
  bool stopped = false;  // should_stop ended the run early (checkpointed when checkpoint_path is set)
  bool resumed = false;  // started from a checkpoint
  std::int64_t batch_columns = 0;
  int batches = 0;
  std::int64_t num_centres = 0;  // Nystrom centres used (0: plain CG)
  double preconditioner_mu = 0;  // lambda + shift actually used
  int threads = 0;
  double memory_bytes_planned = 0;   // per rank, from plan_matrix_free
  double seconds = 0;                // wall time of the call
  double setup_seconds = 0;          // preconditioner set-up
  double iteration_seconds = 0;      // total time in CG iterations (this call)
  double seconds_per_iteration = 0;  // iteration_seconds / iterations run in this call
  std::int64_t kernel_products = 0;  // (K + lambda I) P products, including the true-residual check
  double tile_cpu_seconds = 0;       // CPU seconds of this rank's threads in kernel tile evaluation
  double gemm_cpu_seconds = 0;       // CPU seconds of this rank's threads in the product's GEMMs
};

// How a solve will use memory: the batch width and the bytes per rank. Local.
struct MatrixFreePlan {
  std::int64_t batch_columns = 0;
  int batches = 0;
  std::int64_t num_centres = 0;
  int threads = 0;
  double bytes_per_rank = 0;  // with batch_columns
  double budget_bytes = 0;
  bool fits = false;  // bytes_per_rank <= budget_bytes
};

// Local: the plan for N rows, m columns on `ranks` ranks, with the budget and thread count already resolved
// (see default_memory_budget_bytes / default_threads). With max_rhs_batch = 0 the batch is the widest that
// fits (at least 1; fits = false when even one column does not).
MatrixFreePlan plan_matrix_free(std::int64_t n, std::int64_t m, int ranks, int threads, double budget_bytes,
                                const MatrixFreeParams& params);

// Local: the smaller of 80% of this node's physical memory and 90% of its available memory (MemAvailable),
// divided by the ranks on the node (plus what this rank already holds, such as Y); params.memory_budget_bytes
// wins. solve_matrix_free plans with the smallest
// budget over all ranks, so that every rank picks the same batches.
double default_memory_budget_bytes(const engine::Context& ctx, const MatrixFreeParams& params);
// Local: params.threads, or the hardware threads divided by the ranks on the node (at least 1).
int default_threads(const engine::Context& ctx, const MatrixFreeParams& params);

// Collective: solves (K + lambda I) X = Y. y_local holds this rank's block_range(N, ranks, rank) rows of Y
// (N = kernel.size()), m >= 1 columns, the same m on every rank; NaN or infinity in Y is an error.
// should_stop (optional) is polled on every rank before each iteration; when any rank says stop, all ranks
// checkpoint (if checkpoint_path is set) and return with stopped = true.
MatrixFreeResult solve_matrix_free(const engine::Context& ctx, const KernelOperator& kernel,
                                   const Eigen::MatrixXd& y_local, const MatrixFreeParams& params,
                                   const std::function<bool()>& should_stop = {});

}  // namespace tessera::solvers::ntk
