// A dense matrix whose rows are split over the ranks of a Context in contiguous blocks (engine/partition.h).
//
// Rank r holds rows [range().begin, range().end) of the global (global_rows x cols) matrix as an Eigen
// column-major block. Algorithms work on local() and combine with the collective helpers below.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

#include "engine/context.h"
#include "engine/partition.h"

namespace tessera::engine {

class RowShardedMatrix {
 public:
  RowShardedMatrix() = default;
  // Local: allocates this rank's block, zero-filled.
  RowShardedMatrix(const Context& ctx, std::int64_t global_rows, std::int64_t cols);
  // Local: takes this rank's block of a matrix every rank holds whole.
  static RowShardedMatrix scatter_from_replicated(const Context& ctx, const Eigen::MatrixXd& full);

  std::int64_t global_rows() const { return global_rows_; }
  std::int64_t cols() const { return local_.cols(); }
  BlockRange range() const { return range_; }
  Eigen::MatrixXd& local() { return local_; }
  const Eigen::MatrixXd& local() const { return local_; }

  // Collective: the whole matrix on every rank.
  Eigen::MatrixXd gather_all(const Context& ctx) const;
  // Collective: A^T A (cols x cols) summed over ranks, on every rank.
  Eigen::MatrixXd gram(const Context& ctx) const;
  // Collective: column sums on every rank.
  Eigen::VectorXd column_sums(const Context& ctx) const;
  // Collective: Frobenius norm squared.
  double squared_norm(const Context& ctx) const;

 private:
  std::int64_t global_rows_ = 0;
  BlockRange range_;
  Eigen::MatrixXd local_;
};

}  // namespace tessera::engine
