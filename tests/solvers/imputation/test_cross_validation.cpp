// Cross-validation runner (solvers/imputation/cross_validation.h). Runs at 1, 2 and 3 ranks: the distributed
// answer must be bit-identical to the same call on one rank (MPI_COMM_SELF) and to folds run by hand, except for
// methods that sum partial results over rank slabs (see kSummationOrderTolerance).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <string>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "engine/signals.h"
#include "solvers/imputation/baselines.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/registry.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::imputation {
namespace {

constexpr double kTol = 1e-12;

// FaLRTC allreduces partial Gram matrices of its gene slabs, and NTK and NTK + DNPP factorise their kernels with
// ScaLAPACK on more than one rank, so their answers on 2 or 3 ranks differ from one rank's in summation order
// only (falrtc.h, ntk_imputer.h): within this relative tolerance. Every other method is bit-identical.
constexpr double kSummationOrderTolerance = 1e-8;

double allowed_difference(const std::string& method) {
  return method == "falrtc" || method == "ntk" || method == "ntk_dnpp" ? kSummationOrderTolerance : 0;
}

// True when `got` equals `want` exactly or, for a method with a summation-order tolerance, to that tolerance
// relative to the largest magnitude of `want`.
bool agrees(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want, const std::string& method) {
  if (got.rows() != want.rows() || got.cols() != want.cols()) return false;
  const double scale = std::max(1.0, want.cwiseAbs().maxCoeff());
  return (got - want).cwiseAbs().maxCoeff() <= allowed_difference(method) * scale;
}

// 6 cell types x 12 drugs x 4 genes, ~70% observed, normal values; cell c5 observes only 2 drugs (dropped).
io::PerturbationTable make_table() {
  io::PerturbationTable t;
  t.genes = {"g1", "g2", "g3", "g4"};
  t.cells = {"c0", "c1", "c2", "c3", "c4", "c5"};
  for (int p = 0; p < 12; ++p) {
    char id[8];
    std::snprintf(id, sizeof id, "d%d", 100 + p);
    t.perts.push_back(id);
  }
  engine::RandomStream stream(7, "test/cv-table");
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(4, t.num_entries());
  t.observed.assign(std::size_t(t.num_entries()), 0);
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    const bool few = t.cell_of(e) == 5;
    if (few ? t.pert_of(e) >= 2 : stream.uniform() >= 0.7) continue;
    t.observed[std::size_t(e)] = 1;
    for (int g = 0; g < 4; ++g) dense(g, e) = stream.normal() + double(t.cell_of(e)) - 0.3 * double(t.pert_of(e));
  }
  t.replicates.assign(t.observed.begin(), t.observed.end());
  t.set_dense(dense);
  return t;
}

FoldPlan make_plan(const io::PerturbationTable& t, const std::string& protocol) {
  ProtocolOptions o;
  o.protocol = name_table(Protocol{}).parse(protocol, "protocol");
  o.folds = 7;  // uneven over 2 and 3 ranks
  o.sparse_train_drugs = 3;
  o.min_drugs = 4;
  o.reference_cells = {"c0"};
  o.seed = 5;
  return make_folds(t, o);
}

TEST(CrossValidate, EveryMethodMatchesSerialAndFoldsByHand) {
  const engine::Context world, self(MPI_COMM_SELF);
  const auto table = make_table();
  for (const std::string protocol : {"full", "sparse"}) {
    const FoldPlan plan = make_plan(table, protocol);
    ASSERT_EQ(plan.dropped_cells, std::vector<std::string>{"c5"});
    for (const auto& name : imputation_methods()) {
      const auto imputer = make_imputer(name, MethodParams{});
      const CvPredictions distributed = cross_validate(world, *imputer, table, plan);
      const CvPredictions serial = cross_validate(self, *imputer, table, plan);
      EXPECT_EQ(distributed.entries, serial.entries) << name;
      EXPECT_EQ(distributed.folds, serial.folds) << name;
      EXPECT_TRUE(agrees(distributed.predicted, serial.predicted, name)) << name << " " << protocol;

      // By hand: fold after fold, columns ordered by (fold, entry).
      std::int64_t column = 0;
      for (int k = 0; k < plan.num_folds; ++k) {
        const auto held = held_out_entries(plan, k);
        const Eigen::MatrixXd expected = imputer->impute(self, table, train_mask(plan, k), held);
        for (std::size_t j = 0; j < held.size(); ++j, ++column) {
          ASSERT_LT(column, std::int64_t(distributed.entries.size()));
          EXPECT_EQ(distributed.entries[std::size_t(column)], held[j]);
          EXPECT_EQ(distributed.folds[std::size_t(column)], k);
          EXPECT_TRUE(agrees(distributed.predicted.col(column), expected.col(Eigen::Index(j)), name)) << name;
        }
      }
      EXPECT_EQ(column, distributed.predicted.cols());
      EXPECT_EQ(distributed.predicted.rows(), table.num_genes());
    }
  }
}

// Predicts the measured values themselves (a perfect method) and checks impute() gets the whole world, as a
// method that distributes itself must; the allreduce makes the call genuinely collective.
class OracleImputer : public Imputer {
 public:
  std::string name() const override { return "oracle"; }
  bool distributes_itself(const engine::Context&, const io::PerturbationTable&) const override { return true; }
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override {
    const std::int64_t ranks = engine::allreduce_sum(ctx, std::int64_t(1));
    EXPECT_EQ(ranks, engine::Context().size());
    Eigen::MatrixXd out(table.num_genes(), Eigen::Index(queries.size()));
    for (std::size_t q = 0; q < queries.size(); ++q) {
      EXPECT_EQ(train[std::size_t(queries[q])], 0) << "a held-out entry is in the train mask";
      out.col(Eigen::Index(q)) = table.signature(queries[q]);
    }
    return out;
  }
};

TEST(CrossValidate, SelfDistributingMethodRunsOnTheWholeContext) {
  const engine::Context world;
  const auto table = make_table();
  const FoldPlan plan = make_plan(table, "full");
  const CvPredictions predictions = cross_validate(world, OracleImputer(), table, plan);
  const EvaluationReport report = evaluate(table, predictions);
  EXPECT_NEAR(report.overall.pearson, 1.0, kTol);
  EXPECT_NEAR(report.overall.mean_r2, 1.0, kTol);
  EXPECT_NEAR(report.overall.mean_cosine, 1.0, kTol);
  EXPECT_EQ(report.per_fold.size(), 7u);
  // c0 is train-only and c5 dropped: only c1..c4 are evaluated.
  ASSERT_EQ(report.per_cell.size(), 4u);
  EXPECT_EQ(report.per_cell.front().first, "c1");
  EXPECT_EQ(report.per_cell.back().first, "c4");
  for (const auto& [cell, m] : report.per_cell) EXPECT_NEAR(m.mean_r2, 1.0, kTol) << cell;
}

TEST(Evaluate, HandComputedReport) {
  // 3 genes; A/d1 measured (1, 2, 3) predicted (1, 3, 2) in fold 0; B/d2 measured (0, 1, -1) predicted
  // (0, 1, 0) in fold 2; fold 1 has nothing. Overall numbers are test_metrics' hand example.
  io::PerturbationTable t;
  t.genes = {"g1", "g2", "g3"};
  t.cells = {"A", "B"};
  t.perts = {"d1", "d2"};
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(3, 4);
  t.observed = {1, 0, 0, 1};
  dense.col(0) << 1, 2, 3;
  dense.col(3) << 0, 1, -1;
  t.set_dense(dense);
  CvPredictions predictions;
  predictions.entries = {0, 3};
  predictions.folds = {0, 2};
  predictions.predicted.resize(3, 2);
  predictions.predicted << 1, 0, 3, 1, 2, 0;
  const EvaluationReport r = evaluate(t, predictions);
  EXPECT_NEAR(r.overall.pearson, 7.0 / std::sqrt(410.0 / 6.0), kTol);
  EXPECT_NEAR(r.overall.mean_r2, 0.25, kTol);
  EXPECT_NEAR(r.overall.mean_cosine, (13.0 / 14.0 + 1.0 / std::sqrt(2.0)) / 2, kTol);
  // A alone: centred truth (-1, 0, 1), centred prediction (-1, 1, 0): r = 1 / sqrt(2 * 2) = 0.5.
  // B alone: centred truth (0, 1, -1), prediction mean 1/3, centred (-1/3, 2/3, -1/3): covariance 1,
  //          SS 2 and 2/3: r = 1 / sqrt(4/3) = sqrt(3)/2.
  ASSERT_EQ(r.per_cell.size(), 2u);
  EXPECT_EQ(r.per_cell[0].first, "A");
  EXPECT_NEAR(r.per_cell[0].second.pearson, 0.5, kTol);
  EXPECT_NEAR(r.per_cell[0].second.mean_r2, 0.0, kTol);
  EXPECT_NEAR(r.per_cell[0].second.mean_cosine, 13.0 / 14.0, kTol);
  EXPECT_EQ(r.per_cell[1].first, "B");
  EXPECT_NEAR(r.per_cell[1].second.pearson, std::sqrt(3.0) / 2, kTol);
  EXPECT_NEAR(r.per_cell[1].second.mean_r2, 0.5, kTol);
  ASSERT_EQ(r.per_fold.size(), 3u);
  EXPECT_NEAR(r.per_fold[0].mean_cosine, 13.0 / 14.0, kTol);
  EXPECT_EQ(r.per_fold[1].num_signatures, 0);
  EXPECT_TRUE(std::isnan(r.per_fold[1].pearson));
  EXPECT_NEAR(r.per_fold[2].mean_r2, 0.5, kTol);
  EXPECT_EQ(r.per_fold[2].num_values, 3);

  predictions.folds.pop_back();
  EXPECT_THROW(evaluate(t, predictions), Error);
}

TEST(CompleteTable, KeepsMeasuredAndFillsKeptCells) {
  const engine::Context world, self(MPI_COMM_SELF);
  const auto table = make_table();
  const FoldPlan plan = make_plan(table, "full");
  const MeanBaseline imputer(BaselineKind::kTwoWayMean);
  // Every entry of c0..c4 and the measured ones of c5 (dropped: its unobserved entries cannot be completed).
  std::vector<std::int64_t> entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (table.cell_of(e) != 5 || table.observed[std::size_t(e)]) entries.push_back(e);
  const Eigen::MatrixXd completed = complete_table(world, imputer, table, plan, entries);
  EXPECT_TRUE(completed == complete_table(self, imputer, table, plan, entries));

  // Expected: fit on every usable observed entry (c5's are kUnused), predict c0..c4's unobserved entries.
  std::vector<std::uint8_t> train(plan.fold.size());
  std::vector<std::int64_t> queries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    train[std::size_t(e)] = plan.fold[std::size_t(e)] != kUnused;
    if (!table.observed[std::size_t(e)] && table.cell_of(e) != 5) queries.push_back(e);
  }
  const Eigen::MatrixXd predicted = imputer.impute(self, table, train, queries);
  ASSERT_EQ(completed.cols(), Eigen::Index(entries.size()));
  std::size_t q = 0;
  for (std::size_t j = 0; j < entries.size(); ++j) {
    const auto e = entries[j];
    if (table.observed[std::size_t(e)])
      EXPECT_TRUE(completed.col(Eigen::Index(j)) == table.signature(e)) << e;  // measured, c5 included
    else
      EXPECT_TRUE(completed.col(Eigen::Index(j)) == predicted.col(Eigen::Index(q++))) << e;
  }
  EXPECT_EQ(q, queries.size());

  // A subset gives the same columns as the whole, in the order asked for.
  const std::vector<std::int64_t> some = {entries[5], entries[1], entries[9]};
  const Eigen::MatrixXd part = complete_table(world, imputer, table, plan, some);
  EXPECT_TRUE(part.col(0) == completed.col(5) && part.col(1) == completed.col(1) && part.col(2) == completed.col(9));

  std::int64_t dropped_unobserved = table.entry(5, 0);
  while (table.observed[std::size_t(dropped_unobserved)]) ++dropped_unobserved;
  tessera::testing::expect_mentions(
      tessera::testing::error_of([&] { complete_table(world, imputer, table, plan, {dropped_unobserved}); }),
      {"cannot complete cell type 'c5': it was dropped for having too few measured perturbations (see "
       "--min-drugs)"});
}

// Fails on the fold that holds `poison` out: with folds spread over ranks, every rank must still throw
// rather than wait forever in the gather.
class FailingImputer : public MeanBaseline {
 public:
  explicit FailingImputer(std::int64_t poison) : MeanBaseline(BaselineKind::kCellMean), poison_(poison) {}
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override {
    if (std::find(queries.begin(), queries.end(), poison_) != queries.end()) TESSERA_FAIL("deliberate failure");
    return MeanBaseline::impute(ctx, table, train, queries);
  }

 private:
  std::int64_t poison_;
};

TEST(CrossValidate, FailureOnOneRankFailsEveryRank) {
  const engine::Context world;
  const auto table = make_table();
  const FoldPlan plan = make_plan(table, "full");
  for (const int fold : {1, 6}) {  // on rank 1 (2 ranks) or rank 1 / rank 0 (3 ranks)
    const FailingImputer imputer(held_out_entries(plan, fold).front());
    EXPECT_THROW(cross_validate(world, imputer, table, plan), Error) << "fold " << fold;
  }
  // The runner is usable afterwards (nothing left in flight).
  EXPECT_NO_THROW(cross_validate(world, MeanBaseline(BaselineKind::kCellMean), table, plan));
  // complete_table agrees on failure too: the poison entry is never a query there, so use an unobserved one.
  std::int64_t unobserved = 0;
  while (table.observed[std::size_t(unobserved)]) ++unobserved;
  EXPECT_THROW(complete_table(world, FailingImputer(unobserved), table, plan, {unobserved}), Error);
}

// Behaves as if one rank got a stop signal while predicting the fold that holds `trigger` out: it sets that rank's
// stop flag only, as the signal handler would (engine/signals.h). That rank is the one running the fold when folds
// are spread over ranks, the last rank when every rank runs it.
class SignalledImputer : public MeanBaseline {
 public:
  SignalledImputer(std::int64_t trigger, bool distributed)
      : MeanBaseline(BaselineKind::kCellMean), trigger_(trigger), distributed_(distributed) {}
  bool distributes_itself(const engine::Context&, const io::PerturbationTable&) const override { return distributed_; }
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override {
    const engine::Context world;
    const bool signalled_rank = !distributed_ || world.rank() == world.size() - 1;
    if (signalled_rank && std::find(queries.begin(), queries.end(), trigger_) != queries.end())
      engine::request_stop(SIGTERM);
    return MeanBaseline::impute(ctx, table, train, queries);
  }

 private:
  std::int64_t trigger_;
  bool distributed_;
};

// The message of the StopRequested that `call` throws ("" and a failure when it throws none).
template <typename Call>
std::string stop_message(Call&& call) {
  try {
    call();
  } catch (const engine::StopRequested& stop) {
    return stop.what();
  }
  ADD_FAILURE() << "expected engine::StopRequested";
  return "";
}

// A signal on one rank stops every rank at the same fold boundary, with StopRequested (exit 75), not an error;
// every rank learns which signal it was; the runner is usable afterwards.
TEST(CrossValidate, StopSignalOnOneRankStopsEveryRankBetweenFolds) {
  const engine::Context world;
  const auto table = make_table();
  const FoldPlan plan = make_plan(table, "full");
  // Folds run one after another: the stop is seen before the fold after the signalled one.
  std::string message = stop_message(
      [&] { cross_validate(world, SignalledImputer(held_out_entries(plan, 4).front(), true), table, plan); });
  EXPECT_NE(message.find("cross-validation of cell_mean stopped after 5 of 7 folds"), std::string::npos) << message;
  EXPECT_EQ(engine::stop_signal_number(), SIGTERM);
  engine::clear_stop();
  // Folds spread over ranks in rounds of world.size(): the stop is seen at the end of the signalled fold's round.
  message = stop_message(
      [&] { cross_validate(world, SignalledImputer(held_out_entries(plan, 1).front(), false), table, plan); });
  const int done = (1 / world.size()) * world.size();
  EXPECT_NE(message.find("stopped after " + std::to_string(done) + " of 7 folds"), std::string::npos) << message;
  EXPECT_EQ(engine::stop_signal_number(), SIGTERM) << "rank " << world.rank() << " did not learn the signal";
  engine::clear_stop();
  EXPECT_NO_THROW(cross_validate(world, MeanBaseline(BaselineKind::kCellMean), table, plan));
}

TEST(CrossValidate, PlanForAnotherTableIsAnError) {
  const engine::Context world;
  const auto table = make_table();
  FoldPlan plan = make_plan(table, "full");
  plan.fold.pop_back();
  EXPECT_THROW(cross_validate(world, MeanBaseline(BaselineKind::kCellMean), table, plan), Error);
}

}  // namespace
}  // namespace tessera::solvers::imputation
