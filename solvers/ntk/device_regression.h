// The NTK kernel regression on a GPU: where ntk_device sends a solve, and the collective wrapper around the
// one-GPU exact solver (solvers/ntk/device/device_exact.h).
//
// A solve shared by several ranks runs on the root rank's GPU and the predictions are broadcast; folds that ranks
// solve alone (solves_alone, one per rank) run side by side, each on the GPU of its node-local rank. The
// matrix-free and Nystrom solvers run on the CPU only, so ntk_device=cuda asks for the exact solver.
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

// Collective: whether the solve of n pairs and `genes` right-hand sides runs on `device` (the root rank's
// choice, shared). cpu: never. cuda: always, with tessera::Error when the kernel cannot fit the GPU or a CPU-only
// solver is forced. auto: when the device is a GPU, no CPU-only solver is forced, and K fits in its memory.
bool solve_on_device(const engine::Context& ctx, const engine::Device& device, std::int64_t n, std::int64_t genes,
                     const KernelSolveParams& params);

// Collective: the predictions (genes x queries) of kernel_regression, computed on the root rank's device and
// broadcast. A failure on the device (out of memory, an indefinite kernel) throws tessera::Error on every rank.
Eigen::MatrixXd device_kernel_regression(const engine::Context& ctx, const engine::Device& device,
                                         const NtkOperator& kernel, const PairList& queries,
                                         const io::PerturbationTable& table,
                                         const std::vector<std::int64_t>& train_entries,
                                         const KernelSolveParams& params);

}  // namespace tessera::solvers::ntk
