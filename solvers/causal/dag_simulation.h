// A whole simulated causal-discovery data set, as `tessera simulate-dag` writes it: a random DAG (Erdos-Renyi or
// scale-free), a linear Gaussian SEM with weights +-U(low, high) and unit noise, observational rows, and
// interventional settings (perfect or shift) on random targets, some of them hidden from the learner: a share of
// the settings list no targets at all (unknown), and every setting may hit extra, unlisted off-targets.
// Deterministic from the seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "solvers/causal/data.h"
#include "solvers/causal/random_dag.h"

namespace tessera::solvers::causal {

// The random DAG's model: Erdos-Renyi or scale-free (preferential attachment).
enum class RandomGraph { kErdosRenyi, kScaleFree };
const engine::NameTable<RandomGraph>& name_table(RandomGraph);                // er | scale-free
const engine::NameTable<Intervention::Kind>& name_table(Intervention::Kind);  // perfect | shift

struct DagSimulationParams {
  std::uint64_t seed = 1;
  int nodes = 20;
  RandomGraph graph = RandomGraph::kErdosRenyi;
  double degree = 1.5;       // expected number of neighbours of a node
  double weight_low = 0.25;  // |weight| ~ U(low, high), random sign
  double weight_high = 1.0;
  int observational_samples = 1000;
  int settings = 5;  // interventional settings
  int samples_per_setting = 1000;
  int targets_per_setting = 1;  // listed (known) targets of each setting, distinct within a setting
  // perfect: target := value + N(0, 0.1); shift: target += value.
  Intervention::Kind intervention = Intervention::Kind::kPerfect;
  double value = 2.0;
  double unknown_fraction = 0;  // share of settings whose targets are not listed (UT-IGSP learns them)
  int off_targets = 0;          // extra targets per setting that are never listed

  // Ranges that depend on another knob (degree <= nodes - 1, weight_low <= weight_high, targets_per_setting +
  // off_targets <= nodes) are checked by validate().
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("seed", self.seed, "random seed"));
    declare(engine::knob("nodes", self.nodes, "variables of the random DAG").at_least(2));
    declare(engine::knob("graph", self.graph, "er (Erdos-Renyi) or scale-free (preferential attachment)"));
    declare(engine::knob("degree", self.degree, "expected number of neighbours of a node; at most nodes - 1")
                .at_least(0.0));
    declare(engine::knob("weight_low", self.weight_low, "smallest |edge weight|; at most weight_high").above(0.0));
    declare(engine::knob("weight_high", self.weight_high, "largest |edge weight|").above(0.0));
    declare(engine::knob("observational_samples", self.observational_samples, "observational rows").at_least(1));
    declare(engine::knob("settings", self.settings, "interventional settings").at_least(0));
    declare(
        engine::knob("samples_per_setting", self.samples_per_setting, "rows per interventional setting").at_least(1));
    declare(engine::knob("targets_per_setting", self.targets_per_setting,
                         "targets of each setting; with off_targets at most nodes")
                .at_least(1));
    declare(engine::knob("intervention", self.intervention,
                         "perfect (the target is set to value + N(0, 0.1)) or shift (value is added)"));
    declare(engine::knob("value", self.value, "level of a perfect intervention, or size of a shift"));
    declare(engine::knob("unknown_fraction", self.unknown_fraction, "share of settings whose targets are not listed")
                .in(0.0, 1.0));
    declare(engine::knob("off_targets", self.off_targets, "extra, never listed targets per setting").at_least(0));
  }
  void validate() const;  // throws tessera::Error naming the bad option
};

struct SimulatedDagData {
  LinearSem sem;
  InterventionalData data;                     // known_targets: only the listed targets
  std::vector<std::vector<int>> true_targets;  // per setting, everything intervened on ([0] empty)
};

SimulatedDagData simulate_dag_data(const DagSimulationParams& params);

}  // namespace tessera::solvers::causal
