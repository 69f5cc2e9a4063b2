#include "solvers/causal/search/gsp.h"

#include <optional>
#include <unordered_set>

#include "engine/collectives.h"
#include "engine/error.h"
#include "solvers/causal/score/minimal_imap.h"

namespace tessera::solvers::causal {

namespace {

struct State {
  Dag dag;
  std::vector<long> penalty;  // per node
  long total = 0;
  bool better_than(const State& o) const {
    if (dag.num_edges() != o.dag.num_edges()) return dag.num_edges() < o.dag.num_edges();
    return total < o.total;
  }
};

// Zobrist-style key of one arc; a DAG's key is the XOR over its arcs, updated in O(changed arcs).
std::uint64_t arc_key(int from, int to) {
  std::uint64_t z = (std::uint64_t(std::uint32_t(from)) << 32 | std::uint32_t(to)) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t dag_key(const Dag& dag) {
  std::uint64_t h = 0;
  for (int j = 0; j < dag.num_nodes(); ++j)
    for (int i : dag.parents(j)) h ^= arc_key(i, j);
  return h;
}

// Depth-first search over covered-arc reversals, in place on one DAG: each reversal is applied, explored and
// undone (only the parents of two nodes change), so a visit costs no copy of the DAG.
class Dfs {
 public:
  Dfs(CiTest& test, SearchPolicy& policy, int depth, engine::RandomStream& rng, const EdgeConstraints& constraints)
      : test_(test), policy_(policy), depth_(depth), rng_(rng), constraints_(constraints) {}

  std::optional<State> improve(const State& start) {
    cur_ = start;
    best_ = &start;
    key_ = dag_key(start.dag);
    visited_.clear();
    visited_.insert(key_);
    return explore(0);
  }
  std::int64_t visited() const { return visited_count_; }

 private:
  std::optional<State> explore(int level) {
    std::vector<Arc> arcs = cur_.dag.covered_arcs();
    rng_.shuffle(arcs);
    for (const auto& [i, j] : arcs) {
      if (constraints_.required(i, j) || constraints_.forbidden(j, i) || !policy_.may_reverse(cur_.dag, i, j)) continue;
      const std::vector<int> old_i = cur_.dag.parents(i), old_j = cur_.dag.parents(j);
      const long old_pen_i = cur_.penalty[i], old_pen_j = cur_.penalty[j], old_total = cur_.total;
      const std::uint64_t old_key = key_;
      for (int k : old_i) key_ ^= arc_key(k, i);
      for (int k : old_j) key_ ^= arc_key(k, j);
      reverse_covered_arc(cur_.dag, i, j, test_, constraints_);
      for (int k : cur_.dag.parents(i)) key_ ^= arc_key(k, i);
      for (int k : cur_.dag.parents(j)) key_ ^= arc_key(k, j);
      ++visited_count_;
      for (int v : {i, j}) {
        const long pen = policy_.node_penalty(v, cur_.dag.parents(v));
        cur_.total += pen - cur_.penalty[v];
        cur_.penalty[v] = pen;
      }
      if (cur_.better_than(*best_)) return cur_;
      if (level + 1 < depth_ && visited_.insert(key_).second) {
        if (auto found = explore(level + 1)) return found;
      }
      cur_.dag.set_parents(i, old_i);
      cur_.dag.set_parents(j, old_j);
      cur_.penalty[i] = old_pen_i;
      cur_.penalty[j] = old_pen_j;
      cur_.total = old_total;
      key_ = old_key;
    }
    return std::nullopt;
  }

  CiTest& test_;
  SearchPolicy& policy_;
  int depth_;
  engine::RandomStream& rng_;
  const EdgeConstraints& constraints_;
  State cur_;
  const State* best_ = nullptr;
  std::uint64_t key_ = 0;
  std::unordered_set<std::uint64_t> visited_;
  std::int64_t visited_count_ = 0;
};

}  // namespace

SearchResult search_from(const Dag& start, CiTest& test, SearchPolicy& policy, int depth, engine::RandomStream& rng,
                         const EdgeConstraints& constraints) {
  TESSERA_CHECK(depth >= 1, "search depth must be at least 1, got ", depth);
  State current{start, std::vector<long>(start.num_nodes(), 0), 0};
  for (int v = 0; v < start.num_nodes(); ++v) {
    current.penalty[v] = policy.node_penalty(v, start.parents(v));
    current.total += current.penalty[v];
  }
  Dfs dfs(test, policy, depth, rng, constraints);
  while (auto found = dfs.improve(current)) current = std::move(*found);
  SearchResult out;
  out.edges = current.dag.num_edges();
  out.penalty = current.total;
  out.dags_visited = dfs.visited();
  out.dag = std::move(current.dag);
  return out;
}

SearchResult run_restarts(const engine::Context& ctx, int num_restarts, std::uint64_t seed, const char* stream,
                          const std::function<SearchResult(int restart, engine::RandomStream& rng)>& run_one) {
  TESSERA_CHECK(num_restarts >= 1, "restarts must be at least 1, got ", num_restarts);
  // Each result travels as [restart, edges, penalty, visited, p, from_1, to_1, ...].
  std::vector<std::int64_t> mine;
  for (int r = ctx.rank(); r < num_restarts; r += ctx.size()) {
    engine::RandomStream rng(seed, stream, std::uint64_t(r));
    SearchResult res = run_one(r, rng);
    res.restart = r;
    mine.insert(mine.end(), {r, res.edges, res.penalty, res.dags_visited, res.dag.num_nodes()});
    for (const auto& [i, j] : res.dag.edges()) mine.insert(mine.end(), {i, j});
  }
  const std::vector<std::int64_t> all = engine::allgatherv(ctx, mine);
  SearchResult best;
  std::int64_t total_visited = 0;
  for (std::size_t at = 0; at < all.size();) {
    SearchResult res;
    res.restart = int(all[at]);
    res.edges = all[at + 1];
    res.penalty = all[at + 2];
    total_visited += all[at + 3];
    res.dag = Dag(int(all[at + 4]));
    at += 5;
    for (long e = 0; e < res.edges; ++e, at += 2) res.dag.add_edge(int(all[at]), int(all[at + 1]));
    if (best.restart < 0 || res.better_than(best)) best = std::move(res);
  }
  best.dags_visited = total_visited;
  return best;
}

}  // namespace tessera::solvers::causal
