// Kernel CI test by HSIC (Gretton et al. 2008) with the gamma approximation of the null distribution.
// i _||_ j | S is tested as the independence of the residuals of i and j after a least-squares regression on S
// (with intercept): exact for additive-noise models linear in S, nonlinear in the dependence between i and j.
// Gaussian kernels with the median-distance bandwidth; at most max_samples rows are used (the first ones), since
// the cost is O(n^2) per test. Memoised like GaussianCiTest.
#pragma once
#include <Eigen/Dense>
#include <vector>

#include "solvers/causal/citest/ci_test.h"

namespace tessera::solvers::causal {

// p-value that x and y (n samples each) are independent; n >= 6.
double hsic_gamma_p_value(const Eigen::VectorXd& x, const Eigen::VectorXd& y);

class HsicCiTest final : public CiTest {
 public:
  HsicCiTest(const Eigen::MatrixXd& samples, double alpha, int max_samples = 1000);
  double p_value(int i, int j, const std::vector<int>& cond) override;
  double alpha() const override { return alpha_; }
  std::size_t num_tests() const override { return memo_.size(); }

 private:
  Eigen::VectorXd residual(int v, const std::vector<int>& cond) const;
  Eigen::MatrixXd x_;
  double alpha_;
  PValueMemo memo_;
};

}  // namespace tessera::solvers::causal
