#include "solvers/ntk/device_regression.h"

#include <string>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "solvers/ntk/device/device_exact.h"

namespace tessera::solvers::ntk {

DevicePlan plan_device_solve(const engine::Context& ctx, const engine::Device& device, std::int64_t n,
                             std::int64_t genes, const KernelSolveParams& params, double table_bytes) {
  const std::string knob = std::string("ntk_device=") + name_table(params.device).name(params.device);
  if (!engine::every_rank_on_cuda(ctx, device, knob)) return DevicePlan::kCpu;
  if (params.solver == KernelSolverRequest::kNystrom) {
    TESSERA_CHECK(params.device != engine::DeviceRequest::kCuda,
                  "ntk_device=cuda: the nystrom solver runs on the CPU only; use ntk_solver=exact, matrix_free or "
                  "auto, or ntk_device=cpu");
    return DevicePlan::kCpu;
  }
  if (params.solver == KernelSolverRequest::kMatrixFree) return DevicePlan::kMatrixFree;
  const double needed = device_exact_bytes(n, genes, table_bytes);
  double fits = ctx.is_root() && needed <= device.free_bytes ? 1 : 0;
  engine::broadcast(ctx, std::span<double>(&fits, 1));
  if (fits > 0) return DevicePlan::kExact;
  TESSERA_CHECK(params.solver != KernelSolverRequest::kExact, knob,
                " with ntk_solver=exact: the exact solve of N = ", n, " pairs needs about ", needed / 1e9,
                " GB of GPU memory and ", device.description(),
                " has less; use ntk_solver=auto or matrix_free (its products run on the GPU), or ntk_device=cpu");
  engine::info("ntk: K of N = ", n, " pairs needs ", needed / 1e9, " GB, more than ", device.description(),
               " has: the matrix-free solver runs with its kernel products on the GPU");
  return DevicePlan::kMatrixFree;
}

Eigen::MatrixXd device_kernel_regression(const engine::Context& ctx, const engine::Device& device,
                                         const NtkOperator& kernel, const PairList& queries,
                                         const io::PerturbationTable& table,
                                         const std::vector<std::int64_t>& train_entries,
                                         const KernelSolveParams& params) {
  const std::int64_t n = kernel.size(), genes = table.num_genes();
  Eigen::MatrixXd predicted = Eigen::MatrixXd::Zero(genes, queries.size());
  std::string failure;
  if (ctx.is_root()) {
    try {
      Eigen::MatrixXd rhs(n, genes);
      for (std::int64_t i = 0; i < n; ++i) rhs.row(i) = table.signature(train_entries[std::size_t(i)]).transpose();
      const auto solved = solve_exact_on_device(kernel.features(), kernel.pairs(), queries, kernel.shape(), rhs,
                                                exact_options_for(params));
      engine::info("ntk exact solve on ", device.description(), ": N = ", n, ", ", genes, " genes, ", queries.size(),
                   " queries; kernel ", solved.build_seconds, " s, Cholesky ", solved.factor_seconds, " s, solve ",
                   solved.solve_seconds, " s, predictions ", solved.predict_seconds, " s",
                   solved.jitter > 0 ? ", jitter " + std::to_string(solved.jitter) + " x mean diagonal" : "");
      predicted = solved.predictions;
    } catch (const Error& error) {
      failure = error.what();
    }
  }
  // The other ranks wait in these broadcasts: a failure on the root must reach them, or they would hang.
  engine::broadcast(ctx, failure);
  if (!failure.empty()) throw Error(failure);
  engine::broadcast(ctx, std::span<double>(predicted.data(), std::size_t(predicted.size())));
  return predicted;
}

}  // namespace tessera::solvers::ntk
