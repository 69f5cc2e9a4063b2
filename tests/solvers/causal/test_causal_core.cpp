// Core pieces of solvers/causal: CI and invariance tests against brute force, minimal I-maps from population
// covariances, the covered-arc update against recomputation, DAG metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/context.h"
#include "solvers/causal/citest/gaussian_ci_test.h"
#include "solvers/causal/citest/gaussian_invariance_test.h"
#include "solvers/causal/citest/hsic_ci_test.h"
#include "solvers/causal/random_dag.h"
#include "solvers/causal/score/minimal_imap.h"
#include "solvers/causal/stats/sufficient_stats.h"

namespace tessera::solvers::causal {
namespace {

constexpr double kEps = 1e-12;

// "Data" that are the population: exact covariance and a huge n, so every test is exact.
SettingStats population_stats(const LinearSem& sem) {
  return {1e9, Eigen::VectorXd::Zero(sem.dag.num_nodes()), population_covariance(sem)};
}

LinearSem random_sem(int p, double degree, std::uint64_t seed) {
  engine::RandomStream rng(seed, "test/sem");
  return random_linear_sem(random_er_dag(p, degree, rng), rng);
}

TEST(Metrics, ShdCountsAReversalOnce) {
  Dag a(4), b(4);
  a.add_edge(0, 1);
  a.add_edge(1, 2);
  a.add_edge(2, 3);
  b.add_edge(1, 0);  // reversed
  b.add_edge(1, 2);  // same
  b.add_edge(0, 3);  // extra; 2 -> 3 missing
  EXPECT_EQ(shd(a, b), 3);
  EXPECT_EQ(shd(a, a), 0);
  const auto acc = edge_accuracy(a, b);
  EXPECT_EQ(acc.true_positives, 1);
  EXPECT_NEAR(acc.precision(), 1.0 / 3, kEps);
  EXPECT_NEAR(acc.recall(), 1.0 / 3, kEps);
}

TEST(Metrics, MarkovEquivalence) {
  Dag chain(3), reversed(3), collider(3);
  chain.add_edge(0, 1);
  chain.add_edge(1, 2);
  reversed.add_edge(2, 1);
  reversed.add_edge(1, 0);
  collider.add_edge(0, 1);
  collider.add_edge(2, 1);
  EXPECT_TRUE(markov_equivalent(chain, reversed));
  EXPECT_FALSE(markov_equivalent(chain, collider));
}

TEST(Dag, CoveredArcsAndAdjacentOrder) {
  Dag g(4);  // 0 -> 1, 0 -> 2, 1 -> 2, 2 -> 3
  g.add_edge(0, 1);
  g.add_edge(0, 2);
  g.add_edge(1, 2);
  g.add_edge(2, 3);
  EXPECT_EQ(g.covered_arcs(), (std::vector<Arc>{{0, 1}, {1, 2}}));
  const auto order = g.order_with_adjacent(1, 2);
  const auto at = std::find(order.begin(), order.end(), 1);
  ASSERT_NE(at + 1, order.end());
  EXPECT_EQ(*(at + 1), 2);
}

TEST(Stats, RankBlocksEqualDirectCovarianceAndPoolingIsExact) {
  const LinearSem sem = random_sem(6, 2, 3);
  const auto data = simulate_interventional(sem, 500, {{{2}}}, 300, 11);
  const auto stats = compute_setting_stats(engine::Context(MPI_COMM_SELF), data);
  ASSERT_EQ(stats.size(), 2u);
  const Eigen::MatrixXd obs = data.samples.topRows(500);
  const Eigen::MatrixXd centred = obs.rowwise() - obs.colwise().mean();
  const Eigen::MatrixXd cov = centred.transpose() * centred / 499.0;
  EXPECT_LE((stats[0].cov - cov).norm() / cov.norm(), 1e-13);
  const Eigen::MatrixXd all = data.samples;
  const Eigen::MatrixXd c_all = all.rowwise() - all.colwise().mean();
  const SettingStats pooled = pool(stats[0], stats[1]);
  EXPECT_LE((pooled.cov - c_all.transpose() * c_all / 799.0).norm() / pooled.cov.norm(), 1e-13);
}

// Partial correlation by brute force: correlate the residuals of regressing i and j on S (with intercept).
double regression_partial_correlation(const Eigen::MatrixXd& x, int i, int j, const std::vector<int>& s) {
  const auto n = x.rows();
  Eigen::MatrixXd design(n, Eigen::Index(s.size()) + 1);
  design.col(0).setOnes();
  for (std::size_t a = 0; a < s.size(); ++a) design.col(Eigen::Index(a) + 1) = x.col(s[a]);
  auto residual = [&](int v) -> Eigen::VectorXd {
    const Eigen::VectorXd y = x.col(v);
    return y - design * design.colPivHouseholderQr().solve(y);
  };
  const Eigen::VectorXd ri = residual(i), rj = residual(j);
  return ri.dot(rj) / std::sqrt(ri.squaredNorm() * rj.squaredNorm());
}

TEST(GaussianCiTest, PartialCorrelationMatchesRegressionAndMemoises) {
  const LinearSem sem = random_sem(8, 3, 5);
  const auto data = simulate_interventional(sem, 2000, {}, 0, 7);
  const auto stats = compute_setting_stats(engine::Context(MPI_COMM_SELF), data);
  GaussianCiTest test(stats[0], 1e-3);
  const std::vector<std::vector<int>> sets{{}, {2}, {5, 2}, {3, 4, 6, 7}};
  for (const auto& s : sets) {
    const double r = test.partial_correlation(0, 1, s);
    EXPECT_NEAR(r, regression_partial_correlation(data.samples, 0, 1, s), 1e-10) << "set size " << s.size();
    const double expected_p = std::erfc(std::abs(std::atanh(r)) * std::sqrt(2000.0 - s.size() - 3) / std::sqrt(2.0));
    EXPECT_NEAR(test.p_value(1, 0, s), expected_p, 1e-12);
  }
  const std::size_t tests = test.num_tests();
  std::vector<int> shuffled{7, 3, 6, 4};
  test.p_value(0, 1, shuffled);  // same set, other order: a memo hit
  EXPECT_EQ(test.num_tests(), tests);
  EXPECT_NEAR(GaussianCiTest(stats[0]).alpha(), 1.0 / 2000, kEps);  // default alpha = 1/n
}

TEST(MinimalImap, TrueOrderRecoversTheDagFromThePopulation) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const LinearSem sem = random_sem(25, 3, seed);
    GaussianCiTest test(population_stats(sem));
    const auto order = sem.dag.topological_order();
    EXPECT_EQ(shd(sem.dag, minimal_imap_gaussian(order, test)), 0) << "seed " << seed;
    EXPECT_EQ(shd(sem.dag, minimal_imap(order, test)), 0) << "seed " << seed;
  }
}

TEST(MinimalImap, PrecisionBorderingEqualsCiTestsOnSamples) {
  const LinearSem sem = random_sem(15, 3, 9);
  const auto data = simulate_interventional(sem, 3000, {}, 0, 4);
  GaussianCiTest test(compute_setting_stats(engine::Context(MPI_COMM_SELF), data)[0], 1e-3);
  engine::RandomStream rng(1, "test/order");
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<int> order(15);
    std::iota(order.begin(), order.end(), 0);
    rng.shuffle(order);
    EXPECT_EQ(minimal_imap_gaussian(order, test), minimal_imap(order, test));
  }
}

TEST(MinimalImap, CoveredArcUpdateEqualsRecomputation) {
  int checked = 0;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const LinearSem sem = random_sem(12, 3, seed);
    GaussianCiTest test(population_stats(sem));
    engine::RandomStream rng(seed, "test/order");
    std::vector<int> order(12);
    std::iota(order.begin(), order.end(), 0);
    rng.shuffle(order);
    const Dag g = minimal_imap(order, test);
    for (const auto& [i, j] : g.covered_arcs()) {
      Dag updated = g;
      reverse_covered_arc(updated, i, j, test);
      std::vector<int> swapped = g.order_with_adjacent(i, j);
      std::iter_swap(std::find(swapped.begin(), swapped.end(), i), std::find(swapped.begin(), swapped.end(), j));
      EXPECT_EQ(updated, minimal_imap(swapped, test)) << "seed " << seed << " arc " << i << "->" << j;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(GaussianInvarianceTest, DetectsTheTargetAndAcceptsOthers) {
  Dag chain(3);
  chain.add_edge(0, 1);
  chain.add_edge(1, 2);
  engine::RandomStream rng(2, "test/sem");
  const LinearSem sem = random_linear_sem(chain, rng, 0.5, 1.0);
  Intervention shift{{1}, Intervention::Kind::kShift};
  Intervention perfect{{1}, Intervention::Kind::kPerfect};
  const auto data = simulate_interventional(sem, 5000, {shift, perfect}, 5000, 3);
  GaussianInvarianceTest test(compute_setting_stats(engine::Context(MPI_COMM_SELF), data), 1e-5);
  for (int k : {1, 2}) {
    EXPECT_FALSE(test.invariant(1, {0}, k)) << "setting " << k;  // the target's mechanism changed
    EXPECT_TRUE(test.invariant(2, {1}, k)) << "setting " << k;   // the child's mechanism did not
    EXPECT_TRUE(test.invariant(0, {}, k)) << "setting " << k;    // nor the parent's
    EXPECT_FALSE(test.invariant(2, {}, k)) << "setting " << k;   // but the child's marginal moved
  }
  // Shift: coefficients (intercept) change, variance does not; perfect: both.
  const auto [pc_shift, pv_shift] = test.coefficient_and_variance_p(1, {0}, 1);
  EXPECT_LT(pc_shift, 1e-10);
  EXPECT_GT(pv_shift, 1e-4);
}

TEST(HsicCiTest, SeesNonlinearDependenceThatCorrelationMisses) {
  engine::RandomStream rng(3, "test/hsic");
  const int n = 400;
  Eigen::MatrixXd x(n, 4);
  for (int r = 0; r < n; ++r) {
    x(r, 0) = rng.normal();
    x(r, 1) = x(r, 0) * x(r, 0) + 0.3 * rng.normal();  // uncorrelated with column 0, but dependent
    x(r, 2) = rng.normal();                             // independent of everything
    x(r, 3) = 0.8 * x(r, 2) + 0.5 * rng.normal();       // depends on 2 only
  }
  HsicCiTest test(x, 0.01);
  EXPECT_LT(test.p_value(0, 1, {}), 1e-6);
  EXPECT_GT(test.p_value(0, 2, {}), 0.01);
  EXPECT_LT(test.p_value(2, 3, {}), 1e-6);
  EXPECT_GT(test.p_value(0, 3, {2}), 0.01);  // independent given 2 (linear in 2)
  // Under the null the p-values are roughly uniform: few rejections at 5% over independent pairs.
  int rejected = 0;
  for (int rep = 0; rep < 40; ++rep) {
    Eigen::VectorXd a(200), b(200);
    for (int r = 0; r < 200; ++r) a(r) = rng.normal(), b(r) = rng.uniform();
    rejected += hsic_gamma_p_value(a, b) < 0.05 ? 1 : 0;
  }
  EXPECT_LE(rejected, 6);
}

}  // namespace
}  // namespace tessera::solvers::causal
