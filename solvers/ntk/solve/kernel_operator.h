// A symmetric positive semi-definite N x N kernel matrix seen only through tiles, so that solvers never need
// it whole: the exact solver stores its own block-cyclic share of it, the matrix-free solver evaluates tiles
// on the fly for each product, the Nystrom solvers need the columns of scattered centres (gather_columns).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <span>

namespace tessera::solvers::ntk {

// The matrix-free product's inner step done elsewhere than in CPU tiles (a GPU: solvers/ntk/device/): for one
// rank's rows [row0, row0 + rows) of the kernel, made once per solve by KernelOperator::block_product.
class BlockProduct {
 public:
  virtual ~BlockProduct() = default;
  // out (rows x cols, column-major, leading dimension rows) += K[my rows, col0 : col0 + block_rows] * block, with
  // block block_rows x cols (leading dimension block_rows); host memory, cols <= the max_cols it was made for.
  virtual void multiply_add(std::int64_t col0, std::int64_t block_rows, const double* block, std::int64_t cols,
                            double* out) = 0;
};

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

  // The engine of the matrix-free products for rows [row0, row0 + rows), blocks of up to max_block_rows columns
  // and max_cols right-hand sides; null (the default) when tiles on the CPU do it (solve/kernel_product.h).
  virtual std::unique_ptr<BlockProduct> block_product(std::int64_t /*row0*/, std::int64_t /*rows*/,
                                                      std::int64_t /*max_block_rows*/,
                                                      std::int64_t /*max_cols*/) const {
    return nullptr;
  }
};

}  // namespace tessera::solvers::ntk
