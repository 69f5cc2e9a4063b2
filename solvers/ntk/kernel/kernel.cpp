#include "solvers/ntk/kernel/kernel.h"

#include "solvers/ntk/kernel/ntk_formula.h"

namespace tessera::solvers::ntk {

double kappa0(double rho) {
  double k0, k1;
  formula::arc_cosines(formula::clip(rho), k0, k1);
  return k0;
}

double kappa1(double rho) {
  double k0, k1;
  formula::arc_cosines(formula::clip(rho), k0, k1);
  return k1;
}

double ntk_value(double rho, const NtkShape& shape) {
  return formula::ntk_general(rho, shape.depth, shape.bias * shape.bias);
}

double ntk_diagonal(const NtkShape& shape) { return double(shape.depth) + 1.0; }

void apply_ntk(const NtkShape& shape, double* values, std::int64_t count) {
  // Two loops, each simple enough for the compiler to vectorise: the published kernel's, and the general one.
  if (shape.depth == 1 && shape.bias == 0.0) {
    for (std::int64_t k = 0; k < count; ++k) values[k] = formula::ntk_depth_one(values[k]);
    return;
  }
  const double bias_sq = shape.bias * shape.bias;
  for (std::int64_t k = 0; k < count; ++k) values[k] = formula::ntk_general(values[k], shape.depth, bias_sq);
}

}  // namespace tessera::solvers::ntk
