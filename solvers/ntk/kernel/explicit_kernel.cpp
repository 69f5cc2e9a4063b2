#include "solvers/ntk/kernel/explicit_kernel.h"

#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::ntk {

std::vector<double> inverse_scales(const Eigen::MatrixXd& features, double beta) {
  TESSERA_CHECK(std::isfinite(beta) && beta >= 0.0, "ntk: beta = ", beta, " is invalid: use a finite value >= 0");
  std::vector<double> scales(std::size_t(features.cols()));
  for (Eigen::Index j = 0; j < features.cols(); ++j) {
    const double norm_sq = features.col(j).squaredNorm() + beta * beta;
    TESSERA_CHECK(std::isfinite(norm_sq) && norm_sq > 0.0, "ntk: pair feature ", j,
                  norm_sq > 0.0 ? " is not finite (NaN or infinity in a signature)"
                                : " is zero and beta = 0, so its kernel is undefined; use beta > 0");
    scales[std::size_t(j)] = 1.0 / std::sqrt(norm_sq);
  }
  return scales;
}

ExplicitFeatureKernel::ExplicitFeatureKernel(Eigen::MatrixXd features, double beta, const NtkShape& shape)
    : features_(std::move(features)), inverse_scales_(inverse_scales(features_, beta)), beta_(beta), shape_(shape) {
  shape_.validate();
}

void ExplicitFeatureKernel::finish(const std::vector<double>& col_scales, std::int64_t row0, std::int64_t col0,
                                   Eigen::Ref<Eigen::MatrixXd> out) const {
  for (Eigen::Index c = 0; c < out.cols(); ++c) {
    for (Eigen::Index r = 0; r < out.rows(); ++r)
      out(r, c) *= inverse_scales_[std::size_t(row0 + r)] * col_scales[std::size_t(col0 + c)];
    apply_ntk(shape_, out.col(c).data(), out.rows());
  }
}

void ExplicitFeatureKernel::tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const {
  TESSERA_ASSERT(row0 >= 0 && col0 >= 0 && row0 + out.rows() <= size() && col0 + out.cols() <= size());
  out.noalias() = features_.middleCols(row0, out.rows()).transpose() * features_.middleCols(col0, out.cols());
  finish(inverse_scales_, row0, col0, out);
  // The one-hot block meets only itself: rho_ii = 1, set exactly (rounding would give NTK(1 - 1e-16)).
  for (Eigen::Index c = 0; c < out.cols(); ++c) {
    const Eigen::Index r = col0 + c - row0;
    if (r >= 0 && r < out.rows()) out(r, c) = ntk_diagonal(shape_);
  }
}

void ExplicitFeatureKernel::cross_tile(const Eigen::MatrixXd& queries, const std::vector<double>& query_inverse_scales,
                                       std::int64_t row0, std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) const {
  TESSERA_ASSERT(queries.rows() == features_.rows() && q0 + out.cols() <= queries.cols());
  out.noalias() = features_.middleCols(row0, out.rows()).transpose() * queries.middleCols(q0, out.cols());
  finish(query_inverse_scales, row0, q0, out);
}

}  // namespace tessera::solvers::ntk
