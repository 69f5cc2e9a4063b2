// Core pieces of solvers/causal: CI and invariance tests against brute force, minimal I-maps from population
// covariances, the covered-arc update against recomputation, DAG metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/distributions/fisher_f.hpp>
#include <cmath>
#include <numeric>

#include "engine/context.h"
#include "engine/error.h"
#include "solvers/causal/citest/gaussian_ci_test.h"
#include "solvers/causal/citest/gaussian_invariance_test.h"
#include "solvers/causal/citest/hsic_ci_test.h"
#include "solvers/causal/random_dag.h"
#include "solvers/causal/score/minimal_imap.h"
#include "solvers/causal/stats/sufficient_stats.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::causal {
namespace {

constexpr double kEps = 1e-12;

// "Data" that are the population: exact covariance and a huge n, so every test is exact.
SettingStats population_stats(const LinearSem& sem) {
  return {1e9, Eigen::VectorXd::Zero(sem.dag.num_nodes()), population_covariance(sem), {}};
}

LinearSem random_sem(int p, double degree, std::uint64_t seed) {
  engine::RandomStream rng(seed, "test/sem");
  return random_linear_sem(random_er_dag(p, degree, rng), rng);
}

// The chain 0 -> 1 -> 2 with weights of magnitude in [0.5, 1].
LinearSem chain_sem(std::uint64_t seed) {
  Dag chain(3);
  chain.add_edge(0, 1);
  chain.add_edge(1, 2);
  engine::RandomStream rng(seed, "test/sem");
  return random_linear_sem(chain, rng, 0.5, 1.0);
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
  const LinearSem sem = chain_sem(2);
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

// The published (wald) form against its definition computed here from the rows themselves: least squares on
// [X_S 1] per setting, and for S empty the closed form, Welch's t^2 = (m_0 - m_k)^2 / (v_0 / n_0 + v_k / n_k).
TEST(GaussianInvarianceTest, WaldFormEqualsItsDefinitionOnTheRows) {
  const LinearSem sem = chain_sem(4);
  // A soft shift of node 1 in setting 1, small enough that the p-values are neither 0 nor 1.
  const auto data = simulate_interventional(sem, 300, {{{1}, Intervention::Kind::kShift}}, 200, 5);
  const auto stats = compute_setting_stats(engine::Context(MPI_COMM_SELF), data);
  GaussianInvarianceTest wald(stats, 1e-5, InvarianceForm::kWald);
  auto rows_of = [&](int setting, const std::vector<int>& cond, int node) {
    std::vector<Eigen::Index> rows;
    for (Eigen::Index r = 0; r < data.samples.rows(); ++r)
      if (data.setting[std::size_t(r)] == setting) rows.push_back(r);
    Eigen::MatrixXd x(rows.size(), cond.size() + 1);
    Eigen::VectorXd y(rows.size());
    for (std::size_t a = 0; a < rows.size(); ++a) {
      for (std::size_t c = 0; c < cond.size(); ++c)
        x(Eigen::Index(a), Eigen::Index(c)) = data.samples(rows[a], cond[c]);
      x(Eigen::Index(a), Eigen::Index(cond.size())) = 1;
      y(Eigen::Index(a)) = data.samples(rows[a], node);
    }
    return std::make_pair(x, y);
  };
  auto two_sided = [](double df1, double df2, double value) {
    const boost::math::fisher_f f(df1, df2);
    return std::min(1.0, 2 * std::min(boost::math::cdf(f, value), boost::math::cdf(boost::math::complement(f, value))));
  };
  for (const auto& [node, cond] :
       std::vector<std::pair<int, std::vector<int>>>{{1, {0}}, {2, {1}}, {2, {0, 1}}, {1, {}}}) {
    const double q = double(cond.size()) + 1;
    Eigen::VectorXd b[2];
    Eigen::MatrixXd cov_b[2];
    double v[2], n[2];
    for (int s = 0; s < 2; ++s) {
      const auto [x, y] = rows_of(s, cond, node);
      b[s] = x.colPivHouseholderQr().solve(y);
      n[s] = double(x.rows());
      v[s] = (y - x * b[s]).squaredNorm() / (n[s] - q);
      cov_b[s] = v[s] * (x.transpose() * x).inverse();
    }
    const Eigen::VectorXd d = b[0] - b[1];
    const double t = d.dot((cov_b[0] + cov_b[1]).inverse() * d) / q;
    if (cond.empty()) {
      const double welch = d(0) * d(0) / (v[0] / n[0] + v[1] / n[1]);
      EXPECT_NEAR(t, welch, 1e-9 * welch);
    }
    const auto [p_coef, p_var] = wald.coefficient_and_variance_p(node, cond, 1);
    EXPECT_NEAR(p_coef, two_sided(q, n[0] + n[1] - q, t), 1e-9) << "node " << node;
    EXPECT_NEAR(p_var, two_sided(n[0] - 1, n[1] - 1, v[0] / v[1]), 1e-9) << "node " << node;
    EXPECT_NEAR(wald.p_value(node, cond, 1), std::min(1.0, 2 * std::min(p_coef, p_var)), 1e-15);
  }
  // The shifted node's mechanism changed, its child's did not, as with the Chow form.
  EXPECT_LT(wald.coefficient_and_variance_p(1, {0}, 1).first, 1e-3);
  EXPECT_GT(wald.coefficient_and_variance_p(2, {1}, 1).first, 1e-3);
}

TEST(HsicCiTest, SeesNonlinearDependenceThatCorrelationMisses) {
  engine::RandomStream rng(3, "test/hsic");
  const int n = 400;
  Eigen::MatrixXd x(n, 4);
  for (int r = 0; r < n; ++r) {
    x(r, 0) = rng.normal();
    x(r, 1) = x(r, 0) * x(r, 0) + 0.3 * rng.normal();  // uncorrelated with column 0, but dependent
    x(r, 2) = rng.normal();                            // independent of everything
    x(r, 3) = 0.8 * x(r, 2) + 0.5 * rng.normal();      // depends on 2 only
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

// --- Shrinkage (n <= p, collinear columns) ---

InterventionalData tiny_data() {
  InterventionalData d;
  d.variables = {"a", "b", "c"};
  d.samples.resize(5, 3);
  d.samples << 1, 2, 0,  //
      2, 1, 1,           //
      3, 5, 1,           //
      4, 3, 0,           //
      6, 4, 2;
  d.setting.assign(5, 0);
  d.setting_names = {"observational"};
  d.known_targets = {{}};
  return d;
}

TEST(Shrinkage, SchaeferStrimmerIntensityMatchesHandComputedValue) {
  const auto stats = compute_setting_stats(engine::Context(MPI_COMM_SELF), tiny_data());
  // Computed by hand (plain Python, no library) from the definition in sufficient_stats.h: standardised columns,
  // w_kij = z_ki z_kj, r = n/(n-1) wbar, Var^(r) = n/(n-1)^3 sum_k (w - wbar)^2; correlations
  // r_ab = 0.575396..., r_ac = 0.652438..., r_bc = 0.377964... (= 1/sqrt(7)).
  EXPECT_NEAR(stats[0].cov(1, 2) / std::sqrt(stats[0].cov(1, 1) * stats[0].cov(2, 2)), 1 / std::sqrt(7.0), 1e-14);
  EXPECT_NEAR(shrinkage_intensity(stats[0]), 0.5418454935622318, 1e-13);
  // Without the fourth moments: the Gaussian plug-in Var(r) = (1 - r^2)^2 / (n - 1).
  SettingStats no_moments = stats[0];
  no_moments.sq_cross.resize(0, 0);
  EXPECT_NEAR(shrinkage_intensity(no_moments), 0.420178819991052, 1e-13);
  // Uncorrelated columns: nothing to shrink towards, lambda = 1; identical columns: a finite value in [0, 1].
  SettingStats diag = stats[0];
  diag.cov = Eigen::Vector3d(1, 2, 3).asDiagonal();
  diag.sq_cross.resize(0, 0);
  EXPECT_EQ(shrinkage_intensity(diag), 1.0);
}

TEST(Shrinkage, AutoIsZeroForWellPosedDataAndShrinksSingularOnes) {
  const LinearSem sem = random_sem(10, 2, 4);
  const auto many = compute_setting_stats(engine::Context(MPI_COMM_SELF), simulate_interventional(sem, 200, {}, 0, 1));
  EXPECT_EQ(resolve_shrinkage(many[0], -1), 0.0);
  EXPECT_EQ(resolve_shrinkage(many[0], 0.25), 0.25);
  EXPECT_THROW(resolve_shrinkage(many[0], 1.5), Error);
  // n <= p + 1: shrunk, within the documented clamp.
  const auto few = compute_setting_stats(engine::Context(MPI_COMM_SELF), simulate_interventional(sem, 8, {}, 0, 1));
  const double lambda = resolve_shrinkage(few[0], -1);
  EXPECT_GE(lambda, kMinAutoShrinkage);
  EXPECT_LE(lambda, kMaxAutoShrinkage);
  // n > p but an exactly collinear column (x9 = x0 + x1): singular, so auto shrinks too.
  auto data = simulate_interventional(sem, 200, {}, 0, 1);
  data.samples.col(9) = data.samples.col(0) + data.samples.col(1);
  const auto collinear = compute_setting_stats(engine::Context(MPI_COMM_SELF), data);
  EXPECT_GT(resolve_shrinkage(collinear[0], -1), 0.0);
  // Unshrunk, the singular matrix is reported with the fix named.
  GaussianCiTest plain(collinear[0], 1e-3, 0.0);
  std::vector<int> order(10);
  std::iota(order.begin(), order.end(), 0);
  try {
    minimal_imap_gaussian(order, plain);
    ADD_FAILURE() << "singular correlation matrix accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shrinkage"), std::string::npos) << e.what();
  }
  // A constant observational column is named.
  SettingStats constant = many[0];
  constant.cov.row(3).setZero();
  constant.cov.col(3).setZero();
  EXPECT_THROW(GaussianCiTest(constant, 1e-3), Error);
}

TEST(Shrinkage, LambdaZeroIsTheUnshrunkTestBitForBit) {
  const LinearSem sem = random_sem(8, 3, 5);
  const auto stats = compute_setting_stats(engine::Context(MPI_COMM_SELF), simulate_interventional(sem, 500, {}, 0, 7));
  GaussianCiTest test(stats[0], 1e-3, 0.0);
  const Eigen::VectorXd inv_sd = stats[0].cov.diagonal().cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd corr = inv_sd.asDiagonal() * stats[0].cov * inv_sd.asDiagonal();
  EXPECT_EQ(test.correlation(), corr);
  for (const std::vector<int>& s : {std::vector<int>{}, {2}, {5, 2}, {3, 4, 6, 7}}) {
    const double r = test.partial_correlation(0, 1, s);
    EXPECT_EQ(test.effective_conditioning_size(s), double(s.size()));
    const double dof = 500.0 - double(s.size()) - 3;
    EXPECT_EQ(test.p_value(0, 1, s), std::erfc(std::abs(std::atanh(r) * std::sqrt(dof)) / std::sqrt(2.0)));
  }
}

TEST(Shrinkage, ShrunkPartialCorrelationRidgeDofAndBorderingAgree) {
  const LinearSem sem = random_sem(15, 3, 9);
  // 12 rows for 15 variables: the sample correlation matrix is singular.
  const auto stats = compute_setting_stats(engine::Context(MPI_COMM_SELF), simulate_interventional(sem, 12, {}, 0, 4));
  const double lambda = 0.3;
  GaussianCiTest test(stats[0], 1e-2, lambda);
  const Eigen::VectorXd inv_sd = stats[0].cov.diagonal().cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd r = inv_sd.asDiagonal() * stats[0].cov * inv_sd.asDiagonal();
  const std::vector<int> s{2, 7, 3, 11, 14, 5, 9, 10, 12, 13, 6};  // 11 of them: as many as n - 1
  // Partial correlation: from the inverse of (1 - lambda) R + lambda I on {0, 1} + S.
  std::vector<int> idx{0, 1};
  idx.insert(idx.end(), s.begin(), s.end());
  const int m = int(idx.size());
  Eigen::MatrixXd sub(m, m);
  for (int a = 0; a < m; ++a)
    for (int b = 0; b < m; ++b) sub(a, b) = (1 - lambda) * r(idx[a], idx[b]) + (a == b ? lambda : 0.0);
  const Eigen::MatrixXd prec = sub.inverse();
  EXPECT_NEAR(test.partial_correlation(0, 1, s), -prec(0, 1) / std::sqrt(prec(0, 0) * prec(1, 1)), 1e-10);
  // Effective size: ridge degrees of freedom sum_k d_k / (d_k + kappa), d = eigenvalues of R_SS, kappa = l/(1-l).
  const int q = int(s.size());
  Eigen::MatrixXd rss(q, q);
  for (int a = 0; a < q; ++a)
    for (int b = 0; b < q; ++b) rss(a, b) = r(s[a], s[b]);
  const Eigen::VectorXd d = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(rss).eigenvalues();
  const double kappa = lambda / (1 - lambda);
  double df = 0;
  for (int k = 0; k < q; ++k) df += std::max(d(k), 0.0) / (std::max(d(k), 0.0) + kappa);
  EXPECT_NEAR(test.effective_conditioning_size(s), df, 1e-9);
  EXPECT_LT(df, 11.0);  // R_SS has rank <= n - 1 = 11 and is shrunk: fewer than |S| parameters
  EXPECT_NEAR(test.p_value(0, 1, s), fisher_z_p_value(test.partial_correlation(0, 1, s), 12, df), 1e-9);
  // The O(p^3) bordering gives the DAG of the pairwise tests, shrinkage and effective sizes included.
  engine::RandomStream rng(1, "test/order");
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<int> order(15);
    std::iota(order.begin(), order.end(), 0);
    rng.shuffle(order);
    EXPECT_EQ(minimal_imap_gaussian(order, test), minimal_imap(order, test)) << "rep " << rep;
  }
}

// A cycle is reported with its arcs (by index here; jobs/dag_file.cpp adds the names and lines), not only "has a
// cycle".
TEST(Dag, FindCycleReturnsTheArcsOfOneCycle) {
  const std::vector<Arc> edges{{0, 1}, {1, 2}, {2, 3}, {3, 1}, {0, 4}};
  EXPECT_EQ(find_cycle(5, edges), (std::vector<std::size_t>{1, 2, 3}));
  EXPECT_TRUE(find_cycle(5, {{0, 1}, {1, 2}, {0, 2}, {3, 4}}).empty());
  EXPECT_EQ(find_cycle(2, {{0, 1}, {1, 0}}), (std::vector<std::size_t>{0, 1}));
  const auto message = tessera::testing::error_of([&] { Dag::from_edges(5, edges); });
  EXPECT_NE(message.find("1 -> 2 -> 3 -> 1"), std::string::npos) << message;
}

}  // namespace
}  // namespace tessera::solvers::causal
