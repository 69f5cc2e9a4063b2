// A symmetric positive semi-definite N x N kernel matrix seen only through tiles, so that solvers never need
// it whole: the exact solver stores its own block-cyclic share of it, the matrix-free solver evaluates tiles
// on the fly for each product.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

namespace tessera::solvers::ntk {

class KernelOperator {
 public:
  virtual ~KernelOperator() = default;

  // N.
  virtual std::int64_t size() const = 0;

  // Writes the block K[row0 : row0 + out.rows(), col0 : col0 + out.cols()] into `out` (column-major).
  // Local and const: safe to call from several threads at once.
  virtual void tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const = 0;

  // K[i, i]; the default evaluates a 1 x 1 tile.
  virtual double diagonal(std::int64_t i) const {
    Eigen::MatrixXd one(1, 1);
    tile(i, i, one);
    return one(0, 0);
  }
};

}  // namespace tessera::solvers::ntk
