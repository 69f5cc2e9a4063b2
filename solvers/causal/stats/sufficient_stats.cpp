#include "solvers/causal/stats/sufficient_stats.h"

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
  }
  return out;
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
