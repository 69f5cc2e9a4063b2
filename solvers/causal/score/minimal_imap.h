// The score of permutation-based search: the minimal I-map of an order (its number of arcs is what GSP
// minimises), and its update after a covered-arc reversal.
#pragma once
#include <vector>

#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/citest/gaussian_ci_test.h"
#include "solvers/causal/dag.h"

namespace tessera::solvers::causal {

// Prior knowledge: a required arc is always present (never tested, removed or reversed); a forbidden arc
// never appears (never added; the search never reverses into it). Empty = no constraints.
class EdgeConstraints {
 public:
  EdgeConstraints() = default;
  EdgeConstraints(int p, const std::vector<Arc>& required, const std::vector<Arc>& forbidden);
  bool empty() const { return required_.empty() && forbidden_.empty(); }
  bool required(int from, int to) const { return !required_.empty() && required_[from][to]; }
  bool forbidden(int from, int to) const { return !forbidden_.empty() && forbidden_[from][to]; }
  // The order closest to `order` (stable) in which every required arc points forward.
  std::vector<int> respect_required(const std::vector<int>& order) const;

 private:
  std::vector<std::vector<char>> required_, forbidden_;
};

// Minimal I-map of `order` from CI tests: arc order[a] -> order[b] (a < b) unless
// order[a] _||_ order[b] | {order[0..b)} \ {order[a]}. O(p^2) tests, each on a growing set.
Dag minimal_imap(const std::vector<int>& order, CiTest& test, const EdgeConstraints& constraints = {});

// The same DAG for a Gaussian test in O(p^3) total: the precision matrix of the leading block of the permuted
// correlation matrix is grown one node at a time (bordering), and its last row gives every partial correlation
// of the new node with its predecessors given the others. Same p-values as test.p_value up to rounding, shrinkage
// included (test.correlation() is R_lambda; the effective conditioning sizes come from the same growing inverse).
// Throws, naming the fix (shrinkage), when the unshrunk correlation matrix is singular.
Dag minimal_imap_gaussian(const std::vector<int>& order, const GaussianCiTest& test,
                          const EdgeConstraints& constraints = {});

// Reverses the covered arc from -> to in place and removes the arcs the reversal makes unnecessary:
// with A = pa(from), k -> from is dropped when from _||_ k | A \ {k} + {to}, and k -> to when to _||_ k | A \ {k}.
// Only the parents of `from` and `to` change.
void reverse_covered_arc(Dag& dag, int from, int to, CiTest& test, const EdgeConstraints& constraints = {});

}  // namespace tessera::solvers::causal
