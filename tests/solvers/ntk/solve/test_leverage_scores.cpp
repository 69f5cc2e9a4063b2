// Approximate ridge leverage scores and leverage sampling of Nystrom centres (solvers/ntk/solve/leverage_scores.h,
// ntk_centre_sampling = leverage in solvers/ntk/solve/nystrom_regression.h), at 1, 2 and 3 ranks.
//
// Tolerances: the scores against a brute-force Eigen computation 1e-10 relative to the largest score (K's
// condition number is ~1e3, K + t I's below that, so the two factorisations agree to ~1e-13); scores and centres
// at 2 and 3 ranks against 1 rank: bit-identical (every row's score comes from the same single-threaded BLAS call
// on the same pilot factor, whichever rank computes it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/random.h"
#include "solvers/ntk/solve/kernel_operator.h"
#include "solvers/ntk/solve/leverage_scores.h"
#include "solvers/ntk/solve/nystrom.h"
#include "solvers/ntk/solve/nystrom_regression.h"
#include "tests/support/kernel_system.h"
#include "tests/support/relu_ntk_kernel.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::ntk {
namespace {

using tessera::testing::refusal_of;
using testing::ReluNtkKernel;
using testing::rows_of_this_rank;

constexpr std::int64_t kN = 300;

double max_abs(const Eigen::VectorXd& v) { return v.cwiseAbs().maxCoeff(); }

Eigen::VectorXd as_vector(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::VectorXd>(v.data(), Eigen::Index(v.size()));
}

// The ReLU NTK with its diagonal entries exactly 2 in tiles as in diagonal(): its own tiles round K_ii to 2 - 1e-8
// or so (sqrt(1 - rho^2) at rho = 1 + eps), differently in differently shaped tiles, which would swamp a
// comparison of (k_ii - ...) / t at a small t with noise that has nothing to do with the scores.
class ExactDiagonalNtk final : public KernelOperator {
 public:
  ExactDiagonalNtk(std::int64_t n, int dims, std::uint64_t seed) : inner_(n, dims, seed) {}
  std::int64_t size() const override { return inner_.size(); }
  void tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const override {
    inner_.tile(row0, col0, out);
    for (Eigen::Index j = 0; j < out.cols(); ++j)
      if (col0 + j >= row0 && col0 + j < row0 + out.rows()) out(col0 + j - row0, j) = inner_.diagonal(col0 + j);
  }
  double diagonal(std::int64_t i) const override { return inner_.diagonal(i); }
  Eigen::MatrixXd dense() const {
    Eigen::MatrixXd k(size(), size());
    tile(0, 0, k);
    return k;
  }

 private:
  ReluNtkKernel inner_;
};

// With the pilot set = every row, tau is the exact ridge leverage score diag(K (K + t I)^-1), t = r mean(diag K).
TEST(LeverageScores, EveryRowAsPilotGivesTheExactScores) {
  const engine::Context world;
  const ExactDiagonalNtk kernel(kN, 32, 7);
  const Eigen::MatrixXd k = kernel.dense();
  std::vector<std::int64_t> all(kN);
  std::iota(all.begin(), all.end(), std::int64_t(0));
  for (const double r : {1e-3, 0.1, 10.0}) {
    SCOPED_TRACE(r);
    const auto scores = approximate_leverage_scores(world, kernel, all, r, 2);
    const double t = r * k.trace() / double(kN);
    EXPECT_NEAR(scores.ridge, t, 1e-12 * t);
    const Eigen::MatrixXd shifted = k + t * Eigen::MatrixXd::Identity(kN, kN);
    const Eigen::VectorXd exact = shifted.ldlt().solve(k).diagonal();  // (K + tI)^-1 K has K (K + tI)^-1's diagonal
    ASSERT_EQ(std::int64_t(scores.tau.size()), kN);
    EXPECT_LT(max_abs(as_vector(scores.tau) - exact), 1e-10 * max_abs(exact));
    EXPECT_NEAR(scores.effective_dimension, exact.sum(), 1e-10 * exact.sum());
    EXPECT_LE(exact.maxCoeff(), 1.0);
  }
}

// A pilot of p < N rows: tau_i = (k_ii - k_iP (K_PP + (p / N) t I)^-1 k_Pi) / t, written out densely here.
TEST(LeverageScores, PilotSubsetMatchesItsFormula) {
  const engine::Context world;
  const ExactDiagonalNtk kernel(kN, 32, 8);
  const Eigen::MatrixXd k = kernel.dense();
  const std::int64_t p = 40;
  const auto pilot = NystromPreconditioner::sample_centres(kN, p, 3);
  const double r = 2.0;
  const auto scores = approximate_leverage_scores(world, kernel, pilot, r, 1);
  Eigen::MatrixXd knp(kN, p), kpp(p, p);
  for (std::int64_t j = 0; j < p; ++j) knp.col(j) = k.col(pilot[std::size_t(j)]);
  for (std::int64_t i = 0; i < p; ++i) kpp.row(i) = knp.row(pilot[std::size_t(i)]);
  const double t = r * kpp.trace() / double(p), s = t * double(p) / double(kN);
  const Eigen::MatrixXd solved = (kpp + s * Eigen::MatrixXd::Identity(p, p)).ldlt().solve(knp.transpose());
  Eigen::VectorXd want(kN);
  for (std::int64_t i = 0; i < kN; ++i) want(i) = (k(i, i) - knp.row(i).dot(solved.col(i))) / t;
  EXPECT_LT(max_abs(as_vector(scores.tau) - want), 1e-10 * max_abs(want));
  EXPECT_NEAR(scores.pilot_ridge, s, 1e-12 * s);
}

// The weighted draw: m distinct sorted rows; rows of weight 0 only after every positive one (lowest index first);
// one draw picks row i with probability w_i / sum w (checked over 20,000 seeds, 5 standard deviations).
TEST(LeverageScores, WeightedDrawFollowsTheWeights) {
  const std::vector<double> zeros{0, 1, 0, 2, 0};
  EXPECT_EQ(sample_by_weight(zeros, 3, 1), (std::vector<std::int64_t>{0, 1, 3}));
  EXPECT_EQ(sample_by_weight(zeros, 2, 1), (std::vector<std::int64_t>{1, 3}));
  const std::vector<double> weights{1, 2, 3, 4, 0.5, 9.5};
  const double total = 20;
  const int draws = 20000;
  std::vector<int> hits(weights.size(), 0);
  for (int seed = 0; seed < draws; ++seed) {
    const auto one = sample_by_weight(weights, 1, std::uint64_t(seed));
    ASSERT_EQ(one.size(), 1u);
    ++hits[std::size_t(one[0])];
  }
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double q = weights[i] / total, sd = std::sqrt(draws * q * (1 - q));
    EXPECT_NEAR(hits[i], draws * q, 5 * sd) << i;
  }
  // Without replacement: all six rows when m = n.
  EXPECT_EQ(sample_by_weight(weights, 6, 4), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
}

// Leverage centres: sorted, distinct, the same for the same seed, and the same at 1, 2 and 3 ranks as on one rank
// (scores bit for bit); through solve_nystrom too.
TEST(LeverageScores, DrawIsReproducibleAndTheSameOnEveryRankCount) {
  const engine::Context world;
  const engine::Context self(MPI_COMM_SELF);
  const ReluNtkKernel kernel(kN, 32, 9);
  const auto pilot = NystromPreconditioner::sample_centres(kN, 50, 11);
  const auto one = approximate_leverage_scores(self, kernel, pilot, 6.0, 2);
  const auto many = approximate_leverage_scores(world, kernel, pilot, 6.0, 1);
  ASSERT_EQ(one.tau.size(), many.tau.size());
  EXPECT_EQ(std::memcmp(one.tau.data(), many.tau.data(), sizeof(double) * one.tau.size()), 0);

  const auto centres = sample_leverage_centres(world, kernel, 50, 6.0, 11, 2);
  ASSERT_EQ(centres.size(), 50u);
  EXPECT_TRUE(std::is_sorted(centres.begin(), centres.end()));
  EXPECT_EQ(std::adjacent_find(centres.begin(), centres.end()), centres.end());
  EXPECT_GE(centres.front(), 0);
  EXPECT_LT(centres.back(), kN);
  EXPECT_EQ(sample_leverage_centres(self, kernel, 50, 6.0, 11, 1), centres);
  EXPECT_EQ(sample_leverage_centres(world, kernel, 50, 6.0, 11, 2), centres);
  EXPECT_NE(sample_leverage_centres(world, kernel, 50, 6.0, 12, 2), centres);
  EXPECT_NE(NystromPreconditioner::sample_centres(kN, 50, 11), centres);

  NystromParams params;
  params.centres = 50;
  params.sampling = CentreSampling::kLeverage;
  params.leverage_ridge = 6.0;
  params.seed = 11;
  params.threads = 1;
  params.tile_rows = 37;
  const Eigen::MatrixXd y = testing::random_right_hand_sides(kN, 3, 1, "test/leverage-y");
  const auto solved_one = solve_nystrom(self, kernel, y, params);
  const auto solved_many = solve_nystrom(world, kernel, rows_of_this_rank(world, y), params);
  EXPECT_EQ(solved_one.centres, centres);
  EXPECT_EQ(solved_many.centres, centres);
  EXPECT_LT((solved_many.alpha - solved_one.alpha).norm(), 1e-10 * solved_one.alpha.norm());
}

// A Gaussian kernel exp(-|x - y|^2 / (2 h^2)) on points in the plane.
class GaussianKernel final : public KernelOperator {
 public:
  GaussianKernel(Eigen::MatrixXd points, double bandwidth) : points_(std::move(points)), bandwidth_(bandwidth) {}
  std::int64_t size() const override { return points_.cols(); }
  void tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const override {
    for (Eigen::Index j = 0; j < out.cols(); ++j)
      for (Eigen::Index i = 0; i < out.rows(); ++i) out(i, j) = at(points_.col(row0 + i), points_.col(col0 + j));
  }
  double diagonal(std::int64_t) const override { return 1.0; }
  double at(const Eigen::Vector2d& a, const Eigen::Vector2d& b) const {
    return std::exp(-(a - b).squaredNorm() / (2 * bandwidth_ * bandwidth_));
  }
  const Eigen::MatrixXd& points() const { return points_; }

 private:
  Eigen::MatrixXd points_;  // 2 x N
  double bandwidth_;
};

// `count` points N(centre, I) in the plane.
Eigen::MatrixXd cluster(engine::RandomStream& random, std::int64_t count, double centre_x) {
  Eigen::MatrixXd x(2, count);
  for (std::int64_t i = 0; i < count; ++i) x.col(i) = Eigen::Vector2d(centre_x + random.normal(), random.normal());
  return x;
}

double target(const Eigen::Vector2d& x) { return std::sin(1.5 * x(0)) + std::cos(x(1)); }

// A large cluster (560 rows around the origin) and a small one (40 rows, 12 units away, as spread out: 14 times
// sparser). Uniform centres land in the small cluster in proportion to its 40 / 600 of the rows, ~2.7 of M = 40,
// too few for a function that varies on the kernel's scale over a unit-spread cloud. A small-cluster row has few
// look-alikes, so the pilot explains little of it and its leverage score is high (a big-cluster row is explained
// by its many neighbours): leverage sampling gives the small cluster more centres, and so smaller prediction errors
// on its held-out points; the big cluster, left with fewer but still many centres, loses much less.
TEST(LeverageScores, SmallFarClusterGetsMoreCentresAndSmallerErrors) {
  const engine::Context world;
  engine::RandomStream random(2, "test/leverage-clusters");
  const std::int64_t big = 560, small = 40, held_out = 200, m = 40;
  Eigen::MatrixXd points(2, big + small);
  points << cluster(random, big, 0.0), cluster(random, small, 12.0);
  const Eigen::MatrixXd test_points = cluster(random, held_out, 12.0), big_test_points = cluster(random, held_out, 0.0);
  const GaussianKernel kernel(points, 1.0);
  Eigen::MatrixXd y(big + small, 1);
  for (std::int64_t i = 0; i < big + small; ++i) y(i, 0) = target(points.col(i));

  NystromParams params;
  params.centres = m;
  params.seed = 3;
  params.threads = 1;
  struct Outcome {
    std::int64_t in_small = 0;
    double rms_error = 0;      // on the small cluster's held-out points
    double big_rms_error = 0;  // on the big cluster's
  };
  const auto run = [&](CentreSampling sampling) {
    params.sampling = sampling;
    const auto solved = solve_nystrom(world, kernel, rows_of_this_rank(world, y), params);
    Outcome outcome;
    for (const auto c : solved.centres) outcome.in_small += c >= big;
    const auto rms_error = [&](const Eigen::MatrixXd& at) {
      double squares = 0;
      for (std::int64_t q = 0; q < at.cols(); ++q) {
        double prediction = 0;
        for (std::size_t j = 0; j < solved.centres.size(); ++j)
          prediction += solved.alpha(Eigen::Index(j), 0) * kernel.at(at.col(q), points.col(solved.centres[j]));
        squares += std::pow(prediction - target(at.col(q)), 2);
      }
      return std::sqrt(squares / double(at.cols()));
    };
    outcome.rms_error = rms_error(test_points);
    outcome.big_rms_error = rms_error(big_test_points);
    return outcome;
  };
  // Five fixed seeds, so that the figures are not one draw's luck. Seen (560 + 40 rows, M = 40, default ridges):
  // uniform 2.0 small-cluster centres and rms error 0.70 on average, leverage 10.8 and 0.38 (leverage lower at every
  // seed; over seeds 1-20, 2.85 / 0.64 against 10.9 / 0.36); on the big cluster 0.059 uniform, 0.083 leverage.
  double uniform_centres = 0, leverage_centres = 0, uniform_error = 0, leverage_error = 0, uniform_big = 0,
         leverage_big = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    params.seed = seed;
    const Outcome uniform = run(CentreSampling::kUniform), leverage = run(CentreSampling::kLeverage);
    if (world.is_root())
      std::printf(
          "seed %d: small-cluster centres uniform %lld, leverage %lld; rms error small cluster uniform %.4f, "
          "leverage %.4f; big cluster uniform %.4f, leverage %.4f\n",
          int(seed), (long long)uniform.in_small, (long long)leverage.in_small, uniform.rms_error, leverage.rms_error,
          uniform.big_rms_error, leverage.big_rms_error);
    uniform_centres += double(uniform.in_small) / 5, leverage_centres += double(leverage.in_small) / 5;
    uniform_error += uniform.rms_error / 5, leverage_error += leverage.rms_error / 5;
    uniform_big += uniform.big_rms_error / 5, leverage_big += leverage.big_rms_error / 5;
  }
  EXPECT_LT(uniform_centres, 4.5);
  EXPECT_GT(leverage_centres, 8.0);
  EXPECT_GT(uniform_error, 0.5);
  EXPECT_LT(leverage_error, 0.45);
  EXPECT_LT(leverage_error, 0.75 * uniform_error);
  EXPECT_LT(uniform_big, 0.08);
  EXPECT_LT(leverage_big, 0.12);
}

// Bad values are refused, naming the knob.
TEST(LeverageScores, BadValuesAreRefusedByName) {
  NystromParams p;
  p.leverage_ridge = 0;
  EXPECT_EQ(refusal_of([&] { p.validate(); }),
            "--ntk-leverage-ridge 0 is invalid: the allowed values of ntk_leverage_ridge are in (0, 1000000]");
  p.leverage_ridge = 2e6;
  EXPECT_EQ(refusal_of([&] { p.validate(); }),
            "--ntk-leverage-ridge 2000000 is invalid: the allowed values of ntk_leverage_ridge are in (0, 1000000]");
  p.leverage_ridge = NAN;
  EXPECT_EQ(refusal_of([&] { p.validate(); }),
            "--ntk-leverage-ridge nan is invalid: the allowed values of ntk_leverage_ridge are in (0, 1000000]");
  const engine::Context world;
  const ReluNtkKernel kernel(20, 4, 1);
  EXPECT_EQ(refusal_of([&] {
              approximate_leverage_scores(world, kernel, {0, 3, 5}, 0.0, 1);
            }),
            "leverage scores: ntk_leverage_ridge = 0 must be finite and > 0");
  EXPECT_EQ(refusal_of([&] {
              approximate_leverage_scores(world, kernel, {3, 0}, 1.0, 1);
            }),
            "leverage scores: the pilot set must hold 1 to N = 20 sorted distinct rows; it has 2");
  const std::vector<double> negative{1, -2, 3};
  EXPECT_EQ(refusal_of([&] { sample_by_weight(negative, 1, 0); }),
            "weighted centres: row 1 has weight -2; weights must be finite and >= 0");
  EXPECT_EQ(refusal_of([&] { sample_by_weight(negative, 4, 0); }),
            "weighted centres: cannot draw 4 distinct rows from 3");
  EXPECT_EQ(refusal_of([] { name_table(CentreSampling{}).parse("leverages", "ntk_centre_sampling"); }),
            "ntk_centre_sampling 'leverages' is not one of uniform | leverage");
}

// The memory estimate counts the leverage phase when it is the larger: many rows, few centres and genes.
TEST(LeverageScores, MemoryEstimateCountsThePilotPhase) {
  NystromParams p;
  const double uniform = nystrom_bytes_per_rank(1000000, 100, 1, 4, p);
  EXPECT_DOUBLE_EQ(uniform, 8.0 * (5.0 * 100 * 100 + 3.0 * 100 + 250000.0 + 4096.0 * 100));
  p.sampling = CentreSampling::kLeverage;
  EXPECT_DOUBLE_EQ(nystrom_bytes_per_rank(1000000, 100, 1, 4, p), 8.0 * (100.0 * 100 + 4096.0 * 100 + 3e6));
  // Many genes: the solve's own phase is the larger, as with uniform centres.
  EXPECT_DOUBLE_EQ(nystrom_bytes_per_rank(100000, 5000, 978, 2, p), nystrom_bytes_per_rank(100000, 5000, 978, 2, {}));
}

}  // namespace
}  // namespace tessera::solvers::ntk
