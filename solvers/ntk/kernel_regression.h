// The kernel-regression core shared by the NTK imputers: given a kernel over training pairs and the cross kernel
// to the queries, solve K X = Y_train for every gene at once and predict Y_query^T = K_cross^T X.
//
// Solver: params.solver (exact | matrix_free | auto, solvers/ntk/solver_choice.h). The matrix-free solve polls
// engine::stop_signalled() before every PCG iteration; with params.checkpoint_dir it then writes its state to
// <dir>/ntk_cg_<hash>.h5 (the hash names the problem: training rows, queries and the kernel's knobs) and throws
// engine::StopRequested on every rank; the same call later resumes from that file and returns the same bits.
//
// Collective over ctx: every rank passes the same arguments and gets the same genes x queries predictions. The
// training rows are sharded by engine::block_range; `cross` is called only for this rank's rows.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Dense>

#include "engine/context.h"
#include "io/perturbation_table.h"
#include "solvers/ntk/kernel_operator.h"
#include "solvers/ntk/ntk_imputer.h"

namespace tessera::solvers::ntk {

// out(r, c) = K(training row row0 + r, query q0 + c). Called from several threads at once.
using CrossKernel = std::function<void(std::int64_t row0, std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out)>;

// Collective. kernel.size() == train_entries.size(); the right-hand sides are table.values of train_entries,
// the result has one column per query (queries only name the problem for the checkpoint file).
Eigen::MatrixXd kernel_regression(const engine::Context& ctx, const KernelOperator& kernel, const CrossKernel& cross,
                                  const io::PerturbationTable& table, const std::vector<std::int64_t>& train_entries,
                                  const std::vector<std::int64_t>& queries, const NtkParams& params);

}  // namespace tessera::solvers::ntk
