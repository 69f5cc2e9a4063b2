#include "solvers/causal/search/igsp.h"

#include <algorithm>

#include "engine/error.h"

namespace tessera::solvers::causal {

IgspPolicy::IgspPolicy(InvarianceTest& invariance, std::vector<std::vector<int>> known_targets)
    : invariance_(invariance), known_targets_(std::move(known_targets)) {
  TESSERA_CHECK(int(known_targets_.size()) == invariance_.num_settings(), "IGSP: known targets for ",
                known_targets_.size(), " settings but ", invariance_.num_settings(), " settings of data");
}

bool IgspPolicy::targets(int setting, int node) const {
  const auto& t = known_targets_[setting];
  return std::binary_search(t.begin(), t.end(), node);
}

bool IgspPolicy::i_covered(int from, int to) {
  for (int k = 1; k < int(known_targets_.size()); ++k)
    if (targets(k, from) && !targets(k, to) && !invariance_.invariant(to, {}, k)) return false;
  return true;
}

bool IgspPolicy::may_reverse(const Dag&, int from, int to) { return i_covered(from, to); }

bool IgspPolicy::contradicting(int from, int to) {
  for (int k = 1; k < int(known_targets_.size()); ++k) {
    if (targets(k, from) && !targets(k, to) && invariance_.invariant(to, {}, k)) return true;
    if (targets(k, to) && !targets(k, from) && !invariance_.invariant(from, {}, k)) return true;
  }
  return false;
}

long IgspPolicy::node_penalty(int node, const std::vector<int>& parents) {
  long count = 0;
  for (int i : parents) count += i_covered(i, node) && contradicting(i, node) ? 1 : 0;
  return count;
}

}  // namespace tessera::solvers::causal
