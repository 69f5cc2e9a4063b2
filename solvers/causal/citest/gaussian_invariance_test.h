// Gaussian invariance test of node j given S between the observational setting (0) and setting k: regress j on
// S (with intercept) in each setting, then compare the coefficients and the residual variances. Two forms:
//   chow (the default): coefficients by Chow's F = ((RSS_pooled - RSS_0 - RSS_k) / q) / ((RSS_0 + RSS_k) /
//     (n_0 + n_k - 2q)), q = |S| + 1, upper tail; variances by F = s_0^2 / s_k^2 with (n_0 - q, n_k - q)
//     degrees of freedom, two-sided. Chow's test assumes one residual variance in both settings.
//   wald: the published UT-IGSP test (causaldag / conditional_independence gauss_invariance_test): the
//     coefficients b_0, b_k (intercept included) by T = d' (v_0 G_0^+ + v_k G_k^+)^+ d / q, d = b_0 - b_k,
//     G = [X_S 1]'[X_S 1], v = RSS / (n - q), each setting with its own variance, read on F(q, n_0 + n_k - q)
//     two-sided (2 min(F, 1 - F)); variances by v_0 / v_k on F(n_0 - 1, n_k - 1), two-sided.
// The mechanism changed (not invariant) when either p < alpha_inv / 2; p_value() returns 2 min(p_coef, p_var)
// capped at 1, so invariant() is p_value > alpha_inv. Memoised on (j, sorted S, k).
#pragma once
#include <vector>

#include "engine/parameters.h"
#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/stats/sufficient_stats.h"

namespace tessera::solvers::causal {

enum class InvarianceForm { kChow, kWald };
const engine::NameTable<InvarianceForm>& name_table(InvarianceForm);  // chow | wald

class GaussianInvarianceTest final : public InvarianceTest {
 public:
  // settings[0] observational; alpha_inv in (0, 1).
  GaussianInvarianceTest(std::vector<SettingStats> settings, double alpha_inv,
                         InvarianceForm form = InvarianceForm::kChow);
  double p_value(int node, const std::vector<int>& cond, int setting) override;
  double alpha() const override { return alpha_; }
  int num_settings() const override { return int(settings_.size()); }
  std::size_t num_tests() const override { return memo_.size(); }
  // The two p-values, not memoised (exposed for tests).
  std::pair<double, double> coefficient_and_variance_p(int node, const std::vector<int>& cond, int setting) const;

 private:
  std::pair<double, double> chow_p(int node, const std::vector<int>& cond, int setting) const;
  std::pair<double, double> wald_p(int node, const std::vector<int>& cond, int setting) const;

  std::vector<SettingStats> settings_;
  std::vector<SettingStats> pooled_;  // pool(settings[0], settings[k])
  double alpha_;
  InvarianceForm form_;
  PValueMemo memo_;
  std::vector<int> key_;
};

// Residual sum of squares of regressing `node` on `cond` (with intercept) from a setting's statistics.
double residual_sum_of_squares(const SettingStats& s, int node, const std::vector<int>& cond);

}  // namespace tessera::solvers::causal
