// Imputation metrics (solvers/imputation/metrics.h) against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/error.h"
#include "solvers/imputation/metrics.h"

namespace tessera::solvers::imputation {
namespace {

constexpr double kTol = 1e-12;

// 3 genes x 2 signatures. Columns: truth y1 = (1, 2, 3), y2 = (0, 1, -1); predictions p1 = (1, 3, 2),
// p2 = (0, 1, 0).
Eigen::MatrixXd hand_truth() {
  Eigen::MatrixXd t(3, 2);
  t << 1, 0,  //
      2, 1,   //
      3, -1;
  return t;
}
Eigen::MatrixXd hand_predicted() {
  Eigen::MatrixXd p(3, 2);
  p << 1, 0,  //
      3, 1,   //
      2, 0;
  return p;
}

TEST(Metrics, HandComputedExample) {
  // Signature 1: mean(y1) = 2, SS_tot = 1 + 0 + 1 = 2; residuals (0, -1, 1), SS_res = 2; R^2 = 1 - 2/2 = 0.
  //              y1.p1 = 1 + 6 + 6 = 13, |y1| = |p1| = sqrt(14); cos = 13/14.
  // Signature 2: mean(y2) = 0, SS_tot = 0 + 1 + 1 = 2; residuals (0, 0, -1), SS_res = 1; R^2 = 1 - 1/2 = 0.5.
  //              y2.p2 = 1, |y2| = sqrt(2), |p2| = 1; cos = 1/sqrt(2).
  // Global r over the 6 values t = (1,2,3,0,1,-1), p = (1,3,2,0,1,0): mean t = 1, mean p = 7/6;
  //   sum (t - 1)(p - 7/6) = sum tp - 6 * 1 * 7/6 = 14 - 7 = 7; sum (t - 1)^2 = 12 - 6 = 10;
  //   sum (p - 7/6)^2 = 15 - 49/6 = 41/6; r = 7 / sqrt(10 * 41/6) = 7 / sqrt(410/6).
  const Metrics m = compute_metrics(hand_truth(), hand_predicted());
  EXPECT_NEAR(m.pearson, 7.0 / std::sqrt(410.0 / 6.0), kTol);
  EXPECT_NEAR(m.mean_r2, (0.0 + 0.5) / 2, kTol);
  EXPECT_NEAR(m.mean_cosine, (13.0 / 14.0 + 1.0 / std::sqrt(2.0)) / 2, kTol);
  EXPECT_EQ(m.num_signatures, 2);
  EXPECT_EQ(m.num_values, 6);

  EXPECT_NEAR(signature_r2(hand_truth().col(1), hand_predicted().col(1)), 0.5, kTol);
  EXPECT_NEAR(signature_cosine(hand_truth().col(0), hand_predicted().col(0)), 13.0 / 14.0, kTol);
}

TEST(Metrics, PerfectPredictionScoresOne) {
  const Metrics m = compute_metrics(hand_truth(), hand_truth());
  EXPECT_NEAR(m.pearson, 1.0, kTol);
  EXPECT_NEAR(m.mean_r2, 1.0, kTol);
  EXPECT_NEAR(m.mean_cosine, 1.0, kTol);
}

TEST(Metrics, R2CanBeNegative) {
  // y = (1, 2, 3), yhat = (3, 2, 1): SS_res = 4 + 0 + 4 = 8, SS_tot = 2, R^2 = 1 - 8/2 = -3.
  Eigen::VectorXd y(3), yhat(3);
  y << 1, 2, 3;
  yhat << 3, 2, 1;
  EXPECT_NEAR(signature_r2(y, yhat), -3.0, kTol);
}

TEST(Metrics, ConstantTruthSignatureIsLeftOutOfMeanR2) {
  // Column 0 is the hand example's signature 1 (R^2 = 0, cos = 13/14); column 1 has constant truth (2, 2, 2):
  // R^2 has a zero denominator and is left out; its cosine with (1, 2, 3) is 12 / (sqrt(12) sqrt(14)).
  Eigen::MatrixXd truth(3, 2), predicted(3, 2);
  truth << 1, 2, 2, 2, 3, 2;
  predicted << 1, 1, 3, 2, 2, 3;
  const Metrics m = compute_metrics(truth, predicted);
  EXPECT_TRUE(std::isnan(signature_r2(truth.col(1), predicted.col(1))));
  EXPECT_NEAR(m.mean_r2, 0.0, kTol);
  EXPECT_NEAR(m.mean_cosine, (13.0 / 14.0 + 12.0 / (std::sqrt(12.0) * std::sqrt(14.0))) / 2, kTol);
  EXPECT_EQ(m.num_signatures, 2);  // still counted

  // Only constant-truth signatures: no R^2 at all.
  const Metrics constant = compute_metrics(truth.col(1), predicted.col(1));
  EXPECT_TRUE(std::isnan(constant.mean_r2));
  EXPECT_FALSE(std::isnan(constant.mean_cosine));
}

TEST(Metrics, ZeroVectorsAndCosine) {
  Eigen::VectorXd y(3), zero = Eigen::VectorXd::Zero(3);
  y << 1, -2, 0.5;
  EXPECT_EQ(signature_cosine(y, zero), 0.0);           // a zero prediction does not agree
  EXPECT_TRUE(std::isnan(signature_cosine(zero, y)));  // zero truth: undefined, left out
  EXPECT_TRUE(std::isnan(signature_r2(zero, y)));
  // Zero truth beside the hand example's signature 2: both means come from signature 2 alone.
  Eigen::MatrixXd truth(3, 2), predicted(3, 2);
  truth << 0, 0, 0, 1, 0, -1;
  predicted << 5, 0, 5, 1, 5, 0;
  const Metrics m = compute_metrics(truth, predicted);
  EXPECT_NEAR(m.mean_r2, 0.5, kTol);
  EXPECT_NEAR(m.mean_cosine, 1.0 / std::sqrt(2.0), kTol);
}

TEST(Metrics, ConstantSidesAndEmptyInputGiveNaNPearson) {
  Eigen::MatrixXd constant = Eigen::MatrixXd::Constant(3, 2, 4.0);
  EXPECT_TRUE(std::isnan(compute_metrics(hand_truth(), constant).pearson));
  EXPECT_TRUE(std::isnan(compute_metrics(constant, hand_truth()).pearson));
  const Metrics empty = compute_metrics(Eigen::MatrixXd(3, 0), Eigen::MatrixXd(3, 0));
  EXPECT_TRUE(std::isnan(empty.pearson));
  EXPECT_TRUE(std::isnan(empty.mean_r2));
  EXPECT_TRUE(std::isnan(empty.mean_cosine));
  EXPECT_EQ(empty.num_signatures, 0);
  EXPECT_EQ(empty.num_values, 0);
}

TEST(Metrics, NonFinitePredictionIsNotHidden) {
  Eigen::MatrixXd predicted = hand_predicted();
  predicted(1, 1) = std::numeric_limits<double>::quiet_NaN();
  const Metrics m = compute_metrics(hand_truth(), predicted);
  EXPECT_TRUE(std::isnan(m.pearson));
  EXPECT_TRUE(std::isnan(m.mean_r2));
  EXPECT_TRUE(std::isnan(m.mean_cosine));
}

TEST(Metrics, ShapeMismatchIsAnError) {
  EXPECT_THROW(compute_metrics(hand_truth(), Eigen::MatrixXd::Zero(3, 3)), Error);
  EXPECT_THROW(compute_metrics(hand_truth(), Eigen::MatrixXd::Zero(2, 2)), Error);
}

TEST(Metrics, FormatsOneLine) {
  Metrics m;
  m.pearson = 0.5;
  m.mean_r2 = 0.25;
  m.mean_cosine = 0.75;
  m.num_signatures = 2;
  m.num_values = 6;
  EXPECT_EQ(format_metrics(m), "r=0.5000 R2=0.2500 cos=0.7500 (2 signatures, 6 values)");
}

}  // namespace
}  // namespace tessera::solvers::imputation
