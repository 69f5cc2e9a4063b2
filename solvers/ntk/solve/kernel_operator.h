// A symmetric positive semi-definite N x N kernel matrix seen only through tiles, so that solvers never need
// it whole: the exact solver stores its own block-cyclic share of it, the matrix-free solver evaluates tiles
// on the fly for each product, the Nystrom solvers need the columns of scattered centres (gather_columns).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <span>

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

  // out(r, j) = K[row0 + r, columns[j]] for scattered column indices (Nystrom centres). The default evaluates
  // one tile column per index; a kernel that can do better (NtkOperator) overrides it. Local, thread-safe.
  virtual void gather_columns(std::int64_t row0, std::span<const std::int64_t> columns,
                              Eigen::Ref<Eigen::MatrixXd> out) const {
    for (std::size_t j = 0; j < columns.size(); ++j) tile(row0, columns[j], out.col(Eigen::Index(j)));
  }
};

}  // namespace tessera::solvers::ntk
