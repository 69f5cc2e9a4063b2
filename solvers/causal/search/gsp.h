// Greedy sparsest permutation (Solus, Wang, Uhler 2021) as a search over DAGs: start from the minimal I-map of a
// permutation, explore covered-arc reversals depth-first up to `depth` reversals, move as soon as a DAG with a
// better score (fewer arcs, then lower policy penalty) appears, and stop when the depth-limited neighbourhood
// holds none. IGSP and UT-IGSP run this same search with their own SearchPolicy.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/context.h"
#include "engine/random.h"
#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/dag.h"
#include "solvers/causal/score/minimal_imap.h"
#include "solvers/causal/search/search_policy.h"

namespace tessera::solvers::causal {

struct SearchResult {
  Dag dag;
  long edges = 0;
  long penalty = 0;
  int restart = -1;  // which restart produced it
  std::int64_t dags_visited = 0;
  bool better_than(const SearchResult& o) const {
    if (edges != o.edges) return edges < o.edges;
    if (penalty != o.penalty) return penalty < o.penalty;
    return restart < o.restart;
  }
};

// Local. The search from `start` (a minimal I-map); rng orders the covered arcs tried at each DAG. Required arcs
// are never reversed and no reversal creates a forbidden arc.
SearchResult search_from(const Dag& start, CiTest& test, SearchPolicy& policy, int depth, engine::RandomStream& rng,
                         const EdgeConstraints& constraints = {});

// Collective. Runs restarts 0..num_restarts-1, restart r on rank r % size with its own
// RandomStream(seed, stream, r) passed to run_one, gathers the results on every rank and returns the best by
// (edges, penalty, restart index): the same answer for any rank count.
SearchResult run_restarts(const engine::Context& ctx, int num_restarts, std::uint64_t seed, const char* stream,
                          const std::function<SearchResult(int restart, engine::RandomStream& rng)>& run_one);

}  // namespace tessera::solvers::causal
