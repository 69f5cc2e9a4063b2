// What distinguishes GSP, IGSP and UT-IGSP inside one search (search/gsp.h): which covered arcs may be reversed,
// and a per-node penalty that breaks ties between DAGs with the same number of arcs (lower is better).
// A DAG's score is (number of arcs, sum of node penalties), compared lexicographically.
#pragma once
#include <vector>

#include "solvers/causal/dag.h"

namespace tessera::solvers::causal {

class SearchPolicy {
 public:
  virtual ~SearchPolicy() = default;
  virtual bool may_reverse(const Dag& dag, int from, int to) { return true; }
  // Depends on the node and its parent set only, so a reversal re-scores two nodes.
  virtual long node_penalty(int node, const std::vector<int>& parents) { return 0; }
};

// GSP: every covered arc, no penalty.
class GspPolicy final : public SearchPolicy {};

}  // namespace tessera::solvers::causal
