// Sufficient statistics of Gaussian data per setting: sample count, mean and unbiased covariance.
//
// compute_setting_stats is collective: each rank sums its own block of rows (engine::block_range over all rows),
// and the sums are combined with engine::allreduce_sum in two passes (means first, then centred cross products,
// which keeps the covariance accurate when means are large compared with spreads).
#pragma once
#include <vector>

#include <Eigen/Dense>

#include "engine/context.h"
#include "solvers/causal/data.h"

namespace tessera::solvers::causal {

struct SettingStats {
  double n = 0;
  Eigen::VectorXd mean;  // p
  Eigen::MatrixXd cov;   // p x p, scatter / (n - 1)
  int num_variables() const { return int(mean.size()); }
};

// Collective. One entry per setting of `data` (index 0 observational).
std::vector<SettingStats> compute_setting_stats(const engine::Context& ctx, const InterventionalData& data);

// The statistics of the union of two samples (exact pooling of means and scatter).
SettingStats pool(const SettingStats& a, const SettingStats& b);

}  // namespace tessera::solvers::causal
