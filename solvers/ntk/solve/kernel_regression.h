// Kernel regression for any positive-definite kernel: given a kernel over training pairs and the cross kernel to
// the queries, solve K X = Y_train for every gene at once and predict Y_query^T = K_cross^T X. Nothing here
// knows the NTK: the NTK imputers (solvers/ntk/ntk_imputer.h) supply the kernel, and a GPU or large-N solver
// plugs in beside solvers/ntk/solve/exact.h and matrix_free.h.
//
// Solver: params.solver (exact | matrix_free | nystrom | auto, solvers/ntk/solve/solver_choice.h), within
// params.memory_gb per rank and params.max_minutes. The nystrom solver (solvers/ntk/solve/nystrom_regression.h)
// predicts from its M centres only: the cross kernel is evaluated at the centres' rows (cross_at), M x queries
// entries instead of N x queries. The matrix-free solve polls engine::stop_signalled() before every PCG iteration; with
// params.checkpoint_dir it then writes its state to <dir>/ntk_cg_<hash>.h5 (the hash names the problem: training
// rows, queries and the caller's kernel label) and throws engine::StopRequested on every rank; the same call later
// resumes from that file and returns the same bits.
//
// Collective over ctx: every rank passes the same arguments and gets the same genes x queries predictions. The
// training rows are sharded by engine::block_range; `cross` is called only for this rank's rows.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "engine/device.h"
#include "engine/parameters.h"
#include "io/perturbation_table.h"
#include "solvers/ntk/solve/exact.h"
#include "solvers/ntk/solve/kernel_operator.h"
#include "solvers/ntk/solve/matrix_free.h"
#include "solvers/ntk/solve/nystrom_regression.h"
#include "solvers/ntk/solve/solver_choice.h"

namespace tessera::solvers::ntk {

// How the kernel system is solved: what the solvers need, whatever the kernel. Its knobs (ntk_*) are offered by
// the NTK imputers (NtkParams declares them through declare_knobs).
struct KernelSolveParams {
  KernelSolverRequest solver = KernelSolverRequest::kAuto;
  // Where the solve runs (solvers/ntk/device_regression.h): cuda runs the exact solver on this rank's GPU, auto
  // does so when a GPU is visible and K fits in its memory. cpu by default until the GPU path has been measured
  // on a GPU (scripts/gpu_check.sh).
  engine::DeviceRequest device = engine::DeviceRequest::kCpu;
  // The one memory budget per rank, in GB (1e9 bytes): auto picks the exact solver when it fits, and the
  // matrix-free solver sizes its batches of genes to it. 0 = automatic: auto compares with half of the node's
  // memory over its ranks; the matrix-free solver uses its own default (solve/matrix_free.h).
  double memory_gb = 0.0;
  // Wall-clock limit for the solve in minutes, for ntk_solver=auto (0 = none): a solver whose estimated time
  // (the model in solvers/ntk/solve/solver_choice.h) exceeds it is passed over for the next one.
  double max_minutes = 0.0;
  double jitter = 1e-10;       // exact: first relative jitter tried when the Cholesky factorisation fails
  int block_size = 128;        // exact: ScaLAPACK block size
  std::string checkpoint_dir;  // matrix-free: folder of CG checkpoints (one file per problem); empty = none
  MatrixFreeParams matrix_free;
  NystromParams nystrom;

  // Every knob, each range written once: jitter and block_size by ExactOptions (which gets their values), the
  // matrix-free knobs by MatrixFreeParams, so ntk_checkpoint_dir (this struct's) follows them in --help; the
  // nystrom solver's by NystromParams, last.
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("ntk_solver", self.solver, "NTK: kernel solver"));
    declare(engine::knob("ntk_device", self.device,
                         "NTK: where the kernel is solved: cpu, cuda (exact solver on this rank's GPU) or auto (cuda "
                         "when a GPU is visible and the kernel fits in its memory)"));
    declare(engine::knob("ntk_memory_gb", self.memory_gb,
                         "NTK: kernel memory per rank for ntk_solver=auto (GB; 0 = half of RAM / ranks per node)")
                .at_least(0.0));
    declare(engine::knob("ntk_max_minutes", self.max_minutes,
                         "NTK: time limit of the kernel solve for ntk_solver=auto, in minutes (0 = none); beyond it "
                         "auto picks a faster solver")
                .at_least(0.0));
    ExactOptions::declare_knobs(self, declare);
    MatrixFreeParams::declare_knobs(self.matrix_free, declare);
    declare(engine::knob("ntk_checkpoint_dir", self.checkpoint_dir,
                         "NTK matrix-free: folder for CG checkpoints, one per fold; a run stopped by a signal resumes "
                         "from them"));
    NystromParams::declare_knobs(self.nystrom, declare);
  }
  // Throws tessera::Error naming the bad knob (as ntk_<name>, the names users set) and its allowed values, or the
  // bad field of matrix_free that is not a knob.
  void validate() const;
};

// The exact solvers' options (CPU and GPU) from the knobs. Local.
ExactOptions exact_options_for(const KernelSolveParams& params);

// The memory budget auto compares with, in bytes: params.memory_gb, or half of this rank's share of the node's
// physical memory (engine::Context::physical_memory_per_rank). Local.
double kernel_solve_budget_bytes(const engine::Context& ctx, const KernelSolveParams& params);

// Whether a system of n training pairs and `genes` right-hand sides is best solved by each rank on its own (one
// cross-validation fold per rank, side by side) rather than by the ranks of ctx together: true when the exact
// solve on one rank fits that rank's budget, unless the matrix-free solver is asked for. On one node, a solve
// that fits one rank is slower spread over ranks: ScaLAPACK's messages cost more than the arithmetic they share
// (BENCHMARKS.md: the 10-fold NTK on the 2,433-signature LINCS2020 table). Local.
bool solves_alone(const engine::Context& ctx, std::int64_t n, std::int64_t genes, const KernelSolveParams& params);

// The matrix-free solver's settings for one problem: params.matrix_free within the one memory budget, and with a
// checkpoint folder a file named by a hash of what defines the problem (training rows, queries, kernel_label), so
// that every fold of a cross-validation has its own checkpoint and a changed setting starts afresh instead of
// meeting a foreign one. Makes the checkpoint folder. Local.
MatrixFreeParams matrix_free_params_for(const KernelSolveParams& params, const std::vector<std::int64_t>& train_entries,
                                        const std::vector<std::int64_t>& queries, std::string_view kernel_label);

// out(r, c) = K(training row row0 + r, query q0 + c). Called from several threads at once.
using CrossKernel = std::function<void(std::int64_t row0, std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out)>;

// out(r, c) = K(training row rows[r], query q0 + c), for scattered training rows (the Nystrom centres). Called from
// several threads at once.
using CrossKernelAt =
    std::function<void(std::span<const std::int64_t> rows, std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out)>;

// Collective. kernel.size() == train_entries.size(); the right-hand sides are the signatures of train_entries,
// the result has one column per query. kernel_label holds bytes that name the kernel (anything that changes K
// must change them); with the training rows and the queries it names the problem's checkpoint file. cross_at
// (optional) gives the nystrom solver the cross kernel at its centres in one call; without it each centre's row
// is one call of `cross`.
Eigen::MatrixXd kernel_regression(const engine::Context& ctx, const KernelOperator& kernel, const CrossKernel& cross,
                                  const io::PerturbationTable& table, const std::vector<std::int64_t>& train_entries,
                                  const std::vector<std::int64_t>& queries, const KernelSolveParams& params,
                                  std::string_view kernel_label, const CrossKernelAt& cross_at = {});

}  // namespace tessera::solvers::ntk
