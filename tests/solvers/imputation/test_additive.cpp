// The additive combination baseline (solvers/imputation/additive.h) on hand-made tables, and with the combo
// protocols (protocol.h) through cross-validation. Its runs over 1, 2 and 3 ranks are test_cross_validation's
// (CrossValidate.EveryMethodMatchesSerialAndFoldsByHand goes through every registered method).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "engine/context.h"
#include "engine/error.h"
#include "io/combinations.h"
#include "solvers/imputation/additive.h"
#include "solvers/imputation/baselines.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/imputation/protocol.h"
#include "solvers/registry.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::imputation {
namespace {

constexpr double kTol = 1e-12;

using tessera::testing::error_of;
using tessera::testing::expect_mentions;

// 3 cell types (X, Y, Z) x 7 perturbations x 2 genes. Observed (gene1, gene2):
//   A:    X (1, 0)   Y (3, 2)   Z (5, -2)
//   B:    X (0, 1)   Y (2, 4)              (Z unobserved, but flagged in the train mask: ignored)
//   C:                          Z (7, 7)   (observed, never trains: no known effect)
//   D:    X (10, 10)
//   A+B:  X (2, 2)   Y (4, 4)   Z (6, 6)
//   A+C:  X (9, 9)
//   A+Q:             Y (1, 1)              (Q is not a perturbation of the table)
// Training: every observed single except Z/C; no combination.
struct Fixture {
  io::PerturbationTable table;
  Eigen::MatrixXd dense;
  std::vector<std::uint8_t> train;
  Fixture() {
    table.genes = {"g1", "g2"};
    table.cells = {"X", "Y", "Z"};
    table.perts = {"A", "A+B", "A+C", "A+Q", "B", "C", "D"};  // sorted, as find_pert needs
    dense = Eigen::MatrixXd::Zero(2, table.num_entries());
    table.observed.assign(std::size_t(table.num_entries()), 0);
    table.replicates.assign(std::size_t(table.num_entries()), 0);
    set("X", "A", 1, 0);
    set("Y", "A", 3, 2);
    set("Z", "A", 5, -2);
    set("X", "B", 0, 1);
    set("Y", "B", 2, 4);
    set("Z", "C", 7, 7);
    set("X", "D", 10, 10);
    set("X", "A+B", 2, 2);
    set("Y", "A+B", 4, 4);
    set("Z", "A+B", 6, 6);
    set("X", "A+C", 9, 9);
    set("Y", "A+Q", 1, 1);
    table.set_dense(dense);
    train.assign(std::size_t(table.num_entries()), 0);
    for (const std::string pert : {"A", "B", "D"})
      for (const std::string cell : {"X", "Y", "Z"}) train[std::size_t(at(cell, pert))] = 1;
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

using Query = std::pair<std::string, std::string>;
using Expected = std::pair<double, double>;

void expect_predictions(const Fixture& f, const std::vector<std::uint8_t>& train,
                        const std::vector<std::pair<Query, Expected>>& cases) {
  std::vector<std::int64_t> queries;
  for (const auto& [query, expected] : cases) queries.push_back(f.at(query.first, query.second));
  const Eigen::MatrixXd predicted =
      AdditiveCombination().impute(engine::Context(MPI_COMM_SELF), f.table, train, queries);
  ASSERT_EQ(predicted.rows(), 2);
  ASSERT_EQ(predicted.cols(), Eigen::Index(cases.size()));
  for (std::size_t q = 0; q < cases.size(); ++q) {
    const auto& [query, expected] = cases[q];
    EXPECT_NEAR(predicted(0, Eigen::Index(q)), expected.first, kTol) << query.first << "/" << query.second;
    EXPECT_NEAR(predicted(1, Eigen::Index(q)), expected.second, kTol) << query.first << "/" << query.second;
  }
}

TEST(Additive, SumsThePartsWithTheirFallbacks) {
  const Fixture f;
  expect_predictions(f, f.train,
                     {
                         // Both parts train in X: A(X) + B(X) = (1, 0) + (0, 1).
                         {{"X", "A+B"}, {1, 1}},
                         // B does not train in Z: A(Z) + mean of B over X, Y = (5, -2) + (1, 2.5).
                         {{"Z", "A+B"}, {6, 0.5}},
                         // C has no training entry anywhere (Z/C is observed but held out): zero.
                         {{"Y", "A+C"}, {3, 2}},
                         // Q is not a perturbation of the table: zero.
                         {{"Y", "A+Q"}, {3, 2}},
                         // A single is a one-part combination: D trains only in X, so Z gets D's mean.
                         {{"Z", "D"}, {10, 10}},
                         // ... and a single without any training entry is zero (drug_mean would give a cell mean).
                         {{"Y", "C"}, {0, 0}},
                         {{"Z", "C"}, {0, 0}},
                         // A queried entry that trains is its own signature.
                         {{"X", "A"}, {1, 0}},
                     });
}

TEST(Additive, AHeldOutSingleFallsBackToTheMeanOverTheOtherCellTypes) {
  const Fixture f;
  auto train = f.train;
  train[std::size_t(f.at("Y", "A"))] = 0;
  expect_predictions(f, train,
                     {
                         // A over X and Z: ((1 + 5) / 2, (0 - 2) / 2) = (3, -1).
                         {{"Y", "A"}, {3, -1}},
                         // (3, -1) + B(Y) (2, 4).
                         {{"Y", "A+B"}, {5, 3}},
                         // Other cell types keep their own A.
                         {{"X", "A+B"}, {1, 1}},
                     });
  // A trains nowhere: A+B in Z is B's mean alone.
  for (const std::string cell : {"X", "Y", "Z"}) train[std::size_t(f.at(cell, "A"))] = 0;
  expect_predictions(f, train, {{{"Z", "A+B"}, {1, 2.5}}, {{"X", "A+B"}, {0, 1}}});
}

TEST(Additive, TrainingCombinationsAreNotUsedAsParts) {
  // A trained combination entry adds nothing to the prediction of another: only the singles are parts.
  const Fixture f;
  auto train = f.train;
  train[std::size_t(f.at("X", "A+B"))] = 1;
  train[std::size_t(f.at("X", "A+C"))] = 1;
  expect_predictions(f, train, {{{"Z", "A+B"}, {6, 0.5}}, {{"Y", "A+C"}, {3, 2}}});
}

TEST(Additive, BitIdenticalToSummingThePartsInNameOrder) {
  // Sums in name order of the parts: the same doubles as adding the columns by hand.
  const Fixture f;
  const Eigen::MatrixXd got =
      AdditiveCombination().impute(engine::Context(MPI_COMM_SELF), f.table, f.train, {f.at("X", "A+B")});
  const Eigen::VectorXd by_hand = f.table.signature(f.at("X", "A")) + f.table.signature(f.at("X", "B"));
  EXPECT_EQ(Eigen::VectorXd(got.col(0)), by_hand);
}

TEST(Additive, NameRegistryAndBadInputs) {
  const Fixture f;
  const AdditiveCombination imputer;
  const engine::Context self(MPI_COMM_SELF);
  EXPECT_EQ(imputer.name(), "additive");
  EXPECT_FALSE(imputer.distributes_itself(self, f.table));
  EXPECT_EQ(make_imputer("additive", MethodParams{})->name(), "additive");
  const auto q = f.at("X", "A+B");
  EXPECT_EQ(make_imputer("additive", MethodParams{})->impute(self, f.table, f.train, {q}),
            imputer.impute(self, f.table, f.train, {q}));

  expect_mentions(error_of([&] { imputer.impute(self, f.table, std::vector<std::uint8_t>(5, 1), {0}); }),
                  {"additive: train mask has 5 flags but the table has 21 entries"});
  expect_mentions(error_of([&] { imputer.impute(self, f.table, f.train, {21}); }),
                  {"additive: query entry 21 is outside the table's 21 entries"});
  std::vector<std::uint8_t> only_unobserved(f.train.size(), 0);
  only_unobserved[std::size_t(f.at("Z", "B"))] = 1;
  expect_mentions(error_of([&] { imputer.impute(self, f.table, only_unobserved, {q}); }),
                  {"additive: no training entry"});
  EXPECT_EQ(imputer.impute(self, f.table, f.train, {}).cols(), 0);

  // "A++B" sorts between "A" and "A+B"; its empty part is refused when it is queried.
  io::PerturbationTable bad = f.table;
  bad.perts = {"A", "A++B", "A+C", "A+Q", "B", "C", "D"};
  ASSERT_TRUE(std::is_sorted(bad.perts.begin(), bad.perts.end()));
  expect_mentions(error_of([&] { imputer.impute(self, bad, f.train, {bad.entry(0, 1)}); }),
                  {"additive: perturbation 'A++B' has an empty part", "joined by single '+' signs"});
}

// Singles S0..S5 and every pair of them in 4 cell types; a pair's entry is exactly the sum of its parts' entries in
// the same cell type, so the additive model is right wherever both parts train in that cell type.
io::PerturbationTable additive_screen() {
  io::PerturbationTable t;
  t.genes = {"g1", "g2", "g3"};
  t.cells = {"c0", "c1", "c2", "c3"};
  const std::vector<std::string> singles = {"S0", "S1", "S2", "S3", "S4", "S5"};
  t.perts = singles;
  for (int i = 0; i < 6; ++i)
    for (int j = i + 1; j < 6; ++j) t.perts.push_back(singles[std::size_t(i)] + "+" + singles[std::size_t(j)]);
  std::sort(t.perts.begin(), t.perts.end());
  t.observed.assign(std::size_t(t.num_entries()), 1);
  t.replicates.assign(std::size_t(t.num_entries()), 1);
  Eigen::MatrixXd dense(3, t.num_entries());
  auto single_effect = [](std::int64_t c, const std::string& s) {
    const double i = double(s[1] - '0');
    return Eigen::Vector3d(i + 0.5 * double(c), i * i - double(c), 1.0 / (1.0 + i + double(c)));
  };
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    Eigen::Vector3d sum = Eigen::Vector3d::Zero();
    for (const auto& part : io::combination_parts(t.perts[std::size_t(t.pert_of(e))]))
      sum += single_effect(t.cell_of(e), part);
    dense.col(e) = sum;
  }
  t.set_dense(dense);
  return t;
}

TEST(Additive, ExactOnAnAdditiveScreenUnderComboSeen2) {
  const auto table = additive_screen();
  ProtocolOptions o;
  o.protocol = Protocol::kComboSeen2;
  o.train_singles_fraction = 4.0 / 6;  // 4 training singles: 6 seen2 pairs
  o.train_seen2_fraction = 0.5;        // 3 train, 3 held out
  o.seed = 3;
  const FoldPlan plan = make_folds(table, o);
  const CvPredictions cv = cross_validate(engine::Context(MPI_COMM_SELF), AdditiveCombination(), table, plan);
  ASSERT_EQ(cv.entries.size(), 3u * 4u);  // 3 held-out pairs in 4 cell types
  for (std::size_t j = 0; j < cv.entries.size(); ++j) {
    const auto e = cv.entries[j];
    EXPECT_TRUE(io::is_combination(table.perts[std::size_t(table.pert_of(e))]));
    EXPECT_LE((cv.predicted.col(Eigen::Index(j)) - table.signature(e)).cwiseAbs().maxCoeff(), kTol)
        << table.perts[std::size_t(table.pert_of(e))];
  }
}

TEST(Additive, ComboSeen1PredictsTheTrainedPartAlone) {
  // The untrained part of a seen1 pair trains nowhere (its single is kUnused), so it contributes zero.
  const auto table = additive_screen();
  ProtocolOptions o;
  o.protocol = Protocol::kComboSeen1;
  o.seed = 11;
  const FoldPlan plan = make_folds(table, o);
  const auto train = train_mask(plan, 0);
  const CvPredictions cv = cross_validate(engine::Context(MPI_COMM_SELF), AdditiveCombination(), table, plan);
  ASSERT_FALSE(cv.entries.empty());
  for (std::size_t j = 0; j < cv.entries.size(); ++j) {
    const auto e = cv.entries[j];
    const auto c = table.cell_of(e);
    Eigen::VectorXd trained_part = Eigen::VectorXd::Zero(3);
    int trained = 0;
    for (const auto& part : io::combination_parts(table.perts[std::size_t(table.pert_of(e))])) {
      const auto single = table.entry(c, table.find_pert(part));
      if (!train[std::size_t(single)]) continue;
      trained_part = table.signature(single);
      ++trained;
    }
    EXPECT_EQ(trained, 1) << table.perts[std::size_t(table.pert_of(e))];
    EXPECT_EQ(Eigen::VectorXd(cv.predicted.col(Eigen::Index(j))), trained_part);
  }
}

}  // namespace
}  // namespace tessera::solvers::imputation
