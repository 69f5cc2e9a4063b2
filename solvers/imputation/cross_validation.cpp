#include "solvers/imputation/cross_validation.h"

#include <algorithm>
#include <span>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/progress.h"
#include "engine/signals.h"
#include "engine/task_farm.h"

namespace tessera::solvers::imputation {

namespace {

void check_plan(const io::PerturbationTable& table, const FoldPlan& plan) {
  TESSERA_CHECK(plan.fold.size() == std::size_t(table.num_entries()), "fold plan has ", plan.fold.size(),
                " labels but the table has ", table.num_entries(), " entries (was it made for another table?)");
}

Eigen::MatrixXd columns_of(const Eigen::MatrixXd& matrix, const std::vector<std::int64_t>& columns) {
  Eigen::MatrixXd out(matrix.rows(), Eigen::Index(columns.size()));
  for (std::size_t j = 0; j < columns.size(); ++j) out.col(Eigen::Index(j)) = matrix.col(columns[j]);
  return out;
}

}  // namespace

CvPredictions cross_validate(const engine::Context& ctx, const Imputer& imputer, const io::PerturbationTable& table,
                             const FoldPlan& plan) {
  check_plan(table, plan);
  const int num_folds = plan.num_folds;
  std::vector<std::vector<std::int64_t>> held_out(static_cast<std::size_t>(num_folds));
  std::vector<Eigen::Index> offset(std::size_t(num_folds) + 1, 0);  // first output column of each fold
  for (int k = 0; k < num_folds; ++k) {
    held_out[std::size_t(k)] = held_out_entries(plan, k);
    offset[std::size_t(k) + 1] = offset[std::size_t(k)] + Eigen::Index(held_out[std::size_t(k)].size());
  }

  CvPredictions result;
  for (int k = 0; k < num_folds; ++k) {
    for (const auto e : held_out[std::size_t(k)]) {
      result.entries.push_back(e);
      result.folds.push_back(k);
    }
  }
  result.predicted = Eigen::MatrixXd::Zero(table.num_genes(), offset.back());
  // The predictions for fold k's held-out entries (genes x entries).
  auto predict_fold = [&](const engine::Context& fold_ctx, int k) {
    const auto& queries = held_out[std::size_t(k)];
    Eigen::MatrixXd predicted = imputer.impute(fold_ctx, table, train_mask(plan, k), queries);
    TESSERA_CHECK(predicted.rows() == table.num_genes() && predicted.cols() == Eigen::Index(queries.size()),
                  imputer.name(), " returned ", predicted.rows(), " x ", predicted.cols(), " predictions for fold ", k,
                  ", expected ", table.num_genes(), " x ", queries.size());
    return predicted;
  };

  // Safe points (engine/signals.h) between folds: a stop signal ends the loop there on every rank, with a
  // StopRequested that says how many folds were done.
  const auto stopped_after = [&](int done, const std::string& inner) {
    return "cross-validation of " + imputer.name() + " stopped after " + std::to_string(done) + " of " +
           std::to_string(num_folds) + " folds" + (inner.empty() ? "" : " (" + inner + ")");
  };
  if (engine::allreduce_any(ctx, imputer.distributes_itself(ctx, table))) {
    engine::Progress progress("cross-validation " + imputer.name(), num_folds, "folds");
    for (int k = 0; k < num_folds; ++k) {
      try {
        engine::stop_point(ctx);
        if (!held_out[std::size_t(k)].empty())
          result.predicted.middleCols(offset[std::size_t(k)], offset[std::size_t(k) + 1] - offset[std::size_t(k)]) =
              predict_fold(ctx, k);
      } catch (const engine::StopRequested& stop) {
        throw engine::StopRequested(stopped_after(k, stop.what()));
      }
      progress.update(k + 1);
    }
    progress.finish();
    return result;
  }

  // Folds spread over the ranks (engine/task_farm.h): each rank runs one fold on its own per round, and every rank
  // gets every fold's predictions after each round. A fold during which its rank was signalled counts as
  // unfinished (cross-validation keeps nothing of a stopped run), so the message names the folds finished before
  // the round in which the stop came. The progress line (printed by rank 0) counts rounds.
  const std::int64_t rounds = engine::farm_rounds(num_folds, ctx.size());
  engine::Progress progress("cross-validation " + imputer.name() + " (" + std::to_string(num_folds) + " folds in " +
                                std::to_string(rounds) + " rounds of " + std::to_string(ctx.size()) + " ranks)",
                            rounds, "rounds");
  engine::TaskFarm farm;
  farm.what = "cross-validation of " + imputer.name();
  farm.task_name = "fold";
  farm.end = num_folds;
  farm.task = [&](const engine::Context& self, std::int64_t k) {
    std::vector<double> values;
    if (!held_out[std::size_t(k)].empty()) {
      const Eigen::MatrixXd predicted = predict_fold(self, int(k));
      values.assign(predicted.data(), predicted.data() + predicted.size());
    }
    engine::local_stop_point();
    return values;
  };
  farm.after_round = [&](const engine::FarmRound& round) {
    for (std::size_t i = 0; i < round.results.size(); ++i) {
      const auto k = std::size_t(round.first_task) + i;
      const Eigen::Index columns = offset[k + 1] - offset[k];
      TESSERA_ASSERT(round.results[i].size() == std::size_t(columns * table.num_genes()));
      result.predicted.middleCols(offset[k], columns) =
          Eigen::Map<const Eigen::MatrixXd>(round.results[i].data(), table.num_genes(), columns);
    }
    progress.update(round.index + 1);
  };
  farm.on_stop = [&](std::int64_t done) { return stopped_after(int(done), ""); };
  engine::run_task_farm(ctx, farm);
  progress.finish();
  return result;
}

EvaluationReport evaluate(const io::PerturbationTable& table, const CvPredictions& predictions) {
  const std::size_t n = predictions.entries.size();
  TESSERA_CHECK(predictions.folds.size() == n && predictions.predicted.cols() == Eigen::Index(n) &&
                    predictions.predicted.rows() == table.num_genes(),
                "evaluate: predictions hold ", n, " entries, ", predictions.folds.size(), " folds and a ",
                predictions.predicted.rows(), " x ", predictions.predicted.cols(), " matrix; expected ",
                table.num_genes(), " genes x ", n, " entries");
  for (const auto e : predictions.entries) {
    TESSERA_CHECK(e >= 0 && e < table.num_entries(), "evaluate: entry ", e, " is outside the table");
  }
  Eigen::MatrixXd truth(table.num_genes(), Eigen::Index(n));
  for (std::size_t j = 0; j < n; ++j) truth.col(Eigen::Index(j)) = table.signature(predictions.entries[j]);

  EvaluationReport report;
  report.overall = compute_metrics(truth, predictions.predicted);
  std::vector<std::vector<std::int64_t>> by_cell(static_cast<std::size_t>(table.num_cells()));
  int num_folds = 0;
  for (std::size_t j = 0; j < n; ++j) {
    by_cell[std::size_t(table.cell_of(predictions.entries[j]))].push_back(std::int64_t(j));
    num_folds = std::max(num_folds, predictions.folds[j] + 1);
  }
  std::vector<std::vector<std::int64_t>> by_fold(static_cast<std::size_t>(num_folds));
  for (std::size_t j = 0; j < n; ++j) {
    TESSERA_CHECK(predictions.folds[j] >= 0, "evaluate: column ", j, " has fold ", predictions.folds[j]);
    by_fold[std::size_t(predictions.folds[j])].push_back(std::int64_t(j));
  }
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    const auto& columns = by_cell[std::size_t(c)];
    if (columns.empty()) continue;
    report.per_cell.emplace_back(
        table.cells[std::size_t(c)],
        compute_metrics(columns_of(truth, columns), columns_of(predictions.predicted, columns)));
  }
  for (const auto& columns : by_fold) {
    report.per_fold.push_back(
        columns.empty() ? Metrics{}
                        : compute_metrics(columns_of(truth, columns), columns_of(predictions.predicted, columns)));
  }
  return report;
}

Eigen::MatrixXd complete_table(const engine::Context& ctx, const Imputer& imputer, const io::PerturbationTable& table,
                               const FoldPlan& plan, const std::vector<std::int64_t>& entries) {
  check_plan(table, plan);
  std::vector<bool> dropped(table.cells.size(), false);
  for (const auto& id : plan.dropped_cells) {
    const auto c = table.find_cell(id);
    if (c >= 0) dropped[std::size_t(c)] = true;
  }
  // Every measurement of a kept cell type trains, also those a protocol left out of its folds (the combo
  // protocols' untrained singles): the completed table uses all the data.
  std::vector<std::uint8_t> train(plan.fold.size(), 0);
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    train[std::size_t(e)] = table.observed[std::size_t(e)] && !dropped[std::size_t(table.cell_of(e))];

  Eigen::MatrixXd completed(table.num_genes(), Eigen::Index(entries.size()));
  std::vector<std::int64_t> queries, query_columns;
  for (std::size_t j = 0; j < entries.size(); ++j) {
    const std::int64_t e = entries[j];
    TESSERA_CHECK(e >= 0 && e < table.num_entries(), "complete_table: entry ", e, " is outside the table's ",
                  table.num_entries(), " entries");
    if (table.observed[std::size_t(e)]) {
      completed.col(Eigen::Index(j)) = table.signature(e);
      continue;
    }
    TESSERA_CHECK(!dropped[std::size_t(table.cell_of(e))], "cannot complete cell type '",
                  table.cells[std::size_t(table.cell_of(e))],
                  "': it was dropped for having too few measured perturbations (see --min-drugs)");
    queries.push_back(e);
    query_columns.push_back(std::int64_t(j));
  }
  if (queries.empty()) return completed;

  auto check_shape = [&](const Eigen::MatrixXd& predicted) {
    TESSERA_CHECK(predicted.rows() == table.num_genes() && predicted.cols() == Eigen::Index(queries.size()),
                  imputer.name(), " returned ", predicted.rows(), " x ", predicted.cols(), " predictions, expected ",
                  table.num_genes(), " x ", queries.size());
  };
  Eigen::MatrixXd predicted;
  try {
    if (engine::allreduce_any(ctx, imputer.distributes_itself(ctx, table))) {
      predicted = imputer.impute(ctx, table, train, queries);
      check_shape(predicted);
    } else {
      predicted = Eigen::MatrixXd::Zero(table.num_genes(), Eigen::Index(queries.size()));
      engine::run_agreeing(ctx, "table completion", [&] {
        if (!ctx.is_root()) return;
        predicted = imputer.impute(engine::Context(MPI_COMM_SELF), table, train, queries);
        check_shape(predicted);
      });
      engine::broadcast(ctx, std::span<double>(predicted.data(), std::size_t(predicted.size())));
    }
  } catch (const engine::StopRequested& stop) {
    const std::string inner = stop.what();
    throw engine::StopRequested("completing the table with " + imputer.name() + " stopped" +
                                (inner.empty() ? "" : " (" + inner + ")"));
  }
  for (std::size_t j = 0; j < queries.size(); ++j) completed.col(query_columns[j]) = predicted.col(Eigen::Index(j));
  return completed;
}

}  // namespace tessera::solvers::imputation
