// Which kernel solver an NTK run uses: the exact one (the kernel matrix stored and factored, block-cyclic over
// the ranks; solvers/ntk/solve/exact.h) when it fits in memory and time, else the matrix-free one
// (solvers/ntk/solve/matrix_free.h) when it does, else the Nystrom estimator (solvers/ntk/solve/nystrom_regression.h),
// which is not the exact interpolant but costs O(N M^2) instead of O(N^3) or O(N^2 x iterations). The user can force
// any of them ("exact" | "matrix_free" | "nystrom"); "auto" decides from the memory per rank and the time limit.
//
// Time model (seconds; calibrated on BENCHMARKS.md's 2-core AMD EPYC VM, "NTK kernel regression"): a core evaluates
// kKernelEntriesPerCoreSecond = 75e6 NTK entries per second and runs kFlopsPerCoreSecond = 60e9 BLAS-3 flop/s
// (DPOTRF: 121 GFLOP/s on 2 cores). cores = ranks x threads.
//   exact:        N^2 / 2 entries + N^3 / 3 flops (Cholesky) + 2 N^2 genes flops (triangular solves);
//                 N = 20,000, 978 genes, 2 cores: 1.3 + 22 + 6.5 s (measured 1.55 + 22.1 + 6.7 s).
//   matrix-free:  iterations x (batches x N^2 entries + 2 N^2 genes flops) + set-up (N M entries, N M^2 flops);
//                 N = 100,000, 16 genes, 2 cores: 69 s per iteration (measured 70.0 s); N = 20,000, 64 genes:
//                 3.1 s (measured 3.09 s). iterations = min(ntk_cg_max_iterations, 31): 31 is the count measured
//                 to 1e-6 at N = 20,000 with 1,000 centres, the only converged bench row; harder kernels need more,
//                 so this is an optimistic estimate.
//   nystrom:      N M entries + N M^2 flops (SYRK) + 2 N M genes flops, over all cores; then on one rank's
//                 threads 6 M^3 flops (three M x M Cholesky factorisations, one SYRK, four M x M triangular solves)
//                 + 6 M^2 genes flops (six triangular solves of M x genes).
#pragma once

#include <cstdint>
#include <string>

#include "engine/parameters.h"
#include "solvers/ntk/solve/matrix_free.h"
#include "solvers/ntk/solve/nystrom_regression.h"

namespace tessera::solvers::ntk {

enum class KernelSolverKind { kExact, kMatrixFree, kNystrom };

// What the user asks for (ntk_solver): auto decides from the memory per rank and the time limit; the others force one.
enum class KernelSolverRequest { kAuto, kExact, kMatrixFree, kNystrom };
const engine::NameTable<KernelSolverRequest>& name_table(KernelSolverRequest);  // auto | exact | matrix_free | nystrom

struct KernelSolverChoice {
  KernelSolverKind kind = KernelSolverKind::kExact;
  double exact_bytes_per_rank = 0;        // estimate, see exact_solver_bytes_per_rank
  double matrix_free_bytes_per_rank = 0;  // from plan_matrix_free
  double nystrom_bytes_per_rank = 0;      // nystrom_bytes_per_rank
  double budget_bytes_per_rank = 0;
  double exact_seconds = 0;  // the time model above
  double matrix_free_seconds = 0;
  double nystrom_seconds = 0;
  double max_seconds = 0;  // the limit compared with; 0 = none
  std::string reason;      // one line for the log
};

// Local estimate of the exact solver's memory per rank: its kernel storage (exact_kernel_bytes,
// solvers/ntk/solve/exact.h) plus its shares of Y and X.
double exact_solver_bytes_per_rank(std::int64_t n, std::int64_t m, int ranks);

// The time model above, for n training pairs, m genes, `cores` cores in all (over `ranks` ranks). Local.
inline constexpr double kKernelEntriesPerCoreSecond = 75e6;
inline constexpr double kFlopsPerCoreSecond = 60e9;
inline constexpr int kMatrixFreeIterations = 31;
double exact_solver_seconds(std::int64_t n, std::int64_t m, int cores);
double matrix_free_solver_seconds(std::int64_t n, std::int64_t m, int cores, int batches, std::int64_t centres,
                                  int max_iterations);
double nystrom_solver_seconds(std::int64_t n, std::int64_t centres, std::int64_t m, int cores, int ranks);

// Local: auto picks exact when it fits the budget and max_seconds (0 = no limit), else matrix-free when it does,
// else nystrom; exact, matrix_free and nystrom force one (a forced choice that does not fit is reported in
// `reason`, not refused). nystrom.centres is clipped to n.
KernelSolverChoice choose_kernel_solver(KernelSolverRequest solver, std::int64_t n, std::int64_t m, int ranks,
                                        int threads, double budget_bytes_per_rank, const MatrixFreeParams& matrix_free,
                                        const NystromParams& nystrom = {}, double max_seconds = 0);

}  // namespace tessera::solvers::ntk
