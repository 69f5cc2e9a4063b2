// The NTK of kernel.h as a function of one rho, written once for the CPU (kernel.cpp) and for the GPU's kernel
// tiles (solvers/ntk/cuda/), so that both evaluate the same operations in the same order. Compiled by nvcc the
// functions are __host__ __device__; by a C++ compiler they are plain inline functions. No CUDA header here.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define TESSERA_HOST_DEVICE __host__ __device__
#else
#define TESSERA_HOST_DEVICE
#endif

namespace tessera::solvers::ntk::formula {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kInvPi = 0.31830988618379067154;

// Rounding can leave a normalised dot product just outside [-1, 1]; NaN stays NaN.
TESSERA_HOST_DEVICE inline double clip(double rho) { return rho > 1.0 ? 1.0 : (rho < -1.0 ? -1.0 : rho); }

// sqrt(max(0, 1 - rho^2)), with NaN giving 0 as std::max(0.0, NaN) does.
TESSERA_HOST_DEVICE inline double sine_of(double rho) {
  const double s = 1.0 - rho * rho;
  return ::sqrt(s > 0.0 ? s : 0.0);
}

// kappa0 and kappa1 of kernel.h share the arccos; one call computes both.
TESSERA_HOST_DEVICE inline void arc_cosines(double rho, double& k0, double& k1) {
  const double angle_left = kPi - ::acos(rho);
  k0 = angle_left * kInvPi;
  k1 = (rho * angle_left + sine_of(rho)) * kInvPi;
}

// Depth 1, no bias (the published kernel): kappa1(rho) + rho kappa0(rho) = (2 rho (pi - arccos rho) +
// sqrt(1 - rho^2)) / pi.
TESSERA_HOST_DEVICE inline double ntk_depth_one(double rho) {
  rho = clip(rho);
  const double angle_left = kPi - ::acos(rho);
  return (2.0 * rho * angle_left + sine_of(rho)) * kInvPi;
}

// Any depth and first-layer bias (bias_sq = b^2): the recursion of kernel.h.
TESSERA_HOST_DEVICE inline double ntk_general(double rho, int depth, double bias_sq) {
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

// NTK(rho) for the shape (depth, bias_sq), the depth-one fast path included.
TESSERA_HOST_DEVICE inline double ntk_of_rho(double rho, int depth, double bias_sq) {
  return depth == 1 && bias_sq == 0.0 ? ntk_depth_one(rho) : ntk_general(rho, depth, bias_sq);
}

}  // namespace tessera::solvers::ntk::formula
