#include "solvers/ntk/kernel/kernel.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tessera::solvers::ntk {

namespace {

constexpr double kInvPi = std::numbers::inv_pi;

inline double clip(double rho) { return rho > 1.0 ? 1.0 : (rho < -1.0 ? -1.0 : rho); }

// kappa0 and kappa1 share the arccos; one call computes both.
inline void arc_cosines(double rho, double& k0, double& k1) {
  const double angle_left = std::numbers::pi - std::acos(rho);
  k0 = angle_left * kInvPi;
  k1 = (rho * angle_left + std::sqrt(std::max(0.0, 1.0 - rho * rho))) * kInvPi;
}

inline double ntk_general(double rho, int depth, double bias_sq) {
  double sigma = clip((clip(rho) + bias_sq) / (1.0 + bias_sq));
  double theta = sigma;
  for (int l = 0; l < depth; ++l) {
    double k0, k1;
    arc_cosines(sigma, k0, k1);
    theta = k1 + theta * k0;
    sigma = clip(k1);  // kappa1 maps [-1, 1] into [0, 1]; the clip only guards rounding above 1
  }
  return theta;
}

}  // namespace

double kappa0(double rho) { return (std::numbers::pi - std::acos(clip(rho))) * kInvPi; }

double kappa1(double rho) {
  rho = clip(rho);
  return (rho * (std::numbers::pi - std::acos(rho)) + std::sqrt(std::max(0.0, 1.0 - rho * rho))) * kInvPi;
}

double ntk_value(double rho, const NtkShape& shape) { return ntk_general(rho, shape.depth, shape.bias * shape.bias); }

double ntk_diagonal(const NtkShape& shape) { return double(shape.depth) + 1.0; }

void apply_ntk(const NtkShape& shape, double* values, std::int64_t count) {
  if (shape.depth == 1 && shape.bias == 0.0) {
    // The published kernel: kappa1(rho) + rho kappa0(rho) = (2 rho (pi - arccos rho) + sqrt(1 - rho^2)) / pi.
    for (std::int64_t k = 0; k < count; ++k) {
      const double rho = clip(values[k]);
      const double angle_left = std::numbers::pi - std::acos(rho);
      values[k] = (2.0 * rho * angle_left + std::sqrt(std::max(0.0, 1.0 - rho * rho))) * kInvPi;
    }
    return;
  }
  const double bias_sq = shape.bias * shape.bias;
  for (std::int64_t k = 0; k < count; ++k) values[k] = ntk_general(values[k], shape.depth, bias_sq);
}

}  // namespace tessera::solvers::ntk
