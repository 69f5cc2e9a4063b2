// Intervention design: the analytic optimum, posterior recovery, the loop reaching a* = (I - B) mu* - c, and the
// same answer on 1, 2 and 3 ranks (registered as an MPI test).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/context.h"
#include "solvers/search/design.h"
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
  EXPECT_EQ(Dag::from_edges(3, {{0, 2}, {1, 2}}).parents[2], (std::vector<int>{0, 1}));
}

TEST(Design, PosteriorRecoversTheSem) {
  auto params = small_params();
  const auto instance = make_instance(params, 0);
  BayesLinearSem model(instance.dag, params.noise_sd, params.prior_sd);
  engine::RandomStream random(3, "test/design");
  // Shifts in several directions so every coefficient (intercepts included) is identified.
  const int p = instance.dag.size();
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
    EXPECT_LT((trace.recommendation - instance.optimum).norm(), 0.1) << acquisition_name(acquisition);
    EXPECT_LT(trace.distance.back(), 0.1) << acquisition_name(acquisition);
  }
}

TEST(Design, DistanceShrinksWithRounds) {
  engine::Context world;
  auto params = small_params();
  params.initial_samples = 3;
  params.samples_per_round = 5;
  params.rounds = 8;
  params.instances = 6;
  const auto curves = design_study(world, params, {Acquisition::kGreedy, Acquisition::kMutualInformation});
  for (const auto& curve : curves) EXPECT_LT(curve.back(), curve.front());
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
      EXPECT_EQ((spread.chosen[r] - serial.chosen[r]).norm(), 0.0) << acquisition_name(acquisition) << " " << r;
    EXPECT_EQ(spread.distance, serial.distance);
  }
  const auto all = design_study(world, params, all_acquisitions());
  const auto one = design_study(self, params, all_acquisitions());
  for (std::size_t a = 0; a < all.size(); ++a)
    for (std::size_t r = 0; r < all[a].size(); ++r)
      EXPECT_NEAR(all[a][r], one[a][r], 1e-12 * (1 + std::abs(one[a][r])));
}

}  // namespace
}  // namespace tessera::solvers::search
