#include "solvers/imputation/metrics.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

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

std::vector<Eigen::Index> top_changed_genes(const Eigen::Ref<const Eigen::VectorXd>& truth) {
  std::vector<Eigen::Index> rows(std::size_t(truth.size()));
  std::iota(rows.begin(), rows.end(), Eigen::Index(0));
  const auto count = std::min<std::ptrdiff_t>(kTopChangedGenes, std::ptrdiff_t(rows.size()));
  // The index breaks ties so the chosen genes do not depend on the sort's implementation.
  std::partial_sort(rows.begin(), rows.begin() + count, rows.end(), [&](Eigen::Index a, Eigen::Index b) {
    const double abs_a = std::abs(truth(a)), abs_b = std::abs(truth(b));
    return abs_a != abs_b ? abs_a > abs_b : a < b;
  });
  rows.resize(std::size_t(count));
  return rows;
}

double signature_pearson_de(const Eigen::Ref<const Eigen::VectorXd>& truth,
                            const Eigen::Ref<const Eigen::VectorXd>& predicted) {
  TESSERA_CHECK(truth.size() == predicted.size(), "signature_pearson_de: truth has ", truth.size(),
                " genes but the prediction ", predicted.size());
  const auto rows = top_changed_genes(truth);
  if (rows.size() < 2) return NAN;
  const Eigen::VectorXd t = truth(rows), p = predicted(rows);
  const Eigen::ArrayXd t_centred = t.array() - t.mean(), p_centred = p.array() - p.mean();
  const double truth_ss = t_centred.square().sum();
  if (truth_ss == 0.0) return NAN;  // no change to follow among the top genes: undefined, left out
  const double predicted_ss = p_centred.square().sum();
  if (!std::isfinite(predicted_ss)) return NAN;
  if (predicted_ss == 0.0) return 0.0;  // a flat prediction follows none of the changes
  return (t_centred * p_centred).sum() / std::sqrt(truth_ss * predicted_ss);
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
  if (m.num_values > 0) m.mse = (predicted - truth).squaredNorm() / double(m.num_values);

  double r2_sum = 0.0, cosine_sum = 0.0, de_sum = 0.0;
  std::int64_t r2_count = 0, cosine_count = 0, de_count = 0;
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
    const double de = signature_pearson_de(truth.col(j), predicted.col(j));
    if (!std::isnan(de) || !predicted.col(j)(top_changed_genes(truth.col(j))).allFinite()) {
      de_sum += de;
      ++de_count;
    }
  }
  if (r2_count > 0) m.mean_r2 = r2_sum / double(r2_count);
  if (cosine_count > 0) m.mean_cosine = cosine_sum / double(cosine_count);
  if (de_count > 0) m.mean_pearson_de = de_sum / double(de_count);
  return m;
}

std::string format_metrics(const Metrics& metrics) {
  char text[224];
  std::snprintf(text, sizeof text, "r=%.4f R2=%.4f cos=%.4f mse=%.4g r_de%lld=%.4f (%lld signatures, %lld values)",
                metrics.pearson, metrics.mean_r2, metrics.mean_cosine, metrics.mse, (long long)kTopChangedGenes,
                metrics.mean_pearson_de, (long long)metrics.num_signatures, (long long)metrics.num_values);
  return text;
}

}  // namespace tessera::solvers::imputation
