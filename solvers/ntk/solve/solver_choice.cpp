#include "solvers/ntk/solve/solver_choice.h"

#include "engine/error.h"
#include "solvers/ntk/solve/exact.h"

namespace tessera::solvers::ntk {

namespace {

double gib(double bytes) { return bytes / double(1ull << 30); }

}  // namespace

double exact_solver_bytes_per_rank(std::int64_t n, std::int64_t m, int ranks) {
  const double rows = double((n + ranks - 1) / ranks);
  return double(exact_kernel_bytes(n, ranks)) + 2.0 * 8.0 * rows * double(m);
}

const engine::NameTable<KernelSolverRequest>& name_table(KernelSolverRequest) {
  static const engine::NameTable<KernelSolverRequest> table{{KernelSolverRequest::kAuto, "auto"},
                                                            {KernelSolverRequest::kExact, "exact"},
                                                            {KernelSolverRequest::kMatrixFree, "matrix_free"}};
  return table;
}

KernelSolverChoice choose_kernel_solver(KernelSolverRequest solver, std::int64_t n, std::int64_t m, int ranks,
                                        int threads, double budget_bytes_per_rank,
                                        const MatrixFreeParams& matrix_free) {
  KernelSolverChoice choice;
  choice.budget_bytes_per_rank = budget_bytes_per_rank;
  choice.exact_bytes_per_rank = exact_solver_bytes_per_rank(n, m, ranks);
  const MatrixFreePlan plan = plan_matrix_free(n, m, ranks, threads, budget_bytes_per_rank, matrix_free);
  choice.matrix_free_bytes_per_rank = plan.bytes_per_rank;
  const bool exact_fits = choice.exact_bytes_per_rank <= budget_bytes_per_rank;
  const std::string sizes = detail::concat("exact needs ~", gib(choice.exact_bytes_per_rank),
                                           " GiB per rank, matrix-free ~", gib(plan.bytes_per_rank), " GiB (",
                                           plan.batches, " batch(es)), budget ", gib(budget_bytes_per_rank), " GiB");
  if (solver == KernelSolverRequest::kExact) {
    choice.kind = KernelSolverKind::kExact;
    choice.reason = detail::concat("exact solver forced; ", sizes, exact_fits ? "" : " -- may run out of memory");
  } else if (solver == KernelSolverRequest::kMatrixFree) {
    choice.kind = KernelSolverKind::kMatrixFree;
    choice.reason = detail::concat("matrix-free solver forced; ", sizes, plan.fits ? "" : " -- may run out of memory");
  } else {
    choice.kind = exact_fits ? KernelSolverKind::kExact : KernelSolverKind::kMatrixFree;
    choice.reason = detail::concat(
        exact_fits ? "exact solver: K fits in memory; " : "matrix-free solver: K does not fit in memory; ", sizes);
  }
  return choice;
}

}  // namespace tessera::solvers::ntk
