// Imputation metrics (solvers/imputation/metrics.h) against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

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
  m.mse = 0.125;
  m.mean_pearson_de = -0.5;
  m.num_signatures = 2;
  m.num_values = 6;
  EXPECT_EQ(format_metrics(m), "r=0.5000 R2=0.2500 cos=0.7500 mse=0.125 r_de20=-0.5000 (2 signatures, 6 values)");
}

// Pearson r of two vectors, straight from the definition, for the brute-force checks below.
double brute_force_pearson(const std::vector<double>& x, const std::vector<double>& y) {
  double mean_x = 0, mean_y = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mean_x += x[i] / double(x.size()), mean_y += y[i] / double(y.size());
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mean_x) * (y[i] - mean_y);
    sxx += (x[i] - mean_x) * (x[i] - mean_x);
    syy += (y[i] - mean_y) * (y[i] - mean_y);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(Metrics, MseAndTopGenePearsonOfTheHandExample) {
  // MSE: differences p - t are (0, 1, -1) and (0, 0, 1): 3 / 6 values = 0.5.
  // Fewer than kTopChangedGenes genes: r over all 3 genes of each signature.
  //   Signature 1: t - 2 = (-1, 0, 1), p - 2 = (-1, 1, 0): r = 1 / sqrt(2 * 2) = 0.5.
  //   Signature 2: t - 0 = (0, 1, -1), p - 1/3 = (-1/3, 2/3, -1/3): cov = 2/3 + 1/3 = 1, sum t^2 = 2,
  //   sum p^2 = 6/9: r = 1 / sqrt(4/3) = sqrt(3) / 2.
  static_assert(kTopChangedGenes == 20);
  const Metrics m = compute_metrics(hand_truth(), hand_predicted());
  EXPECT_NEAR(m.mse, 0.5, kTol);
  EXPECT_NEAR(signature_pearson_de(hand_truth().col(0), hand_predicted().col(0)), 0.5, kTol);
  EXPECT_NEAR(signature_pearson_de(hand_truth().col(1), hand_predicted().col(1)), std::sqrt(3.0) / 2, kTol);
  EXPECT_NEAR(m.mean_pearson_de, (0.5 + std::sqrt(3.0) / 2) / 2, kTol);
  EXPECT_EQ(top_changed_genes(hand_truth().col(1)), (std::vector<Eigen::Index>{1, 2, 0}));  // |-1| ties 1: row 1
}

TEST(Metrics, TopGenePearsonScoresOnlyTheTwentyMostChangedGenes) {
  // 25 genes: rows 0-4 barely change (|t| = 0.1), rows 5-24 change by +-(1 .. 20). A prediction exact on the 20
  // changed genes and wild on the 5 others has r = 1 there, though its r over all 25 genes is far from 1.
  Eigen::VectorXd truth(25), predicted(25);
  for (int g = 0; g < 5; ++g) truth(g) = g % 2 ? 0.1 : -0.1, predicted(g) = 100.0 * (g + 1);
  for (int g = 5; g < 25; ++g) truth(g) = (g % 2 ? 1.0 : -1.0) * (g - 4), predicted(g) = truth(g);
  std::vector<Eigen::Index> expected_top;
  for (Eigen::Index g = 24; g >= 5; --g) expected_top.push_back(g);  // |t| = 20, 19, ..., 1
  EXPECT_EQ(top_changed_genes(truth), expected_top);
  EXPECT_NEAR(signature_pearson_de(truth, predicted), 1.0, kTol);
  EXPECT_LT(brute_force_pearson(std::vector<double>(truth.begin(), truth.end()),
                                std::vector<double>(predicted.begin(), predicted.end())),
            0.5);
  const Metrics m = compute_metrics(truth, predicted);
  EXPECT_NEAR(m.mean_pearson_de, 1.0, kTol);
  // MSE over all 25 values: only rows 0-4 differ, by 100 (g + 1) -+ 0.1.
  double squared = 0;
  for (int g = 0; g < 5; ++g) squared += std::pow(100.0 * (g + 1) - truth(g), 2);
  EXPECT_NEAR(m.mse, squared / 25, 1e-9);
}

TEST(Metrics, TopGenePearsonBreaksTiesByGeneOrder) {
  // 22 genes: rows 0-18 have |t| = 30 .. 12 (signs alternate); rows 19, 20 and 21 tie at |t| = 5 (+5, -5, +5).
  // The 20th gene is the first of the tie, row 19; rows 20 and 21 are left out whatever is predicted for them.
  Eigen::VectorXd truth(22), predicted(22);
  for (int g = 0; g < 19; ++g) truth(g) = (g % 2 ? -1.0 : 1.0) * (30 - g);
  truth(19) = 5, truth(20) = -5, truth(21) = 5;
  for (int g = 0; g < 22; ++g) predicted(g) = 0.5 * truth(g) + std::sin(double(g));  // deterministic noise
  std::vector<Eigen::Index> expected_top;
  for (Eigen::Index g = 0; g < 20; ++g) expected_top.push_back(g);
  EXPECT_EQ(top_changed_genes(truth), expected_top);
  const std::vector<double> t(truth.data(), truth.data() + 20), p(predicted.data(), predicted.data() + 20);
  const double expected = brute_force_pearson(t, p);
  EXPECT_NEAR(signature_pearson_de(truth, predicted), expected, kTol);
  predicted(20) = -1e6, predicted(21) = 1e6;  // outside the top 20: no effect on r
  EXPECT_NEAR(signature_pearson_de(truth, predicted), expected, kTol);
  predicted(19) = -1e6;  // inside: it changes
  EXPECT_LT(signature_pearson_de(truth, predicted), expected - 0.1);
}

TEST(Metrics, TopGenePearsonOfConstantSidesAndTooFewGenes) {
  Eigen::VectorXd y(3), flat = Eigen::VectorXd::Constant(3, 4.0);
  y << 1, 2, 3;
  EXPECT_EQ(signature_pearson_de(y, flat), 0.0);           // a flat prediction follows none of the changes
  EXPECT_TRUE(std::isnan(signature_pearson_de(flat, y)));  // no change to follow: undefined
  EXPECT_TRUE(std::isnan(signature_pearson_de(Eigen::VectorXd::Constant(1, 2.0), Eigen::VectorXd::Constant(1, 1.0))));
  EXPECT_TRUE(std::isnan(signature_pearson_de(Eigen::VectorXd(0), Eigen::VectorXd(0))));

  // 24 genes whose 20 most changed are all 7 (the other 4 are 1 .. 4): the truth varies, so R^2 exists, but it is
  // constant over the top genes, so this signature is left out of mean_pearson_de. Beside it: the hand example's
  // signature 1 (r = 0.5) padded with 21 unchanged genes predicted exactly, and a flat prediction (r = 0).
  Eigen::MatrixXd truth = Eigen::MatrixXd::Zero(24, 3), predicted = Eigen::MatrixXd::Zero(24, 3);
  for (int g = 0; g < 20; ++g) truth(g, 0) = 7.0, predicted(g, 0) = g;
  for (int g = 20; g < 24; ++g) truth(g, 0) = g - 19;
  truth.col(1).head(3) << 1, 2, 3;
  predicted.col(1).head(3) << 1, 3, 2;
  truth.col(2).head(3) << 1, 2, 3;
  predicted.col(2).setConstant(-2.0);
  EXPECT_TRUE(std::isnan(signature_pearson_de(truth.col(0), predicted.col(0))));
  EXPECT_FALSE(std::isnan(signature_r2(truth.col(0), predicted.col(0))));
  // Signature 2's top 20: rows 2, 1, 0, then the zeros 3 .. 19; its r over them, by brute force.
  std::vector<double> t2(20), p2(20);
  const std::vector<int> rows2 = [] {
    std::vector<int> rows{2, 1, 0};
    for (int g = 3; g < 20; ++g) rows.push_back(g);
    return rows;
  }();
  for (std::size_t i = 0; i < 20; ++i) t2[i] = truth(rows2[i], 1), p2[i] = predicted(rows2[i], 1);
  const double r2_of_padded = brute_force_pearson(t2, p2);
  const Metrics m = compute_metrics(truth, predicted);
  EXPECT_NEAR(m.mean_pearson_de, (r2_of_padded + 0.0) / 2, kTol);
  EXPECT_EQ(m.num_signatures, 3);  // still counted
}

TEST(Metrics, MseAndTopGenePearsonOfNonFiniteAndEmptyInput) {
  Eigen::MatrixXd predicted = hand_predicted();
  predicted(1, 1) = std::numeric_limits<double>::infinity();
  const Metrics m = compute_metrics(hand_truth(), predicted);
  EXPECT_TRUE(std::isinf(m.mse));
  EXPECT_TRUE(std::isnan(m.mean_pearson_de));
  // A NaN outside a signature's top genes leaves its r alone but not the MSE.
  Eigen::MatrixXd truth = Eigen::MatrixXd::Zero(21, 1), guess = Eigen::MatrixXd::Zero(21, 1);
  for (int g = 0; g < 20; ++g) truth(g, 0) = g + 1, guess(g, 0) = 2 * (g + 1);
  guess(20, 0) = std::numeric_limits<double>::quiet_NaN();
  const Metrics partly = compute_metrics(truth, guess);
  EXPECT_NEAR(partly.mean_pearson_de, 1.0, kTol);
  EXPECT_TRUE(std::isnan(partly.mse));
  const Metrics empty = compute_metrics(Eigen::MatrixXd(3, 0), Eigen::MatrixXd(3, 0));
  EXPECT_TRUE(std::isnan(empty.mse));
  EXPECT_TRUE(std::isnan(empty.mean_pearson_de));
}

}  // namespace
}  // namespace tessera::solvers::imputation
