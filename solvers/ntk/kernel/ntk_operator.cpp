#include "solvers/ntk/kernel/ntk_operator.h"

#include "engine/error.h"

namespace tessera::solvers::ntk {

NtkOperator::NtkOperator(std::shared_ptr<const PairFeatures> features, PairList pairs, const NtkShape& shape)
    : features_(std::move(features)), pairs_(std::move(pairs)), shape_(shape) {
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

double NtkOperator::diagonal(std::int64_t /*i*/) const { return ntk_diagonal(shape_); }

void NtkOperator::cross_tile(const PairList& others, std::int64_t row0, std::int64_t col0,
                             Eigen::Ref<Eigen::MatrixXd> out) const {
  features_->rho_tile(pairs_, row0, others, col0, /*same_list=*/false, out);
  apply(out);
}

}  // namespace tessera::solvers::ntk
