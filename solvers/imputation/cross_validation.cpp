#include "solvers/imputation/cross_validation.h"

#include <algorithm>
#include <exception>
#include <span>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/progress.h"
#include "engine/signals.h"

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
  auto run_fold = [&](const engine::Context& fold_ctx, int k) {
    const auto& queries = held_out[std::size_t(k)];
    Eigen::MatrixXd predicted = imputer.impute(fold_ctx, table, train_mask(plan, k), queries);
    TESSERA_CHECK(predicted.rows() == table.num_genes() && predicted.cols() == Eigen::Index(queries.size()),
                  imputer.name(), " returned ", predicted.rows(), " x ", predicted.cols(), " predictions for fold ", k,
                  ", expected ", table.num_genes(), " x ", queries.size());
    result.predicted.middleCols(offset[std::size_t(k)], predicted.cols()) = predicted;
  };

  // Safe points (engine/signals.h) between folds: a stop signal ends the loop there on every rank, with a
  // StopRequested that says how many folds were done.
  const auto stopped_after = [&](int done, const std::string& inner) {
    return "cross-validation of " + imputer.name() + " stopped after " + std::to_string(done) + " of " +
           std::to_string(num_folds) + " folds" + (inner.empty() ? "" : " (" + inner + ")");
  };
  if (imputer.distributes_itself()) {
    engine::Progress progress("cross-validation " + imputer.name(), num_folds, "folds");
    for (int k = 0; k < num_folds; ++k) {
      try {
        engine::stop_point(ctx);
        if (!held_out[std::size_t(k)].empty()) run_fold(ctx, k);
      } catch (const engine::StopRequested& stop) {
        throw engine::StopRequested(stopped_after(k, stop.what()));
      }
      progress.update(k + 1);
    }
    progress.finish();
    return result;
  }

  // Round-robin in rounds: in round r, rank i runs fold r * size + i (if there is one) on its own, and the ranks
  // agree after every round (engine::run_agreeing_in_rounds) on failures and stop signals, so a signal to any rank
  // ends every rank at the same round boundary. The progress line (printed by rank 0) counts rounds.
  const engine::Context self(MPI_COMM_SELF);
  const int rounds = (num_folds + ctx.size() - 1) / ctx.size();
  std::vector<int> mine;
  for (int k = ctx.rank(); k < num_folds; k += ctx.size()) mine.push_back(k);
  engine::Progress progress("cross-validation " + imputer.name() + " (" + std::to_string(num_folds) + " folds in " +
                                std::to_string(rounds) + " rounds of " + std::to_string(ctx.size()) + " ranks)",
                            rounds, "rounds");
  engine::run_agreeing_in_rounds(
      ctx, "cross-validation", rounds,
      [&](std::int64_t round) {
        const int k = int(round) * ctx.size() + ctx.rank();
        if (k < num_folds && !held_out[std::size_t(k)].empty()) run_fold(self, k);
        progress.update(round + 1);
      },
      [&](std::int64_t done) { return stopped_after(std::min(num_folds, int(done) * ctx.size()), ""); });
  progress.finish();
  if (ctx.size() == 1) return result;

  // Each rank sends its folds' columns in fold order; the gather concatenates them in rank order.
  std::vector<double> local;
  for (const int k : mine) {
    const auto block =
        result.predicted.middleCols(offset[std::size_t(k)], offset[std::size_t(k) + 1] - offset[std::size_t(k)]);
    local.insert(local.end(), block.data(), block.data() + block.size());
  }
  const std::vector<double> all = engine::allgatherv(ctx, std::span<const double>(local));
  std::size_t position = 0;
  for (int rank = 0; rank < ctx.size(); ++rank) {
    for (int k = rank; k < num_folds; k += ctx.size()) {
      const Eigen::Index columns = offset[std::size_t(k) + 1] - offset[std::size_t(k)];
      const std::size_t count = std::size_t(columns * table.num_genes());
      TESSERA_CHECK(position + count <= all.size(), "cross-validation: gathered ", all.size(),
                    " values, fewer than the folds need");
      result.predicted.middleCols(offset[std::size_t(k)], columns) =
          Eigen::Map<const Eigen::MatrixXd>(all.data() + position, table.num_genes(), columns);
      position += count;
    }
  }
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
  const Eigen::MatrixXd truth = columns_of(table.values, predictions.entries);

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
                               const FoldPlan& plan) {
  check_plan(table, plan);
  std::vector<bool> dropped(table.cells.size(), false);
  for (const auto& id : plan.dropped_cells) {
    const auto c = table.find_cell(id);
    if (c >= 0) dropped[std::size_t(c)] = true;
  }
  std::vector<std::uint8_t> train(plan.fold.size(), 0);
  std::vector<std::int64_t> queries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    train[std::size_t(e)] = table.observed[std::size_t(e)] && plan.fold[std::size_t(e)] != kUnused;
    if (!table.observed[std::size_t(e)] && !dropped[std::size_t(table.cell_of(e))]) queries.push_back(e);
  }

  Eigen::MatrixXd completed = table.values;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (!table.observed[std::size_t(e)]) completed.col(e).setZero();
  if (queries.empty()) return completed;

  auto check_shape = [&](const Eigen::MatrixXd& predicted) {
    TESSERA_CHECK(predicted.rows() == table.num_genes() && predicted.cols() == Eigen::Index(queries.size()),
                  imputer.name(), " returned ", predicted.rows(), " x ", predicted.cols(), " predictions, expected ",
                  table.num_genes(), " x ", queries.size());
  };
  Eigen::MatrixXd predicted;
  try {
    if (imputer.distributes_itself()) {
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
  for (std::size_t j = 0; j < queries.size(); ++j) completed.col(queries[j]) = predicted.col(Eigen::Index(j));
  return completed;
}

}  // namespace tessera::solvers::imputation
