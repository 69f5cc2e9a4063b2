// UT-IGSP (Squires, Wang, Uhler, UAI 2020): GSP with unknown intervention targets. For a DAG G, the targets
// learned for setting k are the nodes j whose mechanism changed: the conditional invariance test of j given
// pa_G(j) rejects between the observational setting and k. The score is (number of arcs, number of changed
// (setting, node) mechanisms): among equally sparse DAGs the one that explains the interventions with fewest
// targets wins.
#pragma once
#include <vector>

#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/search/search_policy.h"

namespace tessera::solvers::causal {

class UtIgspPolicy final : public SearchPolicy {
 public:
  explicit UtIgspPolicy(InvarianceTest& invariance) : invariance_(invariance) {}
  long node_penalty(int node, const std::vector<int>& parents) override;

 private:
  InvarianceTest& invariance_;
};

// Per setting (index 0 empty): the sorted nodes whose mechanism changed in `dag`.
std::vector<std::vector<int>> learned_targets(const Dag& dag, InvarianceTest& invariance);

}  // namespace tessera::solvers::causal
