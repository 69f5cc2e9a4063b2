#include "solvers/causal/stats/sufficient_stats.h"

#include <algorithm>
#include <cmath>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"

namespace tessera::solvers::causal {

std::vector<SettingStats> compute_setting_stats(const engine::Context& ctx, const InterventionalData& data) {
  const int p = data.num_variables();
  const int k = data.num_settings();
  const auto rows = engine::block_range(data.samples.rows(), ctx.size(), ctx.rank());
  // Pass 1: counts and sums, one column per setting.
  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(p + 1, k);
  for (auto r = rows.begin; r < rows.end; ++r) {
    const int s = data.setting[r];
    sums.col(s).head(p) += data.samples.row(r).transpose();
    sums(p, s) += 1;
  }
  engine::allreduce_sum(ctx, sums);
  std::vector<SettingStats> out(k);
  for (int s = 0; s < k; ++s) {
    out[s].n = sums(p, s);
    TESSERA_CHECK(out[s].n >= 2, "setting '", data.setting_names[s], "' has ", out[s].n,
                  " rows; at least 2 are needed for a covariance");
    out[s].mean = sums.col(s).head(p) / out[s].n;
  }
  // Pass 2: centred scatter per setting, rows grouped so that each setting is one matrix product.
  for (int s = 0; s < k; ++s) {
    std::vector<Eigen::Index> mine;
    for (auto r = rows.begin; r < rows.end; ++r)
      if (data.setting[r] == s) mine.push_back(r);
    Eigen::MatrixXd centred(Eigen::Index(mine.size()), p);
    for (std::size_t a = 0; a < mine.size(); ++a)
      centred.row(Eigen::Index(a)) = data.samples.row(mine[a]) - out[s].mean.transpose();
    Eigen::MatrixXd scatter = Eigen::MatrixXd::Zero(p, p);
    if (!mine.empty()) scatter.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose());
    scatter = scatter.selfadjointView<Eigen::Lower>();
    engine::allreduce_sum(ctx, scatter);
    out[s].cov = scatter / (out[s].n - 1);
    if (s != 0) continue;
    // Pass 3 (observational setting only): sum_k z_ki^2 z_kj^2 of the standardised rows, for the shrinkage
    // intensity. The sd comes from the allreduced covariance, so every rank standardises alike. A constant
    // column (sd 0) is left at 0 here; GaussianCiTest reports it.
    Eigen::VectorXd inv_sd = out[s].cov.diagonal().cwiseSqrt().cwiseInverse();
    for (Eigen::Index j = 0; j < p; ++j)
      if (!std::isfinite(inv_sd(j))) inv_sd(j) = 0;
    Eigen::MatrixXd sq_cross = Eigen::MatrixXd::Zero(p, p);
    if (!mine.empty()) {
      const Eigen::MatrixXd z2 = (centred * inv_sd.asDiagonal()).array().square().matrix();
      sq_cross.selfadjointView<Eigen::Lower>().rankUpdate(z2.transpose());
    }
    sq_cross = sq_cross.selfadjointView<Eigen::Lower>();
    engine::allreduce_sum(ctx, sq_cross);
    out[s].sq_cross = std::move(sq_cross);
  }
  return out;
}

double shrinkage_intensity(const SettingStats& s) {
  const Eigen::Index p = s.cov.rows();
  const double n = s.n;
  TESSERA_CHECK(n > 1, "shrinkage_intensity: ", n, " samples; at least 2 are needed");
  const bool gaussian = s.sq_cross.size() == 0;
  TESSERA_CHECK(gaussian || (s.sq_cross.rows() == p && s.sq_cross.cols() == p),
                "shrinkage_intensity: fourth-moment matrix of the wrong size");
  const Eigen::VectorXd inv_sd = s.cov.diagonal().cwiseSqrt().cwiseInverse();
  double var_sum = 0, r2_sum = 0;
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = j + 1; i < p; ++i) {  // symmetric: half the pairs, the ratio is the same
      const double r = s.cov(i, j) * inv_sd(i) * inv_sd(j);
      if (!std::isfinite(r)) continue;  // a constant column: no correlation to shrink
      double var;
      if (gaussian) {
        var = (1 - r * r) * (1 - r * r) / (n - 1);
      } else {
        const double wbar = (n - 1) / n * r;
        var = n / ((n - 1) * (n - 1) * (n - 1)) * std::max(s.sq_cross(i, j) - n * wbar * wbar, 0.0);
      }
      var_sum += var;
      r2_sum += r * r;
    }
  if (!(r2_sum > 0)) return var_sum > 0 ? 1.0 : 0.0;
  return std::clamp(var_sum / r2_sum, 0.0, 1.0);
}

SettingStats pool(const SettingStats& a, const SettingStats& b) {
  SettingStats out;
  out.n = a.n + b.n;
  out.mean = (a.n * a.mean + b.n * b.mean) / out.n;
  const Eigen::VectorXd d = a.mean - b.mean;
  const Eigen::MatrixXd scatter = (a.n - 1) * a.cov + (b.n - 1) * b.cov + (a.n * b.n / out.n) * d * d.transpose();
  out.cov = scatter / (out.n - 1);
  return out;
}

}  // namespace tessera::solvers::causal
