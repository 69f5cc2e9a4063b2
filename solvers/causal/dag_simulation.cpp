#include "solvers/causal/dag_simulation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "engine/random.h"

namespace tessera::solvers::causal {

void DagSimulationParams::validate() const {
  TESSERA_CHECK(nodes >= 2, "--nodes must be at least 2 (got ", nodes, ")");
  TESSERA_CHECK(graph == "er" || graph == "scale-free", "--graph '", graph, "' is not er or scale-free");
  TESSERA_CHECK(degree >= 0 && degree <= nodes - 1, "--degree must lie in [0, nodes - 1] (got ", degree, ")");
  TESSERA_CHECK(weight_low > 0 && weight_low <= weight_high, "need 0 < --weight-low <= --weight-high");
  TESSERA_CHECK(observational_samples >= 1 && settings >= 0 && samples_per_setting >= 1,
                "need --observational-samples >= 1, --settings >= 0, --samples-per-setting >= 1");
  TESSERA_CHECK(targets_per_setting >= 1 && off_targets >= 0 && targets_per_setting + off_targets <= nodes,
                "need --targets-per-setting >= 1, --off-targets >= 0 and their sum <= --nodes");
  TESSERA_CHECK(intervention == "perfect" || intervention == "shift", "--intervention '", intervention,
                "' is not perfect or shift");
  TESSERA_CHECK(std::isfinite(value), "--value must be a finite number");
  TESSERA_CHECK(unknown_fraction >= 0 && unknown_fraction <= 1, "--unknown-fraction must lie in [0, 1]");
}

SimulatedDagData simulate_dag_data(const DagSimulationParams& params) {
  params.validate();
  engine::RandomStream graph_rng(params.seed, "simulate-dag/graph");
  const Dag dag = params.graph == "er" ? random_er_dag(params.nodes, params.degree, graph_rng)
                                       : random_scale_free_dag(params.nodes, params.degree, graph_rng);
  engine::RandomStream weight_rng(params.seed, "simulate-dag/weights");
  SimulatedDagData out;
  out.sem = random_linear_sem(dag, weight_rng, params.weight_low, params.weight_high);

  engine::RandomStream target_rng(params.seed, "simulate-dag/targets");
  std::vector<Intervention> interventions;
  std::vector<std::vector<int>> listed;
  const int unknown = int(std::lround(params.unknown_fraction * params.settings));
  std::vector<int> nodes(static_cast<std::size_t>(params.nodes));
  for (int s = 0; s < params.settings; ++s) {
    std::iota(nodes.begin(), nodes.end(), 0);
    target_rng.shuffle(nodes);
    Intervention iv;
    iv.kind = params.intervention == "perfect" ? Intervention::Kind::kPerfect : Intervention::Kind::kShift;
    iv.value = iv.shift = params.value;
    const auto all = std::size_t(params.targets_per_setting + params.off_targets);
    iv.targets.assign(nodes.begin(), nodes.begin() + long(all));
    std::vector<int> shown(nodes.begin(), nodes.begin() + params.targets_per_setting);
    if (s >= params.settings - unknown) shown.clear();  // the last settings are the unknown ones
    std::sort(shown.begin(), shown.end());
    listed.push_back(shown);
    interventions.push_back(iv);
  }
  out.data = simulate_interventional(out.sem, params.observational_samples, interventions, params.samples_per_setting,
                                     params.seed);
  out.true_targets = out.data.known_targets;
  for (int s = 0; s < params.settings; ++s) out.data.known_targets[std::size_t(s) + 1] = listed[std::size_t(s)];
  return out;
}

}  // namespace tessera::solvers::causal
