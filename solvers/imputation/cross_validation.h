// Runs an Imputer through a FoldPlan (solvers/imputation/protocol.h) and scores the held-out predictions.
//
// Distribution: when imputer.distributes_itself(ctx, table) on any rank, folds run one after another and each
// impute() is collective over ctx. Otherwise whole folds go round-robin over the ranks (fold k on rank k % size, in
// rounds of size folds), each rank calls impute() with ctx.alone() (one rank, its share of the node), and an allgatherv
// gives every rank all predictions. A fold's prediction does not depend on which rank computes it, so the result is the
// same for any rank count (bit-identical for the mean baselines). If impute() throws on any rank, every rank throws (no
// rank is left waiting in the gather); the rank that failed rethrows its own error. Stop signals (engine/signals.h):
// the ranks agree on the stop flag before every fold (distributed methods, which also stop inside their own iterations)
// or after every round (round-robin); on a signal to any rank, every rank throws
// engine::StopRequested("cross-validation of <method> stopped after <d> of <K> folds (...)").
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "io/perturbation_table.h"
#include "solvers/imputation/imputer.h"
#include "solvers/imputation/metrics.h"
#include "solvers/imputation/protocol.h"

namespace tessera::solvers::imputation {

// Held-out predictions of every fold, ordered by (fold, entry): column j predicts entry entries[j], which was
// held out in fold folds[j].
struct CvPredictions {
  std::vector<std::int64_t> entries;
  std::vector<int> folds;
  Eigen::MatrixXd predicted;  // genes x entries.size()
};

// Collective over ctx: every rank must call it with the same imputer, table and plan; every rank gets the same
// predictions. Logs a rank-0 progress line over folds. Folds without held-out entries are skipped.
CvPredictions cross_validate(const engine::Context& ctx, const Imputer& imputer, const io::PerturbationTable& table,
                             const FoldPlan& plan);

// Local. Truth is table.values at predictions.entries. per_cell lists cell types in table order; per_fold has
// one Metrics per fold index 0..max(folds).
EvaluationReport evaluate(const io::PerturbationTable& table, const CvPredictions& predictions);

// Collective over ctx. Fits on every observed entry of the cell types not in plan.dropped_cells (also entries a
// protocol left out of its folds, such as the combo protocols' untrained singles) and returns genes x
// entries.size(), column j for entries[j]: the measured signature of an observed entry, the imputation of an
// unobserved one (all of them in one impute() call). An unobserved entry of a cell type in plan.dropped_cells is an
// error. Identical on every rank (a method that does not distribute itself runs on rank 0 and the result is
// broadcast). A stop inside the method throws engine::StopRequested("completing the table with <method> stopped
// (...)") on every rank.
Eigen::MatrixXd complete_table(const engine::Context& ctx, const Imputer& imputer, const io::PerturbationTable& table,
                               const FoldPlan& plan, const std::vector<std::int64_t>& entries);

}  // namespace tessera::solvers::imputation
