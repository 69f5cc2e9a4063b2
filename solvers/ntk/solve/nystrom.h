// Nystrom preconditioner for the full kernel system (K + lambda I) x = y, in the style of Falkon.
//
// Falkon (Rudi, Carratino, Rosasco 2017; Meanti et al. 2020) samples M centres uniformly, factors
// T = chol(K_MM + eps I) and A = chol(T T^T / M + lambda I), and solves the Nystrom-restricted problem. Here the
// system is the full one (interpolation, as in the NTK paper), so the same ingredients build a preconditioner
// for PCG on it instead:
//
//   K ~ K_nys = K_NM K_MM^-1 K_MN = B B^T,   B = K_NM L^-T,   L L^T = K_MM + jitter I   (L = T^T),
//   P = B B^T + mu I,   mu = lambda + shift,
//   P^-1 r = (r - B H^-1 B^T r) / mu,   H = mu I + B^T B = C C^T   (Woodbury; M x M Cholesky C).
//
// Why the shift: K - K_nys = E is positive semi-definite, so in the span of the Nystrom approximation
// P^-1 (K + lambda I) ~ 1 and on its complement its eigenvalues lie in [(lambda + lambda_min(K)) / mu,
// (lambda + ||E||) / mu]; any mu between lambda + lambda_min(K) and lambda + ||E|| gives a condition number of
// about (lambda + ||E||) / (lambda + lambda_min(K)). With lambda = 0 (allowed; K is strictly positive definite)
// mu = 0 would make P singular. The automatic shift is max_i E_ii: for any non-centre i, E_ii is a Schur
// complement of K, hence >= lambda_min(K), and E_ii <= ||E||, so it always falls in that interval. It is
// computed exactly at set-up from K_ii - ||B_i||^2.
//
// Layout: B is this rank's block_range rows x M (column-major), cached for the whole solve (8 N M / ranks
// bytes); K_MM, L, H and C are M x M on every rank. Set-up evaluates N x M kernel entries (one kernel column
// per centre, since KernelOperator::tile takes contiguous index ranges) and costs O(N M^2 / ranks) flops;
// apply() costs 4 N M cols / ranks flops plus one allreduce of M x cols doubles.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "engine/partition.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

class NystromPreconditioner {
 public:
  // Collective. num_centres in [1, N]; shift < 0 picks the automatic shift (see above), shift >= 0 is used as
  // given (lambda + shift must be > 0). The centres come from engine::RandomStream(seed, "ntk/nystrom-centres").
  NystromPreconditioner(const engine::Context& ctx, const KernelOperator& kernel, std::int64_t num_centres,
                        double lambda, double shift, std::uint64_t seed, int threads);

  // Collective: z = P^-1 r for `cols` columns of this rank's rows (local_rows() x cols, column-major, leading
  // dimension local_rows()); r and z must not overlap.
  void apply(const double* r, std::int64_t cols, double* z) const;

  std::int64_t num_centres() const { return std::int64_t(centres_.size()); }
  const std::vector<std::int64_t>& centres() const { return centres_; }  // sorted global row indices
  double mu() const { return mu_; }                                      // lambda + shift
  double shift() const { return mu_ - lambda_; }
  double jitter() const { return jitter_; }                       // added to K_MM's diagonal before Cholesky
  double max_residual_diagonal() const { return max_residual_; }  // max_i (K - K_nys)_ii over all rows
  double seconds() const { return seconds_; }                     // set-up wall time

  // Bytes one rank holds for a preconditioner of M centres (B, the M x M factors, one apply's workspace).
  static std::int64_t bytes(std::int64_t local_rows, std::int64_t centres, std::int64_t cols);

  // M distinct indices of [0, n), sorted, drawn uniformly without replacement (Floyd's algorithm). Local; the
  // same on every rank and every run for the same seed.
  static std::vector<std::int64_t> sample_centres(std::int64_t n, std::int64_t m, std::uint64_t seed);

 private:
  const engine::Context& ctx_;
  engine::BlockRange mine_;
  int threads_;
  double lambda_;
  double mu_ = 0;
  double jitter_ = 0;
  double max_residual_ = 0;
  double seconds_ = 0;
  std::vector<std::int64_t> centres_;
  Eigen::MatrixXd b_;        // local rows x M: K[my rows, centres] L^-T
  Eigen::MatrixXd h_lower_;  // M x M: C with C C^T = mu I + B^T B
};

}  // namespace tessera::solvers::ntk
