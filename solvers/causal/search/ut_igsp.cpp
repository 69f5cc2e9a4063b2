#include "solvers/causal/search/ut_igsp.h"

#include <algorithm>

#include "engine/error.h"

namespace tessera::solvers::causal {

UtIgspPolicy::UtIgspPolicy(InvarianceTest& invariance, std::vector<std::vector<int>> known_targets)
    : invariance_(invariance), known_targets_(std::move(known_targets)) {
  TESSERA_CHECK(known_targets_.empty() || int(known_targets_.size()) == invariance_.num_settings(),
                "UT-IGSP: known targets for ", known_targets_.size(), " settings but ", invariance_.num_settings(),
                " settings of data");
}

bool UtIgspPolicy::may_reverse(const Dag& dag, int from, int to) {
  for (std::size_t k = 1; k < known_targets_.size(); ++k) {
    const auto& known = known_targets_[k];
    if (std::binary_search(known.begin(), known.end(), from) && invariance_.invariant(to, dag.parents(to), int(k)))
      return false;
  }
  return true;
}

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
