// UT-IGSP (Squires, Wang, Uhler, UAI 2020): GSP with unknown intervention targets. For a DAG G, the targets
// learned for setting k are the nodes j whose mechanism changed: the conditional invariance test of j given
// pa_G(j) rejects between the observational setting and k. The score is (number of arcs, number of changed
// (setting, node) mechanisms): among equally sparse DAGs the one that explains the interventions with fewest
// targets wins.
// Known targets (partly known interventions) restrict the moves as in the published UT-IGSP: a covered arc
// i -> j is not reversed when some setting has i among its known targets and j given its parents (i among them)
// is invariant there, since the data then agree with i -> j. The learned targets still come from the tests
// alone, so a known target the data do not show is not reported.
#pragma once
#include <vector>

#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/search/search_policy.h"

namespace tessera::solvers::causal {

class UtIgspPolicy final : public SearchPolicy {
 public:
  // known_targets[k] for settings k = 0..K (index 0 ignored); empty or all empty: no known targets.
  UtIgspPolicy(InvarianceTest& invariance, std::vector<std::vector<int>> known_targets = {});
  bool may_reverse(const Dag& dag, int from, int to) override;
  long node_penalty(int node, const std::vector<int>& parents) override;

 private:
  InvarianceTest& invariance_;
  std::vector<std::vector<int>> known_targets_;
};

// Per setting (index 0 empty): the sorted nodes whose mechanism changed in `dag`.
std::vector<std::vector<int>> learned_targets(const Dag& dag, InvarianceTest& invariance);

}  // namespace tessera::solvers::causal
