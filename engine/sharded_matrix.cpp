#include "engine/sharded_matrix.h"

#include <span>

#include "engine/collectives.h"
#include "engine/error.h"

namespace tessera::engine {

RowShardedMatrix::RowShardedMatrix(const Context& ctx, std::int64_t global_rows, std::int64_t cols)
    : global_rows_(global_rows), range_(block_range(global_rows, ctx.size(), ctx.rank())) {
  local_ = Eigen::MatrixXd::Zero(range_.size(), cols);
}

RowShardedMatrix RowShardedMatrix::scatter_from_replicated(const Context& ctx, const Eigen::MatrixXd& full) {
  RowShardedMatrix m(ctx, full.rows(), full.cols());
  m.local_ = full.middleRows(m.range_.begin, m.range_.size());
  return m;
}

Eigen::MatrixXd RowShardedMatrix::gather_all(const Context& ctx) const {
  // Rows are not contiguous in a column-major block, so gather the transposes (columns of A^T are rows of A).
  const Eigen::MatrixXd local_t = local_.transpose();
  const auto all = allgatherv(ctx, std::span<const double>(local_t.data(), std::size_t(local_t.size())));
  TESSERA_ASSERT(std::int64_t(all.size()) == global_rows_ * cols());
  return Eigen::Map<const Eigen::MatrixXd>(all.data(), cols(), global_rows_).transpose();
}

Eigen::MatrixXd RowShardedMatrix::gram(const Context& ctx) const {
  Eigen::MatrixXd g = local_.transpose() * local_;
  allreduce_sum(ctx, g);
  return g;
}

Eigen::VectorXd RowShardedMatrix::column_sums(const Context& ctx) const {
  Eigen::VectorXd sums = local_.colwise().sum().transpose();
  allreduce_sum(ctx, std::span<double>(sums.data(), std::size_t(sums.size())));
  return sums;
}

double RowShardedMatrix::squared_norm(const Context& ctx) const { return allreduce_sum(ctx, local_.squaredNorm()); }

}  // namespace tessera::engine
