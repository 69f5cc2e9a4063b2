// A test and benchmark KernelOperator: the NTK of a one-hidden-layer ReLU network on N random unit vectors in
// `dims` dimensions, NTK(rho) = (rho (pi - arccos rho) + sqrt(1 - rho^2)) / pi + rho (pi - arccos rho) / pi,
// rho = <x_i, x_j>. Strictly positive definite on distinct inputs, K_ii = 2. The real NTK operator
// (solvers/ntk/kernel/ntk_operator.h) plugs into the solvers through the same interface.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "engine/random.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::testing {

class ReluNtkKernel final : public solvers::ntk::KernelOperator {
 public:
  ReluNtkKernel(std::int64_t n, int dims, std::uint64_t seed) : inputs_(dims, n) {
    engine::RandomStream stream(seed, "test/relu-ntk-inputs");
    for (std::int64_t i = 0; i < n; ++i) {
      for (int k = 0; k < dims; ++k) inputs_(k, i) = stream.normal();
      inputs_.col(i).normalize();
    }
  }

  std::int64_t size() const override { return inputs_.cols(); }

  void tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const override {
    out.noalias() = inputs_.middleCols(row0, out.rows()).transpose() * inputs_.middleCols(col0, out.cols());
    for (Eigen::Index j = 0; j < out.cols(); ++j)
      for (Eigen::Index i = 0; i < out.rows(); ++i) out(i, j) = ntk(out(i, j));
  }

  double diagonal(std::int64_t) const override { return 2.0; }

  const Eigen::MatrixXd& inputs() const { return inputs_; }  // dims x N

  // The whole N x N matrix (small N only).
  Eigen::MatrixXd dense() const {
    Eigen::MatrixXd k(size(), size());
    tile(0, 0, k);
    return k;
  }

  static double ntk(double rho) {
    rho = std::clamp(rho, -1.0, 1.0);
    const double angle = std::numbers::pi - std::acos(rho);
    return (rho * angle + std::sqrt(1.0 - rho * rho)) / std::numbers::pi + rho * angle / std::numbers::pi;
  }

 private:
  Eigen::MatrixXd inputs_;  // dims x N, unit columns
};

}  // namespace tessera::testing
