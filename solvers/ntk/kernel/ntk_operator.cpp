#include "solvers/ntk/kernel/ntk_operator.h"

#include "engine/error.h"
#include "solvers/ntk/device/device_block_product.h"

namespace tessera::solvers::ntk {

namespace {

// The pairs at `indices` of `pairs`, in that order: a PairList that rho_tile can take as a contiguous range.
PairList subset(const PairList& pairs, std::span<const std::int64_t> indices) {
  PairList out;
  const bool similarity = !pairs.source_begin.empty();
  out.entries.reserve(indices.size());
  if (similarity) out.source_begin.push_back(0);
  for (const auto i : indices) {
    const auto k = std::size_t(i);
    TESSERA_ASSERT(i >= 0 && i < pairs.size());
    out.entries.push_back(pairs.entries[k]);
    out.cell.push_back(pairs.cell[k]);
    if (!pairs.slot.empty()) out.slot.push_back(pairs.slot[k]);
    out.prior_norm.push_back(pairs.prior_norm[k]);
    out.inv_scale.push_back(pairs.inv_scale[k]);
    if (similarity) {
      out.sources.insert(out.sources.end(), pairs.sources.begin() + pairs.source_begin[k],
                         pairs.sources.begin() + pairs.source_begin[k + 1]);
      out.source_begin.push_back(std::int64_t(out.sources.size()));
    }
  }
  return out;
}

}  // namespace

NtkOperator::NtkOperator(std::shared_ptr<const PairFeatures> features, PairList pairs, const NtkShape& shape,
                         engine::Device device)
    : features_(std::move(features)), pairs_(std::move(pairs)), shape_(shape), device_(std::move(device)) {
  TESSERA_CHECK(features_ != nullptr, "NtkOperator: no features");
  shape_.validate();
}

void NtkOperator::apply(Eigen::Ref<Eigen::MatrixXd> out) const {
  // Columns are contiguous; the outer stride may exceed the rows (a tile inside a larger local matrix).
  for (Eigen::Index c = 0; c < out.cols(); ++c) apply_ntk(shape_, out.col(c).data(), out.rows());
}

void NtkOperator::tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const {
  TESSERA_ASSERT(row0 >= 0 && col0 >= 0 && row0 + out.rows() <= size() && col0 + out.cols() <= size());
  features_->rho_tile(pairs_, row0, pairs_, col0, /*same_list=*/true, out);
  apply(out);
}

void NtkOperator::gather_columns(std::int64_t row0, std::span<const std::int64_t> columns,
                                 Eigen::Ref<Eigen::MatrixXd> out) const {
  TESSERA_ASSERT(row0 >= 0 && row0 + out.rows() <= size() && std::int64_t(columns.size()) == out.cols());
  features_->rho_tile(pairs_, row0, subset(pairs_, columns), 0, /*same_list=*/false, out);
  // The one-hot block meets itself where a row is a centre: there the normalised row gives exactly 1.
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    const std::int64_t r = columns[std::size_t(j)] - row0;
    if (r >= 0 && r < out.rows()) out(Eigen::Index(r), j) = 1.0;
  }
  apply(out);
}

void NtkOperator::cross_tile_at(std::span<const std::int64_t> rows, const PairList& others, std::int64_t col0,
                                Eigen::Ref<Eigen::MatrixXd> out) const {
  TESSERA_ASSERT(std::int64_t(rows.size()) == out.rows());
  features_->rho_tile(subset(pairs_, rows), 0, others, col0, /*same_list=*/false, out);
  apply(out);
}

std::unique_ptr<BlockProduct> NtkOperator::block_product(std::int64_t row0, std::int64_t rows,
                                                         std::int64_t max_block_rows, std::int64_t max_cols) const {
  if (device_.kind != engine::DeviceKind::kCuda) return nullptr;
  return make_device_block_product(*features_, pairs_, shape_, row0, rows, max_block_rows, max_cols);
}

double NtkOperator::diagonal(std::int64_t /*i*/) const { return ntk_diagonal(shape_); }

void NtkOperator::cross_tile(const PairList& others, std::int64_t row0, std::int64_t col0,
                             Eigen::Ref<Eigen::MatrixXd> out) const {
  features_->rho_tile(pairs_, row0, others, col0, /*same_list=*/false, out);
  apply(out);
}

}  // namespace tessera::solvers::ntk
