// The NTK kernel regression on a GPU: where ntk_device sends a solve, and the collective wrapper around the
// one-GPU exact solver (solvers/ntk/device/device_exact.h).
//
// The exact solve runs on one GPU: a solve shared by several ranks runs on the root rank's and the predictions
// are broadcast; folds that ranks solve alone (solves_alone, one per rank) run side by side, each on the GPU of
// its node-local rank. A kernel too large for the GPU's memory goes to the matrix-free solver, whose products
// run on every rank's GPU (solvers/ntk/device/device_block_product.h). The Nystrom solver runs on the CPU only.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "engine/device.h"
#include "io/perturbation_table.h"
#include "solvers/ntk/kernel/ntk_operator.h"
#include "solvers/ntk/solve/kernel_regression.h"

namespace tessera::solvers::ntk {

enum class DevicePlan {
  kCpu,         // no GPU: a CPU device, or auto with ntk_solver=nystrom
  kExact,       // the exact solver on the root rank's GPU: K fits its memory and no other solver is forced
  kMatrixFree,  // the matrix-free solver with every rank's GPU doing its kernel products
};

// Collective: how the solve of n pairs and `genes` right-hand sides uses `device` (the root rank's view, shared).
// ntk_solver=exact on a GPU too small for K, ntk_solver=nystrom with ntk_device=cuda, and ranks that disagree
// (some with a GPU, some without) throw tessera::Error with the fix on every rank.
// table_bytes: the rho tables' size on the device (rho_table_bytes), counted with K.
DevicePlan plan_device_solve(const engine::Context& ctx, const engine::Device& device, std::int64_t n,
                             std::int64_t genes, const KernelSolveParams& params, double table_bytes = 0);

// Collective: the predictions (genes x queries) of kernel_regression, computed on the root rank's device and
// broadcast. A failure on the device (out of memory, an indefinite kernel) throws tessera::Error on every rank.
Eigen::MatrixXd device_kernel_regression(const engine::Context& ctx, const engine::Device& device,
                                         const NtkOperator& kernel, const PairList& queries,
                                         const io::PerturbationTable& table,
                                         const std::vector<std::int64_t>& train_entries,
                                         const KernelSolveParams& params);

}  // namespace tessera::solvers::ntk
