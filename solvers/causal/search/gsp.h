// Greedy sparsest permutation (Solus, Wang, Uhler 2021) as a search over DAGs: start from the minimal I-map of a
// permutation, explore covered-arc reversals depth-first up to `depth` reversals, move to a DAG with a better
// score (fewer arcs, then lower policy penalty), and stop when the depth-limited neighbourhood holds none. IGSP
// and UT-IGSP run this same search with their own SearchPolicy.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "engine/random.h"
#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/dag.h"
#include "solvers/causal/score/minimal_imap.h"
#include "solvers/causal/search/search_policy.h"

namespace tessera::solvers::causal {

// Which better DAG the search moves to. first: the first one the random DFS meets, at any depth up to `depth`
// (each reversal is scored once; the fewest tests). best: the published GSP / UT-IGSP rule: score every
// neighbour of the current DAG, move to the best strictly better one, and only when none is better go on
// depth-first through the neighbours that score the same (up to `depth` such steps).
enum class MoveRule { kFirst, kBest };
const engine::NameTable<MoveRule>& name_table(MoveRule);  // first | best

// The unlimited depth (--depth inf): the DFS then explores every DAG of the same score it can reach.
inline constexpr int kUnlimitedDepth = std::numeric_limits<int>::max();

struct SearchOptions {
  int depth = 4;  // covered-arc reversals per DFS branch; kUnlimitedDepth = no limit
  MoveRule move = MoveRule::kFirst;
};

struct SearchResult {
  Dag dag;
  long edges = 0;
  long penalty = 0;
  int restart = -1;  // which restart produced it
  std::int64_t dags_visited = 0;
  std::int64_t ci_tests = 0;          // distinct CI tests computed for it (memo misses of its rank's test)
  std::int64_t invariance_tests = 0;  // the same for the invariance tests (igsp, utigsp)
  bool better_than(const SearchResult& o) const {
    if (edges != o.edges) return edges < o.edges;
    if (penalty != o.penalty) return penalty < o.penalty;
    return restart < o.restart;
  }
};

// Local. The search from `start` (a minimal I-map); rng orders the covered arcs tried at each DAG. Required arcs
// are never reversed and no reversal creates a forbidden arc.
SearchResult search_from(const Dag& start, CiTest& test, SearchPolicy& policy, const SearchOptions& options,
                         engine::RandomStream& rng, const EdgeConstraints& constraints = {});

// What one restart found and what it cost, for the run's report.
struct RestartRecord {
  int restart = -1;
  int rank = 0;  // the rank that ran it
  long edges = 0;
  long penalty = 0;
  std::int64_t dags_visited = 0;
  std::int64_t ci_tests = 0;
  std::int64_t invariance_tests = 0;
  double seconds = 0;
};

struct RestartsOutcome {
  SearchResult best;                    // its dags_visited and test counts summed over every restart
  std::vector<RestartRecord> restarts;  // in restart order
};

// Collective. Runs restarts 0..num_restarts-1, restart r on rank r % size with its own
// RandomStream(seed, stream, r) passed to run_one, gathers the results on every rank and returns the best by
// (edges, penalty, restart index): the same answer for any rank count. With `progress`, rank 0 logs the restarts
// done with rate and ETA (at most every 2 s; counted from its own share).
RestartsOutcome run_restarts(const engine::Context& ctx, int num_restarts, std::uint64_t seed, const char* stream,
                             const std::function<SearchResult(int restart, engine::RandomStream& rng)>& run_one,
                             bool progress = false);

}  // namespace tessera::solvers::causal
