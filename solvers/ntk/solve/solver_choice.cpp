#include "solvers/ntk/solve/solver_choice.h"

#include <algorithm>

#include "engine/error.h"
#include "solvers/ntk/solve/exact.h"

namespace tessera::solvers::ntk {

namespace {

double gib(double bytes) { return bytes / double(1ull << 30); }
double minutes(double seconds) { return seconds / 60.0; }

}  // namespace

double exact_solver_bytes_per_rank(std::int64_t n, std::int64_t m, int ranks) {
  const double rows = double((n + ranks - 1) / ranks);
  return double(exact_kernel_bytes(n, ranks)) + 2.0 * 8.0 * rows * double(m);
}

double exact_solver_seconds(std::int64_t n, std::int64_t m, int cores) {
  const double nn = double(n), c = double(std::max(cores, 1));
  return 0.5 * nn * nn / (kKernelEntriesPerCoreSecond * c) +
         (nn * nn * nn / 3.0 + 2.0 * nn * nn * double(m)) / (kFlopsPerCoreSecond * c);
}

double matrix_free_solver_seconds(std::int64_t n, std::int64_t m, int cores, int batches, std::int64_t centres,
                                  int max_iterations) {
  const double nn = double(n), c = double(std::max(cores, 1)), k = double(std::min(centres, n));
  const double iterations = double(std::min(max_iterations, kMatrixFreeIterations));
  const double per_iteration = double(std::max(batches, 1)) * nn * nn / (kKernelEntriesPerCoreSecond * c) +
                               2.0 * nn * nn * double(m) / (kFlopsPerCoreSecond * c);
  const double setup = nn * k / (kKernelEntriesPerCoreSecond * c) + nn * k * k / (kFlopsPerCoreSecond * c);
  return iterations * per_iteration + setup;
}

double nystrom_solver_seconds(std::int64_t n, std::int64_t centres, std::int64_t m, int cores, int ranks) {
  const double nn = double(n), c = double(std::max(cores, 1)), k = double(std::min(centres, n)), g = double(m);
  // The M x M work (factors, S) is repeated on every rank, not spread: it uses one rank's threads.
  const double rank_cores = std::max(c / double(std::max(ranks, 1)), 1.0);
  return nn * k / (kKernelEntriesPerCoreSecond * c) + (nn * k * k + 2.0 * nn * k * g) / (kFlopsPerCoreSecond * c) +
         (6.0 * k * k * k + 6.0 * k * k * g) / (kFlopsPerCoreSecond * rank_cores);
}

const engine::NameTable<KernelSolverRequest>& name_table(KernelSolverRequest) {
  static const engine::NameTable<KernelSolverRequest> table{{KernelSolverRequest::kAuto, "auto"},
                                                            {KernelSolverRequest::kExact, "exact"},
                                                            {KernelSolverRequest::kMatrixFree, "matrix_free"},
                                                            {KernelSolverRequest::kNystrom, "nystrom"}};
  return table;
}

KernelSolverChoice choose_kernel_solver(KernelSolverRequest solver, std::int64_t n, std::int64_t m, int ranks,
                                        int threads, double budget_bytes_per_rank, const MatrixFreeParams& matrix_free,
                                        const NystromParams& nystrom, double max_seconds) {
  KernelSolverChoice choice;
  choice.budget_bytes_per_rank = budget_bytes_per_rank;
  choice.max_seconds = max_seconds;
  choice.exact_bytes_per_rank = exact_solver_bytes_per_rank(n, m, ranks);
  const MatrixFreePlan plan = plan_matrix_free(n, m, ranks, threads, budget_bytes_per_rank, matrix_free);
  choice.matrix_free_bytes_per_rank = plan.bytes_per_rank;
  const std::int64_t centres = std::min(nystrom.centres, n);
  choice.nystrom_bytes_per_rank = nystrom_bytes_per_rank(n, centres, m, ranks, nystrom);
  const int cores = ranks * std::max(threads, 1);
  choice.exact_seconds = exact_solver_seconds(n, m, cores);
  choice.matrix_free_seconds =
      matrix_free_solver_seconds(n, m, cores, plan.batches, matrix_free.num_centres, matrix_free.max_iterations);
  choice.nystrom_seconds = nystrom_solver_seconds(n, centres, m, cores, ranks);
  const auto in_time = [&](double seconds) { return max_seconds <= 0 || seconds <= max_seconds; };
  const bool exact_fits = choice.exact_bytes_per_rank <= budget_bytes_per_rank;
  const bool exact_ok = exact_fits && in_time(choice.exact_seconds);
  const bool matrix_free_ok = plan.fits && in_time(choice.matrix_free_seconds);
  const bool nystrom_ok = choice.nystrom_bytes_per_rank <= budget_bytes_per_rank && in_time(choice.nystrom_seconds);
  const std::string sizes =
      detail::concat("exact needs ~", gib(choice.exact_bytes_per_rank), " GiB per rank, matrix-free ~",
                     gib(plan.bytes_per_rank), " GiB (", plan.batches, " batch(es)), nystrom (", centres, " centres) ~",
                     gib(choice.nystrom_bytes_per_rank), " GiB, budget ", gib(budget_bytes_per_rank), " GiB");
  const std::string times = max_seconds > 0
                                ? detail::concat("; estimated minutes: exact ", minutes(choice.exact_seconds),
                                                 ", matrix-free ", minutes(choice.matrix_free_seconds), ", nystrom ",
                                                 minutes(choice.nystrom_seconds), ", limit ", minutes(max_seconds))
                                : std::string();
  if (solver == KernelSolverRequest::kExact) {
    choice.kind = KernelSolverKind::kExact;
    choice.reason =
        detail::concat("exact solver forced; ", sizes, times, exact_fits ? "" : " -- may run out of memory");
  } else if (solver == KernelSolverRequest::kMatrixFree) {
    choice.kind = KernelSolverKind::kMatrixFree;
    choice.reason =
        detail::concat("matrix-free solver forced; ", sizes, times, plan.fits ? "" : " -- may run out of memory");
  } else if (solver == KernelSolverRequest::kNystrom) {
    choice.kind = KernelSolverKind::kNystrom;
    choice.reason =
        detail::concat("nystrom solver forced; ", sizes, times,
                       choice.nystrom_bytes_per_rank <= budget_bytes_per_rank ? "" : " -- may run out of memory");
  } else if (exact_ok) {
    choice.kind = KernelSolverKind::kExact;
    choice.reason =
        detail::concat("exact solver: K fits in memory", max_seconds > 0 ? " and time; " : "; ", sizes, times);
  } else if (matrix_free_ok) {
    choice.kind = KernelSolverKind::kMatrixFree;
    choice.reason = detail::concat("matrix-free solver: exact ",
                                   exact_fits ? "would take longer than the time limit" : "does not fit in memory",
                                   "; ", sizes, times);
  } else {
    // Neither exact solve fits: the Nystrom estimator, even when it does not fit either (it is the smallest).
    const bool matrix_free_too_slow = plan.fits;
    choice.kind = KernelSolverKind::kNystrom;
    choice.reason = detail::concat(
        "nystrom solver: exact ", exact_fits ? "would take longer than the time limit" : "does not fit in memory",
        " and matrix-free ", matrix_free_too_slow ? "would take longer than the time limit" : "does not fit in memory",
        "; ", sizes, times, nystrom_ok ? "" : " -- nystrom does not fit either: lower ntk_centres");
  }
  return choice;
}

}  // namespace tessera::solvers::ntk
