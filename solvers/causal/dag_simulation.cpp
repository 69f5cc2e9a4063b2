#include "solvers/causal/dag_simulation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "engine/random.h"

namespace tessera::solvers::causal {

const engine::NameTable<RandomGraph>& name_table(RandomGraph) {
  static const engine::NameTable<RandomGraph> table{{RandomGraph::kErdosRenyi, "er"},
                                                    {RandomGraph::kScaleFree, "scale-free"}};
  return table;
}

const engine::NameTable<Intervention::Kind>& name_table(Intervention::Kind) {
  static const engine::NameTable<Intervention::Kind> table{{Intervention::Kind::kPerfect, "perfect"},
                                                           {Intervention::Kind::kShift, "shift"}};
  return table;
}

void DagSimulationParams::validate() const {
  engine::check_knobs(*this);
  TESSERA_CHECK(degree <= nodes - 1, "--degree must lie in [0, nodes - 1] (got ", degree, ")");
  TESSERA_CHECK(weight_low <= weight_high, "need 0 < --weight-low <= --weight-high");
  TESSERA_CHECK(targets_per_setting + off_targets <= nodes,
                "need --targets-per-setting >= 1, --off-targets >= 0 and their sum <= --nodes");
  TESSERA_CHECK(std::isfinite(value), "--value must be a finite number");
}

SimulatedDagData simulate_dag_data(const DagSimulationParams& params) {
  params.validate();
  engine::RandomStream graph_rng(params.seed, "simulate-dag/graph");
  const Dag dag = params.graph == RandomGraph::kErdosRenyi
                      ? random_er_dag(params.nodes, params.degree, graph_rng)
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
    iv.kind = params.intervention;
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
