#include "solvers/causal/evaluation.h"

#include <algorithm>

#include "engine/error.h"
#include "solvers/causal/essential_graph.h"

namespace tessera::solvers::causal {

DiscoveryMetrics evaluate_discovery(const Dag& truth, const std::vector<std::vector<int>>& true_targets,
                                    const Dag& learned, const std::vector<std::vector<int>>& learned_targets) {
  TESSERA_CHECK(truth.num_nodes() == learned.num_nodes(), "the true DAG has ", truth.num_nodes(),
                " nodes, the learned one ", learned.num_nodes());
  DiscoveryMetrics m;
  m.shd = shd(truth, learned);
  m.essential_shd = shd(essential_graph(truth, true_targets), essential_graph(learned, learned_targets));
  m.observational_essential_shd = shd(essential_graph(truth), essential_graph(learned));
  m.accuracy = edge_accuracy(truth, learned);
  for (std::size_t k = 1; k < true_targets.size(); ++k) {
    auto t = true_targets[k];
    std::sort(t.begin(), t.end());
    m.true_targets += int(t.size());
    if (k >= learned_targets.size()) continue;
    m.learned_targets += int(learned_targets[k].size());
    for (int v : learned_targets[k]) m.correct_targets += std::binary_search(t.begin(), t.end(), v) ? 1 : 0;
  }
  return m;
}

}  // namespace tessera::solvers::causal
