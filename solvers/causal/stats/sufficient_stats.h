// Sufficient statistics of Gaussian data per setting: sample count, mean and unbiased covariance.
//
// compute_setting_stats is collective: each rank sums its own block of rows (engine::block_range over all rows),
// and the sums are combined with engine::allreduce_sum in two passes (means first, then centred cross products,
// which keeps the covariance accurate when means are large compared with spreads). For the observational setting
// a third allreduced sum, of squared standardised cross products, feeds the shrinkage intensity.
#pragma once
#include <Eigen/Dense>
#include <vector>

#include "engine/context.h"
#include "solvers/causal/data.h"

namespace tessera::solvers::causal {

struct SettingStats {
  double n = 0;
  Eigen::VectorXd mean;  // p
  Eigen::MatrixXd cov;   // p x p, scatter / (n - 1)
  // p x p, sum over rows of z_i^2 z_j^2 with z = (x - mean) / sd the standardised rows (sd from cov): the
  // fourth moments that the Schaefer-Strimmer shrinkage intensity needs. Filled by compute_setting_stats for the
  // observational setting (index 0) only; empty elsewhere (then shrinkage_intensity uses a Gaussian formula).
  Eigen::MatrixXd sq_cross;
  int num_variables() const { return int(mean.size()); }
};

// Collective. One entry per setting of `data` (index 0 observational).
std::vector<SettingStats> compute_setting_stats(const engine::Context& ctx, const InterventionalData& data);

// Schaefer & Strimmer (2005, Stat. Appl. Genet. Mol. Biol. 4:32) optimal shrinkage intensity of the correlation
// matrix R towards the identity (corpcor's cor.shrink), R_lambda = (1 - lambda) R + lambda I:
//   lambda* = sum_{i != j} Var^(r_ij) / sum_{i != j} r_ij^2, clamped to [0, 1],
// with w_kij = z_ki z_kj (z standardised with the unbiased sd), wbar_ij = mean_k w_kij, r_ij = n/(n-1) wbar_ij and
//   Var^(r_ij) = n / (n-1)^3 sum_k (w_kij - wbar_ij)^2 = n / (n-1)^3 (sq_cross_ij - n wbar_ij^2).
// When sq_cross is empty (statistics not made by compute_setting_stats), Var^(r_ij) = (1 - r_ij^2)^2 / (n - 1),
// its value for Gaussian data. Local: a function of the (allreduced) statistics only, so every rank and every rank
// count get the same value up to the rounding of the sums. 0 when every off-diagonal correlation is 0.
double shrinkage_intensity(const SettingStats& s);

// The statistics of the union of two samples (exact pooling of means and scatter).
SettingStats pool(const SettingStats& a, const SettingStats& b);

}  // namespace tessera::solvers::causal
