// A whole simulated causal-discovery data set, as `tessera simulate-dag` writes it: a random DAG (Erdos-Renyi or
// scale-free), a linear Gaussian SEM with weights +-U(low, high) and unit noise, observational rows, and
// interventional settings (perfect or shift) on random targets, some of them hidden from the learner: a share of
// the settings list no targets at all (unknown), and every setting may hit extra, unlisted off-targets.
// Deterministic from the seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "solvers/causal/data.h"
#include "solvers/causal/random_dag.h"

namespace tessera::solvers::causal {

struct DagSimulationParams {
  int nodes = 20;
  std::string graph = "er";  // er | scale-free
  double degree = 1.5;       // expected number of neighbours of a node
  double weight_low = 0.25;  // |weight| ~ U(low, high), random sign
  double weight_high = 1.0;
  int observational_samples = 1000;
  int settings = 5;  // interventional settings
  int samples_per_setting = 1000;
  int targets_per_setting = 1;           // listed (known) targets of each setting, distinct within a setting
  std::string intervention = "perfect";  // perfect (target := value + N(0, 0.1)) | shift (target += value)
  double value = 2.0;
  double unknown_fraction = 0;  // share of settings whose targets are not listed (UT-IGSP learns them)
  int off_targets = 0;          // extra targets per setting that are never listed
  std::uint64_t seed = 1;

  template <typename Self, typename Visit>
  static void for_each_knob(Self& self, Visit&& visit) {
    visit("nodes", self.nodes, "variables of the random DAG");
    visit("graph", self.graph, "er (Erdos-Renyi) or scale-free (preferential attachment)");
    visit("degree", self.degree, "expected number of neighbours of a node");
    visit("weight_low", self.weight_low, "smallest |edge weight|");
    visit("weight_high", self.weight_high, "largest |edge weight|");
    visit("observational_samples", self.observational_samples, "observational rows");
    visit("settings", self.settings, "interventional settings");
    visit("samples_per_setting", self.samples_per_setting, "rows per interventional setting");
    visit("targets_per_setting", self.targets_per_setting, "targets of each setting");
    visit("intervention", self.intervention, "perfect or shift");
    visit("value", self.value, "level of a perfect intervention, or size of a shift");
    visit("unknown_fraction", self.unknown_fraction, "share of settings whose targets are not listed");
    visit("off_targets", self.off_targets, "extra, never listed targets per setting");
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
