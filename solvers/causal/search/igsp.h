// IGSP (Wang, Solus, Yang, Uhler, NeurIPS 2017): GSP with known intervention targets.
// A covered arc i -> j may be reversed only when it is I-covered: for every setting k whose targets hold i but
// not j, the marginal of j is invariant (intervening on i did not move j). Ties between DAGs with equally many
// arcs go to fewer arcs that are both I-covered and I-contradicting; i -> j contradicts the data when some
// setting targeting i but not j leaves j invariant, or some setting targeting j but not i changes i.
// With single-node targets (the usual case, and Sachs) these are exactly the reference implementation's rules
// (causaldag's igsp). For multi-node targets the paper also searches conditioning sets among the neighbours;
// here the marginal (empty conditioning set) test stands in for them.
#pragma once
#include <vector>

#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/search/search_policy.h"

namespace tessera::solvers::causal {

class IgspPolicy final : public SearchPolicy {
 public:
  // known_targets[k] for settings k = 0..K (index 0, observational, is ignored).
  IgspPolicy(InvarianceTest& invariance, std::vector<std::vector<int>> known_targets);
  bool may_reverse(const Dag& dag, int from, int to) override;
  long node_penalty(int node, const std::vector<int>& parents) override;
  bool contradicting(int from, int to);
  bool i_covered(int from, int to);

 private:
  bool targets(int setting, int node) const;
  InvarianceTest& invariance_;
  std::vector<std::vector<int>> known_targets_;
};

}  // namespace tessera::solvers::causal
