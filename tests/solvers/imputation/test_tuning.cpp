// Inner cross-validation, --autotune and the stack (solvers/imputation/inner_cv.h, tuning.h, stacking.h), at 1, 2 and
// 3 ranks: choices and predictions checked against the same steps done by hand on one rank (MPI_COMM_SELF), and
// bit-identical to them (every method here is local, so no summation order changes with the rank count).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "engine/context.h"
#include "engine/random.h"
#include "solvers/imputation/baselines.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/imputation/inner_cv.h"
#include "solvers/imputation/stacking.h"
#include "solvers/imputation/tuning.h"
#include "solvers/registry.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::imputation {
namespace {

// 5 cell types x 14 drugs x 6 genes, ~75% observed: value = cell effect + drug effect + noise, with a drug effect
// of its own size in each cell type so that neither mean is perfect.
io::PerturbationTable make_table(double drug_weight = 1.0) {
  io::PerturbationTable t;
  t.genes = {"g1", "g2", "g3", "g4", "g5", "g6"};
  t.cells = {"c0", "c1", "c2", "c3", "c4"};
  for (int p = 0; p < 14; ++p) {
    char id[8];
    std::snprintf(id, sizeof id, "d%d", p);
    t.perts.push_back(id);
  }
  engine::RandomStream stream(11, "test/tuning-table");
  Eigen::MatrixXd cell = Eigen::MatrixXd::Zero(6, 5), drug = Eigen::MatrixXd::Zero(6, 14);
  for (auto* m : {&cell, &drug})
    for (Eigen::Index i = 0; i < m->size(); ++i) m->data()[i] = stream.normal();
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(6, t.num_entries());
  t.observed.assign(std::size_t(t.num_entries()), 0);
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    if (stream.uniform() >= 0.75) continue;
    t.observed[std::size_t(e)] = 1;
    for (int g = 0; g < 6; ++g)
      dense(g, e) = cell(g, t.cell_of(e)) + drug_weight * (0.5 + 0.2 * double(t.cell_of(e))) * drug(g, t.pert_of(e)) +
                    0.3 * stream.normal();
  }
  t.replicates.assign(t.observed.begin(), t.observed.end());
  t.set_dense(dense);
  return t;
}

FoldPlan outer_plan(const io::PerturbationTable& table) {
  ProtocolOptions o;
  o.folds = 4;
  o.min_drugs = 4;
  o.reference_cells = {"c0"};
  o.seed = 3;
  return make_folds(table, o);
}

InnerCvParams inner_params() {
  InnerCvParams inner;
  inner.inner_folds = 3;
  inner.train_only_cells = {"c0"};
  inner.seed = 9;
  return inner;
}

Candidate two_way(double weight) {
  BaselineParams params;
  params.two_way_weight = weight;
  char label[32];
  std::snprintf(label, sizeof label, "w=%g", weight);
  return {label, std::make_unique<MeanBaseline>(BaselineKind::kTwoWayMean, params)};
}

TEST(InnerFoldPlan, DealsEachEvaluatedCellTypesTrainingEntriesOnly) {
  const auto table = make_table();
  const FoldPlan outer = outer_plan(table);
  const auto train = train_mask(outer, 0);
  const InnerCvParams inner = inner_params();
  const FoldPlan plan = inner_fold_plan(table, train, inner);
  ASSERT_EQ(plan.num_folds, 3);
  std::vector<int> per_fold(3, 0);
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    const int label = plan.fold[std::size_t(e)];
    if (!train[std::size_t(e)] || !table.observed[std::size_t(e)]) {
      EXPECT_EQ(label, kUnused) << "entry " << e << " is not a training entry of the outer fold";
    } else if (table.cell_of(e) == 0) {
      EXPECT_EQ(label, kTrainOnly) << "the reference cell type stays train-only";
    } else {
      ASSERT_GE(label, 0);
      ++per_fold[std::size_t(label)];
    }
  }
  EXPECT_LE(*std::max_element(per_fold.begin(), per_fold.end()) - *std::min_element(per_fold.begin(), per_fold.end()),
            1);
  EXPECT_EQ(inner_fold_plan(table, train, inner).fold, plan.fold) << "deterministic";

  // A cell type with one training entry has nothing to hold out; with none anywhere the plan is refused.
  std::vector<std::uint8_t> one(train.size(), 0);
  one[std::size_t(table.entry(1, 0))] = table.observed[std::size_t(table.entry(1, 0))] ? 1 : 0;
  for (std::int64_t p = 0; p < table.num_perts(); ++p) one[std::size_t(table.entry(0, p))] = 1;
  testing::expect_mentions(testing::error_of([&] { inner_fold_plan(table, one, inner); }),
                           {"at least 2 training pairs outside the reference cell types"});
}

TEST(SimplexLeastSquares, ProjectsAndMinimisesAsBruteForceDoes) {
  const auto near = [](const Eigen::VectorXd& got, std::vector<double> want) {
    ASSERT_EQ(got.size(), Eigen::Index(want.size()));
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got(Eigen::Index(i)), want[i], 1e-15);
  };
  near(project_to_simplex(Eigen::Vector3d(0.5, 0.5, 0.5)), {1.0 / 3, 1.0 / 3, 1.0 / 3});
  near(project_to_simplex(Eigen::Vector2d(2, 0)), {1, 0});
  near(project_to_simplex(Eigen::Vector2d(0.2, 0.1)), {0.55, 0.45});

  // Brute force: on every support S, the minimiser with sum w = 1 from the KKT system [2G_S 1; 1' 0]; keep the
  // feasible (w >= 0) one of least objective.
  engine::RandomStream stream(5, "test/simplex");
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 4;
    Eigen::MatrixXd p(40, n);
    Eigen::VectorXd y(40);
    for (Eigen::Index i = 0; i < p.size(); ++i) p.data()[i] = stream.normal();
    for (Eigen::Index i = 0; i < y.size(); ++i) y(i) = stream.normal() + 0.5 * p(i, trial % n);
    const Eigen::MatrixXd gram = p.transpose() * p;
    const Eigen::VectorXd cross = p.transpose() * y;
    const auto objective = [&](const Eigen::VectorXd& w) { return w.dot(gram * w) - 2 * cross.dot(w); };
    double best = INFINITY;
    Eigen::VectorXd best_w;
    for (int mask = 1; mask < (1 << n); ++mask) {
      std::vector<int> s;
      for (int i = 0; i < n; ++i)
        if (mask & (1 << i)) s.push_back(i);
      const auto k = Eigen::Index(s.size());
      Eigen::MatrixXd kkt = Eigen::MatrixXd::Zero(k + 1, k + 1);
      Eigen::VectorXd rhs(k + 1);
      for (Eigen::Index a = 0; a < k; ++a) {
        for (Eigen::Index b = 0; b < k; ++b) kkt(a, b) = 2 * gram(s[std::size_t(a)], s[std::size_t(b)]);
        kkt(a, k) = kkt(k, a) = 1;
        rhs(a) = 2 * cross(s[std::size_t(a)]);
      }
      rhs(k) = 1;
      const Eigen::VectorXd solution = kkt.fullPivLu().solve(rhs);
      Eigen::VectorXd w = Eigen::VectorXd::Zero(n);
      for (Eigen::Index a = 0; a < k; ++a) w(s[std::size_t(a)]) = solution(a);
      if (w.minCoeff() < -1e-12) continue;
      if (objective(w) < best) best = objective(w), best_w = w;
    }
    const Eigen::VectorXd w = simplex_least_squares(gram, cross);
    EXPECT_NEAR(w.sum(), 1.0, 1e-14);
    EXPECT_GE(w.minCoeff(), 0.0);
    EXPECT_LE(objective(w), best + 1e-9 * std::abs(best));
    EXPECT_LT((w - best_w).cwiseAbs().maxCoeff(), 1e-6) << "trial " << trial;
  }
}

// The choice --autotune makes for an outer fold reads the fold's training pairs only: planting held-out values that
// would make the other candidate win changes nothing.
TEST(Tuning, NeverSeesTheHeldOutPairs) {
  const engine::Context world, self(MPI_COMM_SELF);
  const auto table = make_table(/*drug_weight=*/0.2);  // cell effects dominate: the cell mean wins inside
  const FoldPlan outer = outer_plan(table);
  const auto train = train_mask(outer, 1);
  const auto held = held_out_entries(outer, 1);
  std::vector<Candidate> candidates;
  candidates.push_back(two_way(1.0));  // the drug mean, first: it would win a tie
  candidates.push_back(two_way(0.0));  // the cell mean
  const TunedImputer tuned("two_way_mean", std::move(candidates), inner_params());

  // Plant: the held-out values become exactly the drug mean's predictions, which it then predicts with r = 1.
  auto planted = table;
  const Eigen::MatrixXd drug_mean = two_way(1.0).imputer->impute(self, table, train, held);
  const Eigen::MatrixXd cell_mean = two_way(0.0).imputer->impute(self, table, train, held);
  for (std::size_t j = 0; j < held.size(); ++j) planted.signature(held[j]) = drug_mean.col(Eigen::Index(j));
  CvPredictions direct{held, std::vector<int>(held.size(), 1), drug_mean};
  CvPredictions other{held, std::vector<int>(held.size(), 1), cell_mean};
  ASSERT_GT(evaluate(planted, direct).overall.pearson, evaluate(planted, other).overall.pearson + 0.1)
      << "on the planted values the drug mean wins, so a tuner that looked at them would choose it";

  const Eigen::MatrixXd on_table = tuned.impute(world, table, train, held);
  const Eigen::MatrixXd on_planted = tuned.impute(world, planted, train, held);
  EXPECT_EQ(on_table, cell_mean) << "the cell mean wins on the training pairs";
  EXPECT_EQ(on_planted, cell_mean);
  const auto choices = tuned.choices();
  ASSERT_EQ(choices.size(), 4u);
  for (const std::size_t call : {0u, 2u}) {
    EXPECT_EQ(choices[call].label, "w=1");
    EXPECT_EQ(choices[call].weight, 0.0);
    EXPECT_EQ(choices[call + 1].label, "w=0");
    EXPECT_EQ(choices[call + 1].weight, 1.0);
    EXPECT_EQ(choices[call].first_query, held.front());
    EXPECT_EQ(choices[call].inner_pearson, choices[call % 2].inner_pearson) << "planting changed an inner score";
  }
}

// The chosen candidate is the one with the best inner r computed by hand, and the tuned prediction is its fit.
TEST(Tuning, ChoosesTheBestInnerScoreAndPredictsWithIt) {
  const engine::Context world, self(MPI_COMM_SELF);
  const auto table = make_table();
  const FoldPlan outer = outer_plan(table);
  const std::vector<double> weights{0.0, 0.3, 0.6, 1.0};
  std::vector<Candidate> candidates;
  for (const double w : weights) candidates.push_back(two_way(w));
  const TunedImputer tuned("two_way_mean", std::move(candidates), inner_params());
  const CvPredictions predictions = cross_validate(world, tuned, table, outer);
  const auto choices = tuned.choices();
  ASSERT_EQ(choices.size(), weights.size() * std::size_t(outer.num_folds));
  for (int k = 0; k < outer.num_folds; ++k) {
    const auto train = train_mask(outer, k);
    const FoldPlan inner = inner_fold_plan(table, train, inner_params());
    std::vector<double> r;
    for (const double w : weights)
      r.push_back(evaluate(table, cross_validate(self, *two_way(w).imputer, table, inner)).overall.pearson);
    const std::size_t best = std::size_t(std::max_element(r.begin(), r.end()) - r.begin());
    for (std::size_t i = 0; i < weights.size(); ++i) {
      const auto& choice = choices[std::size_t(k) * weights.size() + i];
      EXPECT_EQ(choice.inner_pearson, r[i]);
      EXPECT_EQ(choice.weight, i == best ? 1.0 : 0.0);
    }
    const auto held = held_out_entries(outer, k);
    const Eigen::MatrixXd expected = two_way(weights[best]).imputer->impute(self, table, train, held);
    for (std::size_t j = 0; j < held.size(); ++j) {
      const auto column =
          std::find(predictions.entries.begin(), predictions.entries.end(), held[j]) - predictions.entries.begin();
      EXPECT_EQ(predictions.predicted.col(column), expected.col(Eigen::Index(j)));
    }
  }
  EXPECT_EQ(TunedImputer::best_candidate({NAN, 0.2, 0.5, 0.5}), 2u) << "NaN never wins; the first of a tie does";
  EXPECT_EQ(TunedImputer::best_candidate({NAN, NAN}), 0u);
}

// The stack's weights are the simplex least-squares fit to the bases' inner predictions (per cell type with
// enough inner pairs, else global), and its prediction is the weighted sum of the bases fitted on all training
// pairs.
TEST(Stack, FitsWeightsToInnerPredictionsAndCombinesTheBases) {
  const engine::Context world, self(MPI_COMM_SELF);
  const auto table = make_table();
  const FoldPlan outer = outer_plan(table);
  const std::vector<std::string> names{"cell_mean", "drug_mean", "dnpp"};
  for (const int min_cell_pairs : {1000, 3}) {
    StackParams params;
    params.min_cell_pairs = min_cell_pairs;
    std::vector<Candidate> bases;
    for (const auto& name : names) bases.push_back({name, make_imputer(name, MethodParams{})});
    const StackedImputer stack(std::move(bases), inner_params(), params);
    const auto train = train_mask(outer, 2);
    const auto held = held_out_entries(outer, 2);
    const Eigen::MatrixXd got = stack.impute(world, table, train, held);

    // By hand, on one rank.
    const FoldPlan inner = inner_fold_plan(table, train, inner_params());
    std::vector<CvPredictions> base_inner;
    for (const auto& name : names)
      base_inner.push_back(cross_validate(self, *make_imputer(name, MethodParams{}), table, inner));
    const auto fit = [&](std::int64_t cell) {  // cell -1: every inner pair
      Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(3, 3);
      Eigen::VectorXd cross = Eigen::VectorXd::Zero(3);
      for (std::size_t j = 0; j < base_inner[0].entries.size(); ++j) {
        const std::int64_t e = base_inner[0].entries[j];
        if (cell >= 0 && table.cell_of(e) != cell) continue;
        for (int a = 0; a < 3; ++a) {
          cross(a) += base_inner[std::size_t(a)].predicted.col(Eigen::Index(j)).dot(table.signature(e));
          for (int b = 0; b < 3; ++b)
            gram(a, b) += base_inner[std::size_t(a)]
                              .predicted.col(Eigen::Index(j))
                              .dot(base_inner[std::size_t(b)].predicted.col(Eigen::Index(j)));
        }
      }
      return simplex_least_squares(gram, cross);
    };
    std::map<std::int64_t, int> inner_pairs;
    for (const auto e : base_inner[0].entries) ++inner_pairs[table.cell_of(e)];
    std::set<std::string> own_cells;
    for (const auto& choice : stack.choices()) own_cells.insert(choice.cell);
    Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(table.num_genes(), Eigen::Index(held.size()));
    for (std::size_t b = 0; b < names.size(); ++b) {
      const Eigen::MatrixXd base = make_imputer(names[b], MethodParams{})->impute(self, table, train, held);
      for (std::size_t j = 0; j < held.size(); ++j) {
        const std::int64_t cell = table.cell_of(held[j]);
        const bool own = inner_pairs[cell] >= min_cell_pairs;
        EXPECT_EQ(own_cells.count(table.cells[std::size_t(cell)]), own ? 1u : 0u);
        expected.col(Eigen::Index(j)) += fit(own ? cell : -1)(Eigen::Index(b)) * base.col(Eigen::Index(j));
      }
    }
    EXPECT_LT((got - expected).cwiseAbs().maxCoeff(), 1e-12) << "min_cell_pairs " << min_cell_pairs;
    EXPECT_EQ(own_cells.size(), min_cell_pairs == 1000 ? 1u : 1u + 4u) << "global, then every evaluated cell type";
    const auto global = fit(-1);
    for (const auto& choice : stack.choices()) {
      if (choice.cell != "all") continue;
      EXPECT_EQ(choice.weight,
                global(Eigen::Index(std::find(names.begin(), names.end(), choice.label) - names.begin())));
    }
  }
}

// make_method: --autotune builds one candidate per grid point (a one-point grid is the plain method), and a stack over
// tuned bases has every grid point of every base.
TEST(Tuning, RegistryBuildsCandidatesFromGrids) {
  MethodParams params;
  const TuningGrids grids{{"dnpp", {{"dnpp_k", {"3", "6"}}}}};
  EXPECT_EQ(make_method("cell_mean", params, &grids)->name(), "cell_mean");
  EXPECT_EQ(dynamic_cast<const ExplainsChoices*>(make_method("cell_mean", params, &grids).get()), nullptr);
  const auto dnpp = grid_candidates("dnpp", params, grids.at("dnpp"));
  ASSERT_EQ(dnpp.size(), 2u);
  EXPECT_EQ(dnpp[1].label, "dnpp_k=6");
  EXPECT_EQ(dynamic_cast<const Dnpp&>(*dnpp[1].imputer).params().k, 6);
  EXPECT_EQ(grid_candidates("ntk", params, default_tuning_grid("ntk")).size(), 9u);
  params.stack.methods = "two_way_mean, dnpp";
  const auto stack = make_method("stack", params, &grids);
  EXPECT_EQ(stack->name(), "stack");
  testing::expect_mentions(testing::error_of([&] {
                             grid_candidates("dnpp", params, {{"dnpp_q", {"1"}}});
                           }),
                           {"no method has a knob 'dnpp_q'"});
  testing::expect_mentions(testing::error_of([&] {
                             grid_candidates("dnpp", params, {{"dnpp_k", {"0"}}});
                           }),
                           {"--dnpp-k 0 is invalid"});
}

}  // namespace
}  // namespace tessera::solvers::imputation
