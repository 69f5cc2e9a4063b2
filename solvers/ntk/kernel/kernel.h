// The neural tangent kernel (NTK) of a fully connected ReLU network, as a function of the inner product rho of
// two unit-norm inputs (Jacot et al. 2018; Arora et al. 2019; Radhakrishnan et al., PNAS 2022).
//
// With the arc-cosine functions of ReLU (normalised so that kappa1(1) = kappa0(1) = 1)
//   kappa0(rho) = (pi - arccos rho) / pi
//   kappa1(rho) = (rho (pi - arccos rho) + sqrt(1 - rho^2)) / pi
// a network of `depth` hidden layers has
//   Sigma_0 = Theta_0 = rho'
//   Sigma_l = kappa1(Sigma_{l-1}),  Theta_l = Sigma_l + Theta_{l-1} kappa0(Sigma_{l-1})   (l = 1..depth)
//   NTK(rho) = Theta_depth
// so depth 1 gives NTK(rho) = kappa1(rho) + rho kappa0(rho): NTK(1) = 2, NTK(0) = 1/pi (the kernel of the
// published CMap code). A first-layer bias b appends the constant b to every input and renormalises it:
// rho' = (rho + b^2) / (1 + b^2); b = 0 gives rho' = rho. Every Sigma_l stays in [-1, 1] and NTK(1) = depth + 1.
// This is the NTK parameterisation with the factor 2 of He initialisation, i.e. the limit of
//   f(x) = sqrt(2/m) v . relu(W x),  v, W standard normal, m -> infinity,
// whose empirical NTK grad f(x) . grad f(x') tends to NTK(x . x') (tests/solvers/ntk/kernel/test_ntk_kernel.cpp checks
// it).
//
// All functions are local and thread-safe. Inputs outside [-1, 1] (rounding of normalised dot products) are
// clipped, as the published code does; NaN stays NaN.
#pragma once

#include <cstdint>

#include "engine/parameters.h"

namespace tessera::solvers::ntk {

struct NtkShape {
  int depth = 1;      // hidden layers
  double bias = 0.0;  // first-layer bias b (0 = no bias)

  // The knobs ntk_depth and ntk_bias, each range written here once. Self is NtkShape or a struct with the same
  // depth and bias members: NtkParams declares its depth and bias through this.
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("ntk_depth", self.depth, "NTK: hidden layers of the ReLU network").in(1, 100));
    declare(engine::knob("ntk_bias", self.bias, "NTK: first-layer bias (0 = none)").at_least(0.0));
  }
  // Throws tessera::Error naming the bad knob and its allowed values.
  void validate() const { engine::check_knobs(*this); }
};

double kappa0(double rho);
double kappa1(double rho);

// NTK(rho) for one value.
double ntk_value(double rho, const NtkShape& shape);

// NTK(1): the kernel's diagonal for unit-norm inputs, depth + 1.
double ntk_diagonal(const NtkShape& shape);

// In place: values[k] <- NTK(values[k]) for k < count. The loop is written so that the compiler vectorises
// it; it is the inner loop of every kernel tile.
void apply_ntk(const NtkShape& shape, double* values, std::int64_t count);

}  // namespace tessera::solvers::ntk
