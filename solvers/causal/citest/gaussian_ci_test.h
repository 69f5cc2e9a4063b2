// Gaussian CI test: the partial correlation of i and j given S, from the inverse of the covariance submatrix on
// S + {i, j}, and Fisher's z: z = atanh(r) sqrt(n - |S| - 3), two-sided normal p-value. Independent when
// p > alpha; alpha = 0 (unset) means 1/n.
#pragma once
#include <vector>

#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/stats/sufficient_stats.h"

namespace tessera::solvers::causal {

// Two-sided p-value of Fisher's z for a partial correlation r from n samples given `cond_size` variables.
double fisher_z_p_value(double r, double n, int cond_size);

class GaussianCiTest final : public CiTest {
 public:
  GaussianCiTest(SettingStats stats, double alpha = 0);
  double p_value(int i, int j, const std::vector<int>& cond) override;
  double alpha() const override { return alpha_; }
  std::size_t num_tests() const override { return memo_.size(); }
  double partial_correlation(int i, int j, const std::vector<int>& cond) const;
  const SettingStats& stats() const { return stats_; }

 private:
  SettingStats stats_;
  Eigen::MatrixXd corr_;  // correlation matrix (scale-free, better conditioned inverses)
  double alpha_;
  PValueMemo memo_;
  std::vector<int> key_;
};

}  // namespace tessera::solvers::causal
