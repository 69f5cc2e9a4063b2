#include "solvers/causal/citest/gaussian_ci_test.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::causal {

double fisher_z_p_value(double r, double n, double cond_size) {
  const double dof = n - cond_size - 3;
  if (dof <= 0) return 1.0;  // too few samples to reject anything
  r = std::clamp(r, -1 + 1e-15, 1 - 1e-15);
  const double z = std::atanh(r) * std::sqrt(dof);
  return std::erfc(std::abs(z) / std::sqrt(2.0));
}

namespace {

void check_variances(const SettingStats& s) {
  for (int j = 0; j < s.num_variables(); ++j)
    TESSERA_CHECK(std::isfinite(s.cov(j, j)) && s.cov(j, j) > 0, "variable ", j, " (counted from 0) has ",
                  s.cov(j, j) == 0 ? "zero variance (it is constant)" : "a variance that is no finite number",
                  " in the observational rows; drop it or rescale it");
}

}  // namespace

double resolve_shrinkage(const SettingStats& obs, double requested) {
  if (requested >= 0) {
    TESSERA_CHECK(requested <= 1, "--shrinkage must be in [0, 1] (or auto), got ", requested);
    return requested;
  }
  check_variances(obs);
  const int p = obs.num_variables();
  bool safe = obs.n > p + 1;  // else a test given all other variables has no degrees of freedom
  if (safe && p > 0) {
    const Eigen::VectorXd inv_sd = obs.cov.diagonal().cwiseSqrt().cwiseInverse();
    const Eigen::MatrixXd corr = inv_sd.asDiagonal() * obs.cov * inv_sd.asDiagonal();
    const Eigen::LLT<Eigen::MatrixXd> llt(corr);
    safe = llt.info() == Eigen::Success && llt.rcond() > 1e-10;
  }
  return safe ? 0.0 : std::clamp(shrinkage_intensity(obs), kMinAutoShrinkage, kMaxAutoShrinkage);
}

GaussianCiTest::GaussianCiTest(SettingStats stats, double alpha, double shrinkage)
    : stats_(std::move(stats)), lambda_(shrinkage) {
  TESSERA_CHECK(stats_.n > 3, "the observational setting has ", stats_.n,
                " rows; the conditional-independence tests need at least 4: add observational rows");
  alpha_ = alpha > 0 ? alpha : 1.0 / stats_.n;
  TESSERA_CHECK(alpha_ < 1, "--alpha must be in (0, 1), got ", alpha_);
  TESSERA_CHECK(lambda_ >= 0 && lambda_ <= 1, "--shrinkage must be in [0, 1], got ", lambda_);
  check_variances(stats_);
  const Eigen::VectorXd inv_sd = stats_.cov.diagonal().cwiseSqrt().cwiseInverse();
  corr_ = inv_sd.asDiagonal() * stats_.cov * inv_sd.asDiagonal();
  if (lambda_ > 0) {
    corr_ *= 1 - lambda_;
    corr_.diagonal().setOnes();  // (1 - lambda) r_jj + lambda with r_jj = 1
  }
}

double GaussianCiTest::effective_conditioning_size(const std::vector<int>& cond) const {
  const int m = int(cond.size());
  if (lambda_ == 0 || m == 0) return m;
  Eigen::MatrixXd sub(m, m);
  for (int a = 0; a < m; ++a)
    for (int b = 0; b < m; ++b) sub(a, b) = corr_(cond[a], cond[b]);
  const Eigen::MatrixXd inv = Eigen::LDLT<Eigen::MatrixXd>(sub).solve(Eigen::MatrixXd::Identity(m, m));
  return std::clamp(m - lambda_ * inv.trace(), 0.0, double(m));
}

double GaussianCiTest::partial_correlation(int i, int j, const std::vector<int>& cond) const {
  const int m = int(cond.size()) + 2;
  std::vector<int> idx{i, j};
  idx.insert(idx.end(), cond.begin(), cond.end());
  Eigen::MatrixXd sub(m, m);
  for (int a = 0; a < m; ++a)
    for (int b = 0; b < m; ++b) sub(a, b) = corr_(idx[a], idx[b]);
  if (m == 2) return sub(0, 1);
  // Only the 2 x 2 block of the precision on (i, j) is needed: solve sub X = [e_i e_j].
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(sub);
  const Eigen::MatrixXd e = Eigen::MatrixXd::Identity(m, 2);
  const Eigen::MatrixXd prec = ldlt.solve(e);
  return -prec(0, 1) / std::sqrt(prec(0, 0) * prec(1, 1));
}

double GaussianCiTest::p_value(int i, int j, const std::vector<int>& cond) {
  key_.assign({std::min(i, j), std::max(i, j)});
  key_.insert(key_.end(), cond.begin(), cond.end());
  std::sort(key_.begin() + 2, key_.end());
  auto it = memo_.find(key_);
  if (it != memo_.end()) return it->second;
  const double p = fisher_z_p_value(partial_correlation(i, j, cond), stats_.n,
                                    lambda_ > 0 ? effective_conditioning_size(cond) : double(cond.size()));
  memo_.emplace(key_, p);
  return p;
}

}  // namespace tessera::solvers::causal
