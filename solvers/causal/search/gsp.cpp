#include "solvers/causal/search/gsp.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_set>
#include <utility>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/progress.h"
#include "solvers/causal/score/minimal_imap.h"

namespace tessera::solvers::causal {

const engine::NameTable<MoveRule>& name_table(MoveRule) {
  static const engine::NameTable<MoveRule> table{{MoveRule::kFirst, "first"}, {MoveRule::kBest, "best"}};
  return table;
}

namespace {

// A DAG's score, (arcs, total penalty), compared lexicographically: lower is better.
using Score = std::pair<long, long>;

struct State {
  Dag dag;
  std::vector<long> penalty;  // per node
  long total = 0;
  Score score() const { return {dag.num_edges(), total}; }
  bool better_than(const State& o) const { return score() < o.score(); }
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

// The parents and penalties of the two nodes a reversal changes, with the DAG's key and total penalty then:
// enough to apply or undo the reversal on the DAG it was taken from.
struct NodePair {
  int i = -1, j = -1;
  std::vector<int> parents_i, parents_j;
  long penalty_i = 0, penalty_j = 0;
  long total = 0;
  std::uint64_t key = 0;
};

// Depth-first search over covered-arc reversals, in place on one DAG: each reversal is applied, explored and
// undone (only the parents of two nodes change), so a visit costs no copy of the DAG. An explicit stack, so an
// unlimited depth cannot overflow the call stack.
class Dfs {
 public:
  Dfs(CiTest& test, SearchPolicy& policy, const SearchOptions& options, engine::RandomStream& rng,
      const EdgeConstraints& constraints)
      : test_(test), policy_(policy), options_(options), rng_(rng), constraints_(constraints) {}

  // A better state than `start` in its depth-limited neighbourhood, or none.
  std::optional<State> improve(const State& start) {
    cur_ = start;
    best_ = &start;
    key_ = dag_key(start.dag);
    visited_.clear();
    visited_.insert(key_);
    std::vector<Frame> stack;
    stack.push_back(open_frame());
    while (!stack.empty()) {
      Frame& frame = stack.back();
      if (options_.move == MoveRule::kBest && !frame.scanned) {
        if (scan(frame)) return cur_;
      }
      if (frame.next == frame.moves.size()) {
        const NodePair undo = std::move(frame.undo);
        stack.pop_back();
        if (!stack.empty()) set(undo);
        continue;
      }
      NodePair undo;
      if (options_.move == MoveRule::kBest) {
        const NodePair& neighbour = frame.neighbours[frame.next++];
        if (neighbour.i < 0) continue;  // worse than the current DAG: the published search does not go there
        undo = snapshot(neighbour.i, neighbour.j);
        set(neighbour);
      } else {
        const auto [i, j] = frame.moves[frame.next++];
        undo = reverse(i, j);
        if (cur_.better_than(*best_)) return cur_;
      }
      if (int(stack.size()) < options_.depth && visited_.insert(key_).second) {
        stack.push_back(open_frame());
        stack.back().undo = std::move(undo);
      } else {
        set(undo);
      }
    }
    return std::nullopt;
  }
  std::int64_t visited() const { return visited_count_; }

 private:
  struct Frame {
    std::vector<Arc> moves;            // the reversible covered arcs, in random order
    std::vector<NodePair> neighbours;  // kBest: each move's result (i = -1: worse than the current DAG)
    std::size_t next = 0;              // the next move to explore
    bool scanned = false;              // kBest: neighbours filled
    NodePair undo;                     // restores the DAG that opened this frame's parent
  };

  Frame open_frame() {
    Frame frame;
    frame.moves = cur_.dag.covered_arcs();
    rng_.shuffle(frame.moves);
    std::erase_if(frame.moves, [&](const Arc& arc) {
      const auto [i, j] = arc;
      return constraints_.required(i, j) || constraints_.forbidden(j, i) || !policy_.may_reverse(cur_.dag, i, j);
    });
    return frame;
  }

  // kBest: every neighbour of the current DAG is scored; moves to the best strictly better one (the first in the
  // random order among equals) and returns true, else keeps those as good as the current DAG for the DFS.
  bool scan(Frame& frame) {
    frame.scanned = true;
    frame.neighbours.resize(frame.moves.size());
    // The current DAG scores as the start here: the DFS only follows neighbours as good as it.
    const Score here = cur_.score();
    int chosen = -1;
    Score chosen_score;
    for (std::size_t m = 0; m < frame.moves.size(); ++m) {
      const NodePair undo = reverse(frame.moves[m].first, frame.moves[m].second);
      const Score score = cur_.score();
      if (score < here && (chosen < 0 || score < chosen_score)) {
        chosen = int(m);
        chosen_score = score;
      }
      if (score <= here) frame.neighbours[m] = snapshot(undo.i, undo.j);
      set(undo);
    }
    if (chosen < 0) return false;
    set(frame.neighbours[std::size_t(chosen)]);
    return true;
  }

  NodePair snapshot(int i, int j) const {
    return {i, j, cur_.dag.parents(i), cur_.dag.parents(j), cur_.penalty[i], cur_.penalty[j], cur_.total, key_};
  }

  // Puts the two nodes back to `state`, taken from a DAG that differs from the current one only in them.
  void set(const NodePair& state) {
    cur_.dag.set_parents(state.i, state.parents_i);
    cur_.dag.set_parents(state.j, state.parents_j);
    cur_.penalty[state.i] = state.penalty_i;
    cur_.penalty[state.j] = state.penalty_j;
    cur_.total = state.total;
    key_ = state.key;
  }

  // Reverses the covered arc i -> j in the current DAG and re-scores its two nodes; returns what undoes it.
  NodePair reverse(int i, int j) {
    NodePair undo = snapshot(i, j);
    for (int k : undo.parents_i) key_ ^= arc_key(k, i);
    for (int k : undo.parents_j) key_ ^= arc_key(k, j);
    reverse_covered_arc(cur_.dag, i, j, test_, constraints_);
    for (int k : cur_.dag.parents(i)) key_ ^= arc_key(k, i);
    for (int k : cur_.dag.parents(j)) key_ ^= arc_key(k, j);
    ++visited_count_;
    for (int v : {i, j}) {
      const long pen = policy_.node_penalty(v, cur_.dag.parents(v));
      cur_.total += pen - cur_.penalty[v];
      cur_.penalty[v] = pen;
    }
    return undo;
  }

  CiTest& test_;
  SearchPolicy& policy_;
  const SearchOptions& options_;
  engine::RandomStream& rng_;
  const EdgeConstraints& constraints_;
  State cur_;
  const State* best_ = nullptr;
  std::uint64_t key_ = 0;
  std::unordered_set<std::uint64_t> visited_;
  std::int64_t visited_count_ = 0;
};

}  // namespace

SearchResult search_from(const Dag& start, CiTest& test, SearchPolicy& policy, const SearchOptions& options,
                         engine::RandomStream& rng, const EdgeConstraints& constraints) {
  TESSERA_CHECK(options.depth >= 1, "search depth must be at least 1, got ", options.depth);
  State current{start, std::vector<long>(start.num_nodes(), 0), 0};
  for (int v = 0; v < start.num_nodes(); ++v) {
    current.penalty[v] = policy.node_penalty(v, start.parents(v));
    current.total += current.penalty[v];
  }
  Dfs dfs(test, policy, options, rng, constraints);
  while (auto found = dfs.improve(current)) current = std::move(*found);
  SearchResult out;
  out.edges = current.dag.num_edges();
  out.penalty = current.total;
  out.dags_visited = dfs.visited();
  out.dag = std::move(current.dag);
  return out;
}

RestartsOutcome run_restarts(const engine::Context& ctx, int num_restarts, std::uint64_t seed, const char* stream,
                             const std::function<SearchResult(int restart, engine::RandomStream& rng)>& run_one,
                             bool progress) {
  TESSERA_CHECK(num_restarts >= 1, "restarts must be at least 1, got ", num_restarts);
  engine::Progress line("search", num_restarts, "restarts");
  // Each result travels as [restart, edges, penalty, visited, CI tests, invariance tests, microseconds, p, from_1,
  // to_1, ...].
  std::vector<std::int64_t> mine;
  for (int r = ctx.rank(); r < num_restarts; r += ctx.size()) {
    const auto started = std::chrono::steady_clock::now();
    engine::RandomStream rng(seed, stream, std::uint64_t(r));
    SearchResult res = run_one(r, rng);
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    mine.insert(mine.end(), {r, res.edges, res.penalty, res.dags_visited, res.ci_tests, res.invariance_tests, micros,
                             res.dag.num_nodes()});
    for (const auto& [i, j] : res.dag.edges()) mine.insert(mine.end(), {i, j});
    // Rank 0's share times the rank count: the restarts are dealt round-robin, so the shares finish together.
    if (progress && ctx.is_root()) line.update(std::min<std::int64_t>(num_restarts, (r / ctx.size() + 1) * ctx.size()));
  }
  if (progress && ctx.is_root()) line.finish();
  const std::vector<std::int64_t> all = engine::allgatherv(ctx, mine);
  RestartsOutcome out;
  SearchResult& best = out.best;
  SearchResult total;  // the counts summed over the restarts
  for (std::size_t at = 0; at < all.size();) {
    SearchResult res;
    res.restart = int(all[at]);
    res.edges = all[at + 1];
    res.penalty = all[at + 2];
    res.dags_visited = all[at + 3];
    res.ci_tests = all[at + 4];
    res.invariance_tests = all[at + 5];
    total.dags_visited += res.dags_visited;
    total.ci_tests += res.ci_tests;
    total.invariance_tests += res.invariance_tests;
    out.restarts.push_back({res.restart, res.restart % ctx.size(), res.edges, res.penalty, res.dags_visited,
                            res.ci_tests, res.invariance_tests, double(all[at + 6]) * 1e-6});
    res.dag = Dag(int(all[at + 7]));
    at += 8;
    for (long e = 0; e < res.edges; ++e, at += 2) res.dag.add_edge(int(all[at]), int(all[at + 1]));
    if (best.restart < 0 || res.better_than(best)) best = std::move(res);
  }
  best.dags_visited = total.dags_visited;
  best.ci_tests = total.ci_tests;
  best.invariance_tests = total.invariance_tests;
  std::sort(out.restarts.begin(), out.restarts.end(),
            [](const RestartRecord& a, const RestartRecord& b) { return a.restart < b.restart; });
  return out;
}

}  // namespace tessera::solvers::causal
