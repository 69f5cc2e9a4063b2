// How close a learned causal network is to the truth: SHD of the DAGs (a reversed arc counts 1), SHD of the
// interventional essential graphs (what the data can identify at all), edge precision and recall, and how many
// true targets of each setting were found.
#pragma once
#include <vector>

#include "solvers/causal/dag.h"

namespace tessera::solvers::causal {

struct DiscoveryMetrics {
  int shd = 0;
  // Between the I-essential graph of the truth under the true targets and that of the learned DAG under the
  // targets the algorithm used (the given ones for igsp, the learned ones for utigsp, none for gsp).
  int essential_shd = 0;
  // Between the observational essential graphs (CPDAGs, no targets) of both: what GSP, which sees no targets, can
  // identify at all. essential_shd charges GSP for orientations only the interventions reveal.
  int observational_essential_shd = 0;
  EdgeAccuracy accuracy;
  int true_targets = 0;  // over all interventional settings
  int learned_targets = 0;
  int correct_targets = 0;  // learned and true
};

// Targets are per setting, [0] the observational one (ignored).
DiscoveryMetrics evaluate_discovery(const Dag& truth, const std::vector<std::vector<int>>& true_targets,
                                    const Dag& learned, const std::vector<std::vector<int>>& learned_targets);

}  // namespace tessera::solvers::causal
