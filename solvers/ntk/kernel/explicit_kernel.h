// The NTK of explicit feature vectors, for pair features that belong to one pair only (NTK + DNPP: a training
// pair's feature holds its own signature, a query's holds DNPP's prediction of it), where no drug x drug Gram
// table applies. With a one-hot block of weight beta per regression row (training and query rows alike, as the
// published code builds it), never stored:
//   rho_ij = (f_i . f_j + beta^2 delta_ij) / sqrt((|f_i|^2 + beta^2)(|f_j|^2 + beta^2)),   K_ij = NTK(rho_ij),
// and rho_ii = 1 exactly (as the Gram-table path, solvers/ntk/kernel/features.h). A tile costs O(rows x cols x
// feature length), one GEMM; nothing N x N is stored.
//
// Local and const: tile() and cross_tile() are safe to call from several threads at once.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

class ExplicitFeatureKernel final : public KernelOperator {
 public:
  // features: one column per training row. Throws tessera::Error for beta < 0, a non-finite feature, or a zero
  // feature with beta = 0 (rho undefined).
  ExplicitFeatureKernel(Eigen::MatrixXd features, double beta, const NtkShape& shape);

  std::int64_t size() const override { return features_.cols(); }
  void tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const override;
  double diagonal(std::int64_t /*i*/) const override { return ntk_diagonal(shape_); }

  // out(r, c) = NTK(rho(training row row0 + r, query q0 + c)) for query features (one column per query, same
  // length). A query's one-hot coordinate meets no training row but counts in its norm, so
  // `query_inverse_scales` comes from inverse_scales(queries, beta).
  void cross_tile(const Eigen::MatrixXd& queries, const std::vector<double>& query_inverse_scales, std::int64_t row0,
                  std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) const;

  double beta() const { return beta_; }

 private:
  void finish(const std::vector<double>& col_scales, std::int64_t row0, std::int64_t col0,
              Eigen::Ref<Eigen::MatrixXd> out) const;

  Eigen::MatrixXd features_;
  std::vector<double> inverse_scales_;
  double beta_;
  NtkShape shape_;
};

// 1 / sqrt(|f_j|^2 + beta^2) per column j of `features`. Throws tessera::Error when that is not finite.
std::vector<double> inverse_scales(const Eigen::MatrixXd& features, double beta);

}  // namespace tessera::solvers::ntk
