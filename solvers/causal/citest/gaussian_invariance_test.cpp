#include "solvers/causal/citest/gaussian_invariance_test.h"

#include <algorithm>
#include <boost/math/distributions/fisher_f.hpp>
#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::causal {

double residual_sum_of_squares(const SettingStats& s, int node, const std::vector<int>& cond) {
  const int m = int(cond.size());
  const double syy = s.cov(node, node) * (s.n - 1);
  if (m == 0) return syy;
  Eigen::MatrixXd sxx(m, m);
  Eigen::VectorXd sxy(m);
  for (int a = 0; a < m; ++a) {
    sxy(a) = s.cov(cond[a], node);
    for (int b = 0; b < m; ++b) sxx(a, b) = s.cov(cond[a], cond[b]);
  }
  const Eigen::VectorXd beta = sxx.ldlt().solve(sxy);
  return std::max((s.cov(node, node) - sxy.dot(beta)) * (s.n - 1), 1e-300);
}

GaussianInvarianceTest::GaussianInvarianceTest(std::vector<SettingStats> settings, double alpha_inv)
    : settings_(std::move(settings)), alpha_(alpha_inv) {
  TESSERA_CHECK(alpha_ > 0 && alpha_ < 1, "--alpha-inv must be in (0, 1), got ", alpha_);
  TESSERA_CHECK(!settings_.empty(), "GaussianInvarianceTest: no observational setting");
  pooled_.resize(settings_.size());
  for (std::size_t k = 1; k < settings_.size(); ++k) pooled_[k] = pool(settings_[0], settings_[k]);
}

std::pair<double, double> GaussianInvarianceTest::coefficient_and_variance_p(int node, const std::vector<int>& cond,
                                                                             int setting) const {
  TESSERA_CHECK(setting >= 1 && setting < num_settings(), "invariance test: setting ", setting, " out of range");
  const SettingStats& s0 = settings_[0];
  const SettingStats& sk = settings_[setting];
  const double q = double(cond.size()) + 1;
  const double d0 = s0.n - q, dk = sk.n - q;
  if (d0 < 1 || dk < 1) return {1.0, 1.0};
  const double rss0 = residual_sum_of_squares(s0, node, cond);
  const double rssk = residual_sum_of_squares(sk, node, cond);
  const double rssp = residual_sum_of_squares(pooled_[setting], node, cond);
  // pooled_ regresses with one intercept over both settings (its mean is the pooled mean), as Chow's test needs.
  const double f_coef = std::max(rssp - rss0 - rssk, 0.0) / q / ((rss0 + rssk) / (d0 + dk));
  const double p_coef = boost::math::cdf(boost::math::complement(boost::math::fisher_f(q, d0 + dk), f_coef));
  const double f_var = (rss0 / d0) / (rssk / dk);
  const boost::math::fisher_f var_dist(d0, dk);
  const double lower = boost::math::cdf(var_dist, f_var);
  const double upper = boost::math::cdf(boost::math::complement(var_dist, f_var));
  const double p_var = std::min(1.0, 2 * std::min(lower, upper));
  return {p_coef, p_var};
}

double GaussianInvarianceTest::p_value(int node, const std::vector<int>& cond, int setting) {
  key_.assign({node, setting});
  key_.insert(key_.end(), cond.begin(), cond.end());
  std::sort(key_.begin() + 2, key_.end());
  auto it = memo_.find(key_);
  if (it != memo_.end()) return it->second;
  const auto [pc, pv] = coefficient_and_variance_p(node, cond, setting);
  const double p = std::min(1.0, 2 * std::min(pc, pv));
  memo_.emplace(key_, p);
  return p;
}

}  // namespace tessera::solvers::causal
