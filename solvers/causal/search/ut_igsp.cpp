#include "solvers/causal/search/ut_igsp.h"

namespace tessera::solvers::causal {

long UtIgspPolicy::node_penalty(int node, const std::vector<int>& parents) {
  long changed = 0;
  for (int k = 1; k < invariance_.num_settings(); ++k) changed += invariance_.invariant(node, parents, k) ? 0 : 1;
  return changed;
}

std::vector<std::vector<int>> learned_targets(const Dag& dag, InvarianceTest& invariance) {
  std::vector<std::vector<int>> out(invariance.num_settings());
  for (int k = 1; k < invariance.num_settings(); ++k)
    for (int j = 0; j < dag.num_nodes(); ++j)
      if (!invariance.invariant(j, dag.parents(j), k)) out[k].push_back(j);
  return out;
}

}  // namespace tessera::solvers::causal
