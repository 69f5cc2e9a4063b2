#include "solvers/imputation/metrics.h"

#include <cstdio>

#include "engine/error.h"

namespace tessera::solvers::imputation {

double signature_r2(const Eigen::Ref<const Eigen::VectorXd>& truth,
                    const Eigen::Ref<const Eigen::VectorXd>& predicted) {
  if (truth.size() == 0) return NAN;
  const double total = (truth.array() - truth.mean()).square().sum();
  if (total == 0.0) return NAN;  // constant truth: R^2 is undefined
  const double residual = (truth - predicted).squaredNorm();
  return 1.0 - residual / total;
}

double signature_cosine(const Eigen::Ref<const Eigen::VectorXd>& truth,
                        const Eigen::Ref<const Eigen::VectorXd>& predicted) {
  const double truth_norm = truth.norm();
  if (truth_norm == 0.0) return NAN;  // nothing to point in a direction
  const double predicted_norm = predicted.norm();
  if (predicted_norm == 0.0) return 0.0;
  return truth.dot(predicted) / (truth_norm * predicted_norm);
}

Metrics compute_metrics(const Eigen::MatrixXd& truth, const Eigen::MatrixXd& predicted) {
  TESSERA_CHECK(truth.rows() == predicted.rows() && truth.cols() == predicted.cols(), "compute_metrics: truth is ",
                truth.rows(), " x ", truth.cols(), " but predictions are ", predicted.rows(), " x ", predicted.cols(),
                " (genes x signatures)");
  Metrics m;
  m.num_signatures = truth.cols();
  m.num_values = truth.size();

  if (m.num_values >= 2) {
    // Two passes (means, then centred sums) keep the correlation accurate for large, offset values.
    const double truth_mean = truth.mean();
    const double predicted_mean = predicted.mean();
    const auto t = truth.array() - truth_mean;
    const auto p = predicted.array() - predicted_mean;
    const double covariance = (t * p).sum();
    const double truth_ss = t.square().sum();
    const double predicted_ss = p.square().sum();
    if (truth_ss > 0.0 && predicted_ss > 0.0) m.pearson = covariance / std::sqrt(truth_ss * predicted_ss);
  }

  double r2_sum = 0.0, cosine_sum = 0.0;
  std::int64_t r2_count = 0, cosine_count = 0;
  for (Eigen::Index j = 0; j < truth.cols(); ++j) {
    const double r2 = signature_r2(truth.col(j), predicted.col(j));
    if (!std::isnan(r2) || !predicted.col(j).allFinite()) {
      r2_sum += r2;
      ++r2_count;
    }
    const double cosine = signature_cosine(truth.col(j), predicted.col(j));
    if (!std::isnan(cosine) || !predicted.col(j).allFinite()) {
      cosine_sum += cosine;
      ++cosine_count;
    }
  }
  if (r2_count > 0) m.mean_r2 = r2_sum / double(r2_count);
  if (cosine_count > 0) m.mean_cosine = cosine_sum / double(cosine_count);
  return m;
}

std::string format_metrics(const Metrics& metrics) {
  char text[160];
  std::snprintf(text, sizeof text, "r=%.4f R2=%.4f cos=%.4f (%lld signatures, %lld values)", metrics.pearson,
                metrics.mean_r2, metrics.mean_cosine, (long long)metrics.num_signatures, (long long)metrics.num_values);
  return text;
}

}  // namespace tessera::solvers::imputation
