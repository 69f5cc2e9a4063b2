// Intervention design: the analytic optimum, posterior recovery, the loop reaching a* = (I - B) mu* - c, and the
// same answer on 1, 2 and 3 ranks (registered as an MPI test).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/context.h"
#include "solvers/search/design.h"
#include "solvers/search/shift_pool.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::search {
namespace {

DesignParams small_params() {
  DesignParams params;
  params.nodes = 6;
  params.rounds = 4;
  params.candidates = 60;
  params.posterior_samples = 8;
  params.instances = 5;
  params.seed = 11;
  return params;
}

TEST(Design, AnalyticOptimumMatchesTheTarget) {
  const auto params = small_params();
  for (std::uint64_t r = 0; r < 4; ++r) {
    const auto instance = make_instance(params, r);
    const Eigen::VectorXd response = instance.truth.mean_response(instance.optimum);
    // Residual scaled by the size of the quantities and machine epsilon.
    EXPECT_LE((response - instance.target).norm(), 100 * 2.2e-16 * (1 + instance.target.norm())) << r;
    EXPECT_NEAR(instance.optimum.norm(), params.optimum_norm, 1e-12);
  }
}

TEST(Design, DagRejectsCycles) {
  const auto message = testing::error_of([] { Dag::from_edges(3, {{0, 1}, {1, 2}, {2, 0}}); });
  testing::expect_mentions(message, {"cycle"});
  EXPECT_EQ(Dag::from_edges(3, {{0, 2}, {1, 2}}).parents(2), (std::vector<int>{0, 1}));
}

TEST(Design, PosteriorRecoversTheSem) {
  auto params = small_params();
  const auto instance = make_instance(params, 0);
  BayesLinearSem model(instance.dag, params.noise_sd, params.prior_sd);
  engine::RandomStream random(3, "test/design");
  // Shifts in several directions so every coefficient (intercepts included) is identified.
  const int p = instance.dag.num_nodes();
  for (int k = 0; k < 20; ++k) {
    Eigen::VectorXd shift(p);
    for (int i = 0; i < p; ++i) shift(i) = random.normal();
    const Eigen::MatrixXd m = (Eigen::MatrixXd::Identity(p, p) - instance.truth.weights).inverse();
    Eigen::MatrixXd x(p, 500);
    for (int s = 0; s < 500; ++s) {
      Eigen::VectorXd e(p);
      for (int i = 0; i < p; ++i) e(i) = params.noise_sd * random.normal();
      x.col(s) = m * (instance.truth.intercepts + shift + e);
    }
    model.observe(x, shift);
  }
  const auto fitted = model.mean_sem();
  EXPECT_LT((fitted.weights - instance.truth.weights).cwiseAbs().maxCoeff(), 0.03);
  EXPECT_LT((fitted.intercepts - instance.truth.intercepts).cwiseAbs().maxCoeff(), 0.03);
}

// With enough data B and c are known to the model, and every acquisition's recommendation is a*.
TEST(Design, LoopFindsTheAnalyticOptimum) {
  engine::Context world;
  auto params = small_params();
  params.initial_samples = 4000;
  params.samples_per_round = 1000;
  params.rounds = 2;
  for (auto acquisition : all_acquisitions()) {
    const auto instance = make_instance(params, 1);
    const auto trace = run_design(world, instance, params, acquisition);
    ASSERT_EQ(trace.distance.size(), 3u);
    EXPECT_LT((trace.recommendation - instance.optimum).norm(), 0.1) << name_table(acquisition).name(acquisition);
    EXPECT_LT(trace.distance.back(), 0.1) << name_table(acquisition).name(acquisition);
  }
}

TEST(Design, DistanceShrinksWithRounds) {
  engine::Context world;
  auto params = small_params();
  params.initial_samples = 3;
  params.samples_per_round = 5;
  params.rounds = 8;
  params.instances = 6;
  const auto study = design_study(world, params, {Acquisition::kGreedy, Acquisition::kMutualInformation});
  EXPECT_TRUE(study.found.empty());
  for (const auto& curve : study.distance) EXPECT_LT(curve.back(), curve.front());
}

// Candidates split over the ranks give the same trace as one rank (the merge is a total order), and the study
// (instances spread over ranks) the same averages within summation-order rounding.
TEST(Design, AnyRankCountGivesTheSameAnswer) {
  engine::Context world;
  const engine::Context self(MPI_COMM_SELF);
  const auto params = small_params();
  for (auto acquisition : all_acquisitions()) {
    const auto instance = make_instance(params, 2);
    const auto spread = run_design(world, instance, params, acquisition);
    const auto serial = run_design(self, instance, params, acquisition);
    ASSERT_EQ(spread.chosen.size(), serial.chosen.size());
    for (std::size_t r = 0; r < spread.chosen.size(); ++r)
      EXPECT_EQ((spread.chosen[r] - serial.chosen[r]).norm(), 0.0)
          << name_table(acquisition).name(acquisition) << " " << r;
    EXPECT_EQ(spread.distance, serial.distance);
  }
  const auto all = design_study(world, params, all_acquisitions()).distance;
  const auto one = design_study(self, params, all_acquisitions()).distance;
  for (std::size_t a = 0; a < all.size(); ++a)
    for (std::size_t r = 0; r < all[a].size(); ++r)
      EXPECT_NEAR(all[a][r], one[a][r], 1e-12 * (1 + std::abs(one[a][r])));
}

// Interventional data from x = (I - B)^-1 (c + a + e): `n` observational rows, then `n` rows per shift.
causal::InterventionalData sem_data(const SemParams& sem, double noise_sd, const Eigen::MatrixXd& shifts, int n) {
  const Eigen::Index p = sem.weights.rows();
  const Eigen::MatrixXd m = (Eigen::MatrixXd::Identity(p, p) - sem.weights).inverse();
  causal::InterventionalData data;
  for (Eigen::Index i = 0; i < p; ++i) data.variables.push_back(std::string("N").append(std::to_string(i)));
  data.setting_names = {"observational"};
  data.samples.resize((shifts.cols() + 1) * n, p);
  engine::RandomStream random(5, "test/pool");
  for (Eigen::Index k = 0; k <= shifts.cols(); ++k) {
    if (k > 0) data.setting_names.push_back(std::string("drug").append(std::to_string(k)));
    const Eigen::VectorXd a = k > 0 ? Eigen::VectorXd(shifts.col(k - 1)) : Eigen::VectorXd::Zero(p);
    for (int r = 0; r < n; ++r) {
      Eigen::VectorXd e(p);
      for (Eigen::Index i = 0; i < p; ++i) e(i) = noise_sd * random.normal();
      data.samples.row(k * n + r) = (m * (sem.intercepts + a + e)).transpose();
      data.setting.push_back(int(k));
    }
  }
  data.known_targets.resize(data.setting_names.size());
  return data;
}

// Least squares on the DAG recovers B, c and sigma, and each setting's mean gives back its planted shift, to
// within a few standard errors (sigma / sqrt(n) ~ 0.0035 here).
TEST(ShiftPool, RecoversThePlantedSemAndShifts) {
  auto params = small_params();
  params.nodes = 5;
  const auto instance = make_instance(params, 3);
  ASSERT_GT(instance.truth.weights.cwiseAbs().sum(), 0);
  Eigen::MatrixXd shifts(5, 3);
  shifts << 1, 0, -0.5, 0, 2, 0.3, 0, 0, 1, -1, 0, 0, 0.5, 0.5, 0;
  const auto data = sem_data(instance.truth, params.noise_sd, shifts, 20000);
  const std::vector<std::string> nodes{"N0", "N1", "N2", "N3", "N4"};
  const auto fit = fit_sem(instance.dag, nodes, data);
  EXPECT_LT((fit.sem.weights - instance.truth.weights).cwiseAbs().maxCoeff(), 0.03);
  EXPECT_LT((fit.sem.intercepts - instance.truth.intercepts).cwiseAbs().maxCoeff(), 0.03);
  EXPECT_NEAR(fit.noise_sd, params.noise_sd, 0.01);
  const auto pool = shift_pool_from_settings(fit.sem, nodes, data);
  EXPECT_EQ(pool.names, (std::vector<std::string>{"drug1", "drug2", "drug3"}));
  EXPECT_LT((pool.shifts - shifts).cwiseAbs().maxCoeff(), 0.05);
  // Nodes are matched by name, not position.
  const std::vector<std::string> missing{"N0", "N1", "N2", "N3", "X"};
  testing::expect_mentions(testing::error_of([&] { fit_sem(instance.dag, missing, data); }), {"'X'", "not a column"});
}

// With a pool, every target is the response to a hidden member: once B is well known (many observational
// rows), the plug-in recommendation is that member in every instance and the distance is exactly zero; 1 rank
// and all ranks agree.
TEST(Design, PoolTargetsAreFoundWhenTheModelIsKnown) {
  engine::Context world;
  const engine::Context self(MPI_COMM_SELF);
  auto params = small_params();
  params.initial_samples = 2000;
  params.rounds = 2;
  params.instances = 7;
  const auto dag = make_instance(params, 0).dag;
  ShiftPool pool;
  engine::RandomStream random(8, "test/pool/members");
  pool.shifts.resize(dag.num_nodes(), 6);
  for (Eigen::Index k = 0; k < 6; ++k) {
    pool.names.push_back(std::string("p").append(std::to_string(k)));
    for (Eigen::Index i = 0; i < pool.shifts.rows(); ++i) pool.shifts(i, k) = random.normal();
  }
  DesignSetup setup;
  setup.dag = &dag;
  setup.pool = &pool;
  const auto instance = make_instance(params, 4, setup);
  EXPECT_GE(instance.hidden, 0);
  EXPECT_LT((instance.optimum - pool.shifts.col(instance.hidden)).norm(), 1e-9);
  const auto study = design_study(world, params, {Acquisition::kGreedy, Acquisition::kRandom}, setup);
  const auto serial = design_study(self, params, {Acquisition::kGreedy, Acquisition::kRandom}, setup);
  ASSERT_EQ(study.found.size(), 2u);
  EXPECT_EQ(study.found, (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(study.found, serial.found);
  for (const auto& curve : study.distance) EXPECT_EQ(curve.back(), 0.0);
}

}  // namespace
}  // namespace tessera::solvers::search
