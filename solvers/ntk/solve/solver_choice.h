// Which kernel solver an NTK run uses: the exact one (the kernel matrix stored and factored, block-cyclic over
// the ranks; solvers/ntk/solve/exact.h) when it fits in memory, else the matrix-free one
// (solvers/ntk/solve/matrix_free.h). The user can force either ("exact" | "matrix_free"); "auto" decides from the
// memory per rank.
#pragma once

#include <cstdint>
#include <string>

#include "engine/parameters.h"
#include "solvers/ntk/solve/matrix_free.h"

namespace tessera::solvers::ntk {

enum class KernelSolverKind { kExact, kMatrixFree };

// What the user asks for (ntk_solver): auto decides from the memory per rank; exact and matrix_free force one.
enum class KernelSolverRequest { kAuto, kExact, kMatrixFree };
const engine::NameTable<KernelSolverRequest>& name_table(KernelSolverRequest);  // auto | exact | matrix_free

struct KernelSolverChoice {
  KernelSolverKind kind = KernelSolverKind::kExact;
  double exact_bytes_per_rank = 0;        // estimate, see exact_solver_bytes_per_rank
  double matrix_free_bytes_per_rank = 0;  // from plan_matrix_free
  double budget_bytes_per_rank = 0;
  std::string reason;  // one line for the log
};

// Local estimate of the exact solver's memory per rank: its kernel storage (exact_kernel_bytes,
// solvers/ntk/solve/exact.h) plus its shares of Y and X.
double exact_solver_bytes_per_rank(std::int64_t n, std::int64_t m, int ranks);

// Local: auto picks exact when its estimate fits the budget (it is faster and exact), else matrix-free;
// exact and matrix_free force one (a forced choice that does not fit is reported in `reason`, not refused).
KernelSolverChoice choose_kernel_solver(KernelSolverRequest solver, std::int64_t n, std::int64_t m, int ranks,
                                        int threads, double budget_bytes_per_rank, const MatrixFreeParams& matrix_free);

}  // namespace tessera::solvers::ntk
