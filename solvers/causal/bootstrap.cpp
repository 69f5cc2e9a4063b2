#include "solvers/causal/bootstrap.h"

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/random.h"

namespace tessera::solvers::causal {

EdgeFrequencies bootstrap_edges(const engine::Context& ctx, const InterventionalData& data,
                                const DiscoveryParams& params, int resamples) {
  TESSERA_CHECK(resamples >= 1, "bootstrap needs at least 1 resample, got ", resamples);
  const int p = data.num_variables();
  std::vector<std::vector<Eigen::Index>> rows_of(data.num_settings());
  for (Eigen::Index r = 0; r < data.samples.rows(); ++r) rows_of[data.setting[r]].push_back(r);
  Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(p, p);
  const engine::Context self(MPI_COMM_SELF);
  for (int b = ctx.rank(); b < resamples; b += ctx.size()) {
    engine::RandomStream rng(params.seed, "gsp/bootstrap", std::uint64_t(b));
    InterventionalData resampled = data;
    Eigen::Index at = 0;
    for (int s = 0; s < data.num_settings(); ++s)  // stratified: each setting keeps its size
      for (std::size_t a = 0; a < rows_of[s].size(); ++a, ++at) {
        resampled.samples.row(at) = data.samples.row(rows_of[s][rng.uniform_int(rows_of[s].size())]);
        resampled.setting[at] = s;
      }
    const DiscoveryResult res = discover(self, resampled, params);
    for (const auto& [i, j] : res.dag.edges()) counts(i, j) += 1;
  }
  engine::allreduce_sum(ctx, counts);  // integer counts: exact in any order
  return {counts / resamples, resamples};
}

}  // namespace tessera::solvers::causal
