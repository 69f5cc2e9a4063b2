// Mean baselines (solvers/imputation/baselines.h) and the method registry on a hand-made table.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/context.h"
#include "engine/error.h"
#include "solvers/imputation/baselines.h"
#include "solvers/registry.h"

namespace tessera::solvers::imputation {
namespace {

constexpr double kTol = 1e-12;

// 3 cell types (A, B, C) x 4 drugs (d1..d4) x 2 genes. Observed (gene1, gene2):
//   A: d1 = (1, 0), d2 = (3, 2), d3 = (5, 4)      d4 unobserved
//   B: d1 = (2, 2), d2 = (4, 0)                    d3, d4 unobserved
//   C:                           d3 = (0, 6)       d1, d2, d4 unobserved
// A/d4 is unobserved (it has no signature) but flagged in the train mask: it must be ignored.
struct Fixture {
  io::PerturbationTable table;
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(2, 12);
  std::vector<std::uint8_t> train;
  Fixture() {
    table.genes = {"g1", "g2"};
    table.cells = {"A", "B", "C"};
    table.perts = {"d1", "d2", "d3", "d4"};
    table.observed.assign(12, 0);
    table.replicates.assign(12, 0);
    set("A", "d1", 1, 0);
    set("A", "d2", 3, 2);
    set("A", "d3", 5, 4);
    set("B", "d1", 2, 2);
    set("B", "d2", 4, 0);
    set("C", "d3", 0, 6);
    table.set_dense(dense);
    // Train on everything observed except A/d2 and C/d3 (held out), plus the flag on unobserved A/d4.
    train = table.observed;
    train[std::size_t(at("A", "d2"))] = 0;
    train[std::size_t(at("C", "d3"))] = 0;
    train[std::size_t(at("A", "d4"))] = 1;
  }
  std::int64_t at(const std::string& cell, const std::string& pert) const {
    return table.entry(table.find_cell(cell), table.find_pert(pert));
  }
  void set(const std::string& cell, const std::string& pert, double g1, double g2) {
    const auto e = at(cell, pert);
    dense.col(e) << g1, g2;
    table.observed[std::size_t(e)] = 1;
    table.replicates[std::size_t(e)] = 1;
  }
};

// Training entries: A/d1 (1,0), A/d3 (5,4), B/d1 (2,2), B/d2 (4,0).
//   cell means: A = (3, 2), B = (3, 1), C none -> global mean ((1+5+2+4)/4, (0+4+2+0)/4) = (3, 1.5)
//   drug means: d1 = (1.5, 1), d2 = (4, 0), d3 = (5, 4) (C/d3 is held out), d4 none -> the cell mean
const std::vector<std::pair<std::string, std::string>> kQueries = {{"A", "d2"}, {"C", "d3"}, {"A", "d4"},
                                                                   {"C", "d4"}, {"C", "d1"}, {"B", "d3"}};

Eigen::MatrixXd run(const Imputer& imputer, const Fixture& f) {
  std::vector<std::int64_t> queries;
  for (const auto& [cell, pert] : kQueries) queries.push_back(f.at(cell, pert));
  return imputer.impute(engine::Context(MPI_COMM_SELF), f.table, f.train, queries);
}

void expect_columns(const Eigen::MatrixXd& predicted, const std::vector<std::pair<double, double>>& expected) {
  ASSERT_EQ(predicted.rows(), 2);
  ASSERT_EQ(predicted.cols(), Eigen::Index(expected.size()));
  for (std::size_t q = 0; q < expected.size(); ++q) {
    EXPECT_NEAR(predicted(0, Eigen::Index(q)), expected[q].first, kTol)
        << kQueries[q].first << "/" << kQueries[q].second;
    EXPECT_NEAR(predicted(1, Eigen::Index(q)), expected[q].second, kTol)
        << kQueries[q].first << "/" << kQueries[q].second;
  }
}

TEST(Baselines, CellMeanFallsBackToGlobalMean) {
  const Fixture f;
  // A -> (3, 2); C has no training entry -> (3, 1.5); B -> (3, 1).
  expect_columns(run(MeanBaseline(BaselineKind::kCellMean), f), {{3, 2}, {3, 1.5}, {3, 2}, {3, 1.5}, {3, 1.5}, {3, 1}});
}

TEST(Baselines, DrugMeanFallsBackToCellMean) {
  const Fixture f;
  // A/d2 -> d2 = (4, 0); C/d3 -> d3 = (5, 4); A/d4 -> no d4: cell A (3, 2); C/d4 -> cell C -> global (3, 1.5);
  // C/d1 -> d1 = (1.5, 1); B/d3 -> (5, 4).
  expect_columns(run(MeanBaseline(BaselineKind::kDrugMean), f), {{4, 0}, {5, 4}, {3, 2}, {3, 1.5}, {1.5, 1}, {5, 4}});
}

TEST(Baselines, TwoWayMeanWeighsDrugAndCellWithThePublishedFallbacks) {
  const Fixture f;
  // The published fallbacks (uhlerlab means.py): a drug without training entries gets the unweighted average of
  // the drug means, ((1.5, 1) + (4, 0) + (5, 4)) / 3 = (3.5, 5/3); a cell type without them the unweighted average
  // of the cell means, ((3, 2) + (3, 1)) / 2 = (3, 1.5).
  // w = 0.5: A/d2 = (4,0)/2 + (3,2)/2 = (3.5, 1); C/d3 = (5,4)/2 + (3,1.5)/2 = (4, 2.75);
  // A/d4 = (3.5,5/3)/2 + (3,2)/2 = (3.25, 11/6); C/d4 = (3.5,5/3)/2 + (3,1.5)/2 = (3.25, 19/12);
  // C/d1 = (1.5,1)/2 + (3,1.5)/2 = (2.25, 1.25); B/d3 = (5,4)/2 + (3,1)/2 = (4, 2.5).
  expect_columns(run(MeanBaseline(BaselineKind::kTwoWayMean), f),
                 {{3.5, 1}, {4, 2.75}, {3.25, 11.0 / 6}, {3.25, 19.0 / 12}, {2.25, 1.25}, {4, 2.5}});
  // w = 0.25 on A/d2: 0.25 (4, 0) + 0.75 (3, 2) = (3.25, 1.5).
  const Eigen::MatrixXd quarter = run(MeanBaseline(BaselineKind::kTwoWayMean, BaselineParams{0.25}), f);
  EXPECT_NEAR(quarter(0, 0), 3.25, kTol);
  EXPECT_NEAR(quarter(1, 0), 1.5, kTol);
  // The end points are the single means where the drug trains (drug_mean falls back to the cell mean, the
  // published mix to the average drug mean: A/d4 and C/d4, columns 2 and 3).
  const Eigen::MatrixXd drug_only = run(MeanBaseline(BaselineKind::kTwoWayMean, BaselineParams{1.0}), f);
  const Eigen::MatrixXd drug_mean = run(MeanBaseline(BaselineKind::kDrugMean), f);
  for (const Eigen::Index q : {0, 1, 4, 5}) EXPECT_EQ(drug_only.col(q), drug_mean.col(q)) << q;
  for (const Eigen::Index q : {2, 3}) EXPECT_NEAR((drug_only.col(q) - Eigen::Vector2d(3.5, 5.0 / 3)).norm(), 0, kTol);
  EXPECT_EQ(run(MeanBaseline(BaselineKind::kTwoWayMean, BaselineParams{0.0}), f),
            run(MeanBaseline(BaselineKind::kCellMean), f));
}

TEST(Baselines, NamesAndParams) {
  EXPECT_EQ(MeanBaseline(BaselineKind::kCellMean).name(), "cell_mean");
  EXPECT_EQ(MeanBaseline(BaselineKind::kDrugMean).name(), "drug_mean");
  EXPECT_EQ(MeanBaseline(BaselineKind::kTwoWayMean).name(), "two_way_mean");
  EXPECT_FALSE(MeanBaseline(BaselineKind::kCellMean).distributes_itself(engine::Context(MPI_COMM_SELF), {}));
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    EXPECT_THROW(BaselineParams{bad}.validate(), Error) << bad;
    EXPECT_THROW(MeanBaseline(BaselineKind::kTwoWayMean, BaselineParams{bad}), Error) << bad;
  }
  EXPECT_NO_THROW(BaselineParams{}.validate());
}

TEST(Baselines, BadInputsAreErrors) {
  const Fixture f;
  const MeanBaseline imputer(BaselineKind::kCellMean);
  const engine::Context self(MPI_COMM_SELF);
  EXPECT_THROW(imputer.impute(self, f.table, std::vector<std::uint8_t>(5, 1), {0}), Error);
  EXPECT_THROW(imputer.impute(self, f.table, f.train, {12}), Error);
  EXPECT_THROW(imputer.impute(self, f.table, f.train, {-1}), Error);
  std::vector<std::uint8_t> only_junk(12, 0);
  only_junk[std::size_t(f.at("A", "d4"))] = 1;  // flagged but unobserved: no training entry
  EXPECT_THROW(imputer.impute(self, f.table, only_junk, {0}), Error);
  EXPECT_EQ(imputer.impute(self, f.table, f.train, {}).cols(), 0);
}

TEST(Registry, MakesEveryListedMethod) {
  // The baselines come first; other methods follow in the table's order.
  const auto names = imputation_methods();
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 3),
            (std::vector<std::string>{"cell_mean", "drug_mean", "two_way_mean"}));
  MethodParams params;
  params.baseline.two_way_weight = 0.25;
  for (const auto& name : imputation_methods()) EXPECT_EQ(make_imputer(name, params)->name(), name);
  const Fixture f;
  EXPECT_EQ(run(*make_imputer("two_way_mean", params), f),
            run(MeanBaseline(BaselineKind::kTwoWayMean, BaselineParams{0.25}), f));
}

TEST(Registry, UnknownNameListsValidNames) {
  try {
    make_imputer("ntk_magic", MethodParams{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ntk_magic"), std::string::npos) << what;
    for (const auto& name : imputation_methods()) EXPECT_NE(what.find(name), std::string::npos) << what;
  }
  MethodParams bad;
  bad.baseline.two_way_weight = 2;
  EXPECT_THROW(make_imputer("two_way_mean", bad), Error);
}

}  // namespace
}  // namespace tessera::solvers::imputation
