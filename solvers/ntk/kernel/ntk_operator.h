// The NTK kernel matrix of a list of (cell type, drug) pairs as a KernelOperator: K[i, j] = NTK(rho_ij), with
// rho from solvers/ntk/kernel/features.h (one-hot term on the diagonal) and NTK from solvers/ntk/kernel/kernel.h. Tiles
// are computed on demand in O(rows x cols) (O(rows x cols x cell types) for the similarity prior); nothing N x N is
// stored. The same object also gives tiles of the cross kernel between its pairs and another list (query
// pairs), where the one-hot blocks never meet.
//
// Local and const: tile() and cross_tile() are safe to call from several threads at once.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <span>

#include "engine/device.h"
#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

class NtkOperator final : public KernelOperator {
 public:
  // pairs must have been encoded by *features. Validates shape. With a CUDA `device` (engine::select_device) the
  // matrix-free solver's products run there (block_product); tiles are always computed on the CPU.
  NtkOperator(std::shared_ptr<const PairFeatures> features, PairList pairs, const NtkShape& shape,
              engine::Device device = {});

  std::int64_t size() const override { return pairs_.size(); }

  // out = K[row0 : row0 + out.rows(), col0 : col0 + out.cols()] (column-major, any outer stride).
  void tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const override;

  // out(r, j) = K[row0 + r, columns[j]]: one rho tile against the centres' pairs (plus the one-hot term where a
  // row is itself a centre), O(rows x columns), instead of one tile call per column.
  void gather_columns(std::int64_t row0, std::span<const std::int64_t> columns,
                      Eigen::Ref<Eigen::MatrixXd> out) const override;

  // On a CUDA device: the GPU's block products (solvers/ntk/device/device_block_product.h); else null.
  std::unique_ptr<BlockProduct> block_product(std::int64_t row0, std::int64_t rows, std::int64_t max_block_rows,
                                              std::int64_t max_cols) const override;

  // NTK(1) = depth + 1 for every pair (rows are normalised).
  double diagonal(std::int64_t i) const override;

  // out(r, c) = NTK(rho(pairs[row0 + r], others[col0 + c])): the cross kernel between this operator's pairs
  // (training rows) and another list (query rows) encoded by the same features.
  void cross_tile(const PairList& others, std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const;

  // out(r, c) = NTK(rho(pairs[rows[r]], others[col0 + c])): the cross kernel from scattered training rows
  // (Nystrom centres) to the queries.
  void cross_tile_at(std::span<const std::int64_t> rows, const PairList& others, std::int64_t col0,
                     Eigen::Ref<Eigen::MatrixXd> out) const;

  const PairList& pairs() const { return pairs_; }
  const PairFeatures& features() const { return *features_; }
  const NtkShape& shape() const { return shape_; }

 private:
  void apply(Eigen::Ref<Eigen::MatrixXd> out) const;

  std::shared_ptr<const PairFeatures> features_;
  PairList pairs_;
  NtkShape shape_;
  engine::Device device_;
};

}  // namespace tessera::solvers::ntk
