#include "solvers/imputation/inner_cv.h"

#include <algorithm>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/hash.h"
#include "engine/log.h"
#include "engine/random.h"

namespace tessera::solvers::imputation {

namespace {

// Inner cross-validations run many times per outer fold (every candidate, every fold): their per-fold progress
// and the methods' own info lines would bury the outer run's log, so they speak only to warn. The tuner and the
// stack log one line per outer fold instead.
class QuietInfo {
 public:
  QuietInfo() : saved_(engine::log_level()) { engine::set_log_level(std::max(saved_, engine::LogLevel::kWarn)); }
  ~QuietInfo() { engine::set_log_level(saved_); }
  QuietInfo(const QuietInfo&) = delete;
  QuietInfo& operator=(const QuietInfo&) = delete;

 private:
  engine::LogLevel saved_;
};

}  // namespace

FoldPlan inner_fold_plan(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                         const InnerCvParams& params) {
  params.validate();
  TESSERA_CHECK(std::int64_t(train.size()) == table.num_entries(), "inner cross-validation: the training mask has ",
                train.size(), " entries, the table ", table.num_entries());
  std::vector<bool> train_only(table.cells.size(), false);
  for (const auto& id : params.train_only_cells) {
    const std::int64_t cell = table.find_cell(id);
    TESSERA_CHECK(cell >= 0, "inner cross-validation: train-only cell type '", id, "' is not in the table");
    train_only[std::size_t(cell)] = true;
  }
  FoldPlan plan;
  plan.num_folds = params.inner_folds;
  plan.fold.assign(std::size_t(table.num_entries()), kUnused);
  std::int64_t dealt = 0;  // as the full protocol: each cell type's deal starts where the previous one ended
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    std::vector<std::int64_t> entries;
    for (std::int64_t p = 0; p < table.num_perts(); ++p) {
      const std::int64_t e = table.entry(c, p);
      if (train[std::size_t(e)] && table.observed[std::size_t(e)]) entries.push_back(e);
    }
    if (train_only[std::size_t(c)] || entries.size() < 2) {
      for (const auto e : entries) plan.fold[std::size_t(e)] = kTrainOnly;
      continue;
    }
    engine::RandomStream(params.seed, "inner-folds", engine::stable_hash(table.cells[std::size_t(c)])).shuffle(entries);
    for (const auto e : entries) plan.fold[std::size_t(e)] = int(dealt++ % params.inner_folds);
  }
  TESSERA_CHECK(
      dealt > 0,
      "inner cross-validation (--autotune, stack) needs a cell type with at least 2 training pairs outside the "
      "reference cell types, and this fold has none: use more training drugs per cell type "
      "(--sparse-train-drugs) or run without --autotune / stack");
  return plan;
}

std::vector<CvPredictions> inner_predictions(const engine::Context& ctx, const std::vector<Candidate>& candidates,
                                             const io::PerturbationTable& table, const FoldPlan& plan) {
  const QuietInfo quiet;
  std::vector<CvPredictions> predictions;
  predictions.reserve(candidates.size());
  for (const auto& candidate : candidates) predictions.push_back(cross_validate(ctx, *candidate.imputer, table, plan));
  return predictions;
}

std::vector<Metrics> inner_metrics(const engine::Context& ctx, const std::vector<Candidate>& candidates,
                                   const io::PerturbationTable& table, const FoldPlan& plan) {
  const QuietInfo quiet;
  std::vector<Metrics> metrics;
  for (const auto& candidate : candidates)
    metrics.push_back(evaluate(table, cross_validate(ctx, *candidate.imputer, table, plan)).overall);
  return metrics;
}

Eigen::MatrixXd fit_and_predict(const engine::Context& ctx, const Imputer& imputer, const io::PerturbationTable& table,
                                const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& queries) {
  const bool collective = engine::allreduce_any(ctx, imputer.distributes_itself(ctx, table));
  return imputer.impute(collective ? ctx : ctx.alone(), table, train, queries);
}

}  // namespace tessera::solvers::imputation
