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

const engine::NameTable<InvarianceForm>& name_table(InvarianceForm) {
  static const engine::NameTable<InvarianceForm> table{{InvarianceForm::kChow, "chow"},
                                                       {InvarianceForm::kWald, "wald"}};
  return table;
}

namespace {

// 2 min(F, 1 - F) of `value` on `dist`: a two-sided F-test.
double two_sided(const boost::math::fisher_f& dist, double value) {
  return std::min(1.0,
                  2 * std::min(boost::math::cdf(dist, value), boost::math::cdf(boost::math::complement(dist, value))));
}

// The regression of `node` on `cond` and an intercept from a setting's statistics: coefficients (cond..., then
// the intercept), the inverse of the uncentred Gram matrix G = [X 1]'[X 1], and the residual sum of squares.
struct Regression {
  Eigen::VectorXd coefficients;
  Eigen::MatrixXd gram_inverse;
  double rss = 0;
};

Regression regress(const SettingStats& s, int node, const std::vector<int>& cond) {
  const int m = int(cond.size());
  Eigen::MatrixXd gram(m + 1, m + 1);
  Eigen::VectorXd cross(m + 1);
  auto moment = [&](int a, int b) { return (s.n - 1) * s.cov(a, b) + s.n * s.mean(a) * s.mean(b); };
  for (int a = 0; a < m; ++a) {
    for (int b = 0; b < m; ++b) gram(a, b) = moment(cond[a], cond[b]);
    gram(a, m) = gram(m, a) = s.n * s.mean(cond[a]);
    cross(a) = moment(cond[a], node);
  }
  gram(m, m) = s.n;
  cross(m) = s.n * s.mean(node);
  Regression r;
  r.gram_inverse = gram.completeOrthogonalDecomposition().pseudoInverse();
  r.coefficients = r.gram_inverse * cross;
  // The residual sum of squares from the centred statistics: the uncentred form loses digits to large means.
  r.rss = residual_sum_of_squares(s, node, cond);
  return r;
}

}  // namespace

GaussianInvarianceTest::GaussianInvarianceTest(std::vector<SettingStats> settings, double alpha_inv,
                                               InvarianceForm form)
    : settings_(std::move(settings)), alpha_(alpha_inv), form_(form) {
  TESSERA_CHECK(alpha_ > 0 && alpha_ < 1, "--alpha-inv must be in (0, 1), got ", alpha_);
  TESSERA_CHECK(!settings_.empty(), "GaussianInvarianceTest: no observational setting");
  pooled_.resize(settings_.size());
  for (std::size_t k = 1; k < settings_.size(); ++k) pooled_[k] = pool(settings_[0], settings_[k]);
}

std::pair<double, double> GaussianInvarianceTest::coefficient_and_variance_p(int node, const std::vector<int>& cond,
                                                                             int setting) const {
  TESSERA_CHECK(setting >= 1 && setting < num_settings(), "invariance test: setting ", setting, " out of range");
  return form_ == InvarianceForm::kWald ? wald_p(node, cond, setting) : chow_p(node, cond, setting);
}

std::pair<double, double> GaussianInvarianceTest::wald_p(int node, const std::vector<int>& cond, int setting) const {
  const SettingStats& s0 = settings_[0];
  const SettingStats& sk = settings_[setting];
  const double q = double(cond.size()) + 1;
  if (s0.n - q < 1 || sk.n - q < 1) return {1.0, 1.0};
  const Regression r0 = regress(s0, node, cond), rk = regress(sk, node, cond);
  const double v0 = r0.rss / (s0.n - q), vk = rk.rss / (sk.n - q);
  const Eigen::VectorXd d = r0.coefficients - rk.coefficients;
  const Eigen::MatrixXd spread = v0 * r0.gram_inverse + vk * rk.gram_inverse;
  const double t_coef = d.dot(spread.completeOrthogonalDecomposition().pseudoInverse() * d) / q;
  const double p_coef = two_sided(boost::math::fisher_f(q, s0.n + sk.n - q), t_coef);
  const double p_var = two_sided(boost::math::fisher_f(s0.n - 1, sk.n - 1), v0 / vk);
  return {p_coef, p_var};
}

std::pair<double, double> GaussianInvarianceTest::chow_p(int node, const std::vector<int>& cond, int setting) const {
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
  const double p_var = two_sided(boost::math::fisher_f(d0, dk), (rss0 / d0) / (rssk / dk));
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
