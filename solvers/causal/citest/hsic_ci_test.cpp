#include "solvers/causal/citest/hsic_ci_test.h"

#include <algorithm>
#include <boost/math/distributions/gamma.hpp>
#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::causal {

namespace {

// Centred Gaussian Gram matrix H K H of a sample, bandwidth = median pairwise distance; also returns the mean
// off-diagonal entry of K (for the null mean).
Eigen::MatrixXd centred_gram(const Eigen::VectorXd& x, double& mean_off_diagonal) {
  const auto n = x.size();
  std::vector<double> dist;
  dist.reserve(std::size_t(n * (n - 1) / 2));
  for (Eigen::Index a = 0; a < n; ++a)
    for (Eigen::Index b = a + 1; b < n; ++b) dist.push_back(std::abs(x(a) - x(b)));
  std::nth_element(dist.begin(), dist.begin() + dist.size() / 2, dist.end());
  double sigma = dist[dist.size() / 2];
  if (!(sigma > 0)) sigma = 1;
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index a = 0; a < n; ++a)
    for (Eigen::Index b = 0; b < n; ++b) k(a, b) = std::exp(-(x(a) - x(b)) * (x(a) - x(b)) / (2 * sigma * sigma));
  mean_off_diagonal = (k.sum() - k.trace()) / double(n) / double(n - 1);
  const Eigen::VectorXd col_mean = k.colwise().mean();
  const double all_mean = col_mean.mean();
  k.rowwise() -= col_mean.transpose();
  k.colwise() -= col_mean;  // K is symmetric: row means = column means
  k.array() += all_mean;
  return k;
}

}  // namespace

double hsic_gamma_p_value(const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
  const double n = double(x.size());
  TESSERA_CHECK(x.size() == y.size() && x.size() >= 6, "HSIC needs two samples of equal size >= 6");
  double mu_x = 0, mu_y = 0;
  const Eigen::MatrixXd kc = centred_gram(x, mu_x);
  const Eigen::MatrixXd lc = centred_gram(y, mu_y);
  const Eigen::MatrixXd prod = kc.cwiseProduct(lc);
  const double stat = prod.sum() / n;
  Eigen::MatrixXd v = (prod / 6).array().square();
  double var = (v.sum() - v.trace()) / n / (n - 1);
  var *= 72 * (n - 4) * (n - 5) / n / (n - 1) / (n - 2) / (n - 3);
  const double mean = (1 + mu_x * mu_y - mu_x - mu_y) / n;
  if (!(var > 0) || !(mean > 0)) return 1.0;
  const double shape = mean * mean / var;
  const double scale = var * n / mean;
  return boost::math::cdf(boost::math::complement(boost::math::gamma_distribution<double>(shape, scale), stat));
}

HsicCiTest::HsicCiTest(const Eigen::MatrixXd& samples, double alpha, int max_samples)
    : x_(samples.topRows(std::min<Eigen::Index>(samples.rows(), max_samples))), alpha_(alpha) {
  TESSERA_CHECK(alpha_ > 0 && alpha_ < 1, "HSIC alpha must be in (0, 1), got ", alpha_);
  TESSERA_CHECK(x_.rows() >= 6, "HSIC test needs at least 6 rows, got ", x_.rows());
}

Eigen::VectorXd HsicCiTest::residual(int v, const std::vector<int>& cond) const {
  const Eigen::VectorXd y = x_.col(v);
  Eigen::MatrixXd design(x_.rows(), Eigen::Index(cond.size()) + 1);
  design.col(0).setOnes();
  for (std::size_t a = 0; a < cond.size(); ++a) design.col(Eigen::Index(a) + 1) = x_.col(cond[a]);
  return y - design * design.colPivHouseholderQr().solve(y);
}

double HsicCiTest::p_value(int i, int j, const std::vector<int>& cond) {
  std::vector<int> key{std::min(i, j), std::max(i, j)};
  key.insert(key.end(), cond.begin(), cond.end());
  std::sort(key.begin() + 2, key.end());
  auto it = memo_.find(key);
  if (it != memo_.end()) return it->second;
  // Computed from the key (i < j, S sorted), not from the arguments: the regression's column order and the
  // x/y roles change the last bits, so the memoised value would otherwise depend on which caller asked first
  // (on how restarts are spread over ranks).
  const std::vector<int> sorted_cond(key.begin() + 2, key.end());
  const double p = hsic_gamma_p_value(residual(key[0], sorted_cond), residual(key[1], sorted_cond));
  memo_.emplace(std::move(key), p);
  return p;
}

}  // namespace tessera::solvers::causal
