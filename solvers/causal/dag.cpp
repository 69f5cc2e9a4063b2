#include "solvers/causal/dag.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>

#include "engine/error.h"
#include "engine/hash.h"

namespace tessera::solvers::causal {

bool Dag::has_edge(int from, int to) const {
  const auto& pa = parents_[to];
  return std::binary_search(pa.begin(), pa.end(), from);
}

void Dag::add_edge(int from, int to) {
  TESSERA_CHECK(from != to && from >= 0 && to >= 0 && from < num_nodes() && to < num_nodes(), "Dag::add_edge: bad arc ",
                from, " -> ", to, " in a DAG of ", num_nodes(), " nodes");
  auto& pa = parents_[to];
  auto it = std::lower_bound(pa.begin(), pa.end(), from);
  if (it != pa.end() && *it == from) return;
  pa.insert(it, from);
  ++num_edges_;
}

void Dag::remove_edge(int from, int to) {
  auto& pa = parents_[to];
  auto it = std::lower_bound(pa.begin(), pa.end(), from);
  if (it == pa.end() || *it != from) return;
  pa.erase(it);
  --num_edges_;
}

void Dag::set_parents(int node, std::vector<int> parents) {
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  num_edges_ += int(parents.size()) - int(parents_[node].size());
  parents_[node] = std::move(parents);
}

std::vector<Arc> Dag::edges() const {
  std::vector<Arc> out;
  out.reserve(num_edges_);
  for (int j = 0; j < num_nodes(); ++j)
    for (int i : parents_[j]) out.emplace_back(i, j);
  std::sort(out.begin(), out.end());
  return out;
}

bool Dag::is_covered(int from, int to) const {
  const auto& pj = parents_[to];
  const auto& pi = parents_[from];
  if (pj.size() != pi.size() + 1 || !has_edge(from, to)) return false;
  // pj without `from` must equal pi; both sorted.
  std::size_t a = 0;
  for (int k : pj) {
    if (k == from) continue;
    if (a >= pi.size() || pi[a] != k) return false;
    ++a;
  }
  return true;
}

std::vector<Arc> Dag::covered_arcs() const {
  std::vector<Arc> out;
  for (int j = 0; j < num_nodes(); ++j)
    for (int i : parents_[j])
      if (parents_[j].size() == parents_[i].size() + 1 && is_covered(i, j)) out.emplace_back(i, j);
  return out;
}

// Iterative depth-first search: an arc into a node on the current path closes a cycle.
std::vector<std::size_t> find_cycle(int nodes, const std::vector<Arc>& edges) {
  std::vector<std::vector<std::size_t>> out(std::size_t(std::max(nodes, 0)));
  for (std::size_t e = 0; e < edges.size(); ++e) out[std::size_t(edges[e].first)].push_back(e);
  enum : char { kNew, kOnPath, kDone };
  std::vector<char> state(out.size(), kNew);
  std::vector<std::size_t> path;                           // arcs from the root to the current node
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // (node, next outgoing arc to try)
  for (std::size_t root = 0; root < out.size(); ++root) {
    if (state[root] != kNew) continue;
    stack.assign(1, {root, 0});
    state[root] = kOnPath;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == out[node].size()) {
        state[node] = kDone;
        stack.pop_back();
        if (!path.empty()) path.pop_back();
        continue;
      }
      const std::size_t e = out[node][next++];
      const auto to = std::size_t(edges[e].second);
      if (state[to] == kOnPath) {  // the cycle: the path's arcs from `to` on, then e
        std::size_t start = path.size();
        if (node != to)
          for (start = 0; std::size_t(edges[path[start]].first) != to;) ++start;
        std::vector<std::size_t> cycle(path.begin() + std::ptrdiff_t(start), path.end());
        cycle.push_back(e);
        return cycle;
      }
      if (state[to] == kNew) {
        state[to] = kOnPath;
        path.push_back(e);
        stack.emplace_back(to, 0);
      }
    }
  }
  return {};
}

namespace {
std::vector<int> kahn(const std::vector<std::vector<int>>& parents, int first, int second) {
  const int p = int(parents.size());
  std::vector<std::vector<int>> children(p);
  std::vector<int> missing(p);
  for (int j = 0; j < p; ++j) {
    missing[j] = int(parents[j].size());
    for (int i : parents[j]) children[i].push_back(j);
  }
  std::vector<int> ready, order;
  for (int j = p - 1; j >= 0; --j)
    if (missing[j] == 0) ready.push_back(j);
  auto emit = [&](int v) {
    order.push_back(v);
    for (int c : children[v])
      if (--missing[c] == 0 && c != second) ready.push_back(c);
  };
  while (!ready.empty()) {
    int v = ready.back();
    ready.pop_back();
    if (v == second) continue;  // emitted right after `first`
    emit(v);
    if (v == first && second >= 0) {
      TESSERA_CHECK(missing[second] == 0, "order_with_adjacent: arc ", first, " -> ", second, " is not covered");
      emit(second);
    }
  }
  if (int(order.size()) != p) {
    std::vector<Arc> arcs;
    for (int j = 0; j < p; ++j)
      for (int i : parents[j]) arcs.emplace_back(i, j);
    const auto cycle = find_cycle(p, arcs);
    std::string shown = cycle.empty() ? "" : std::to_string(arcs[cycle.front()].first);
    for (const auto e : cycle) shown += " -> " + std::to_string(arcs[e].second);
    TESSERA_FAIL("the graph has a cycle (nodes counted from 0): ", shown, "; it is not a DAG");
  }
  return order;
}
}  // namespace

Dag Dag::from_edges(int nodes, const std::vector<Arc>& edges) {
  TESSERA_CHECK(nodes >= 1, "a DAG needs at least one node");
  Dag dag(nodes);
  for (const auto& [from, to] : edges) {
    TESSERA_CHECK(from >= 0 && from < nodes && to >= 0 && to < nodes, "edge ", from, " -> ", to,
                  " names a node outside 0..", nodes - 1);
    TESSERA_CHECK(from != to, "edge ", from, " -> ", to, " is a self loop");
    dag.add_edge(from, to);
  }
  dag.topological_order();  // throws on a cycle
  return dag;
}

std::vector<int> Dag::topological_order() const { return kahn(parents_, -1, -1); }

std::vector<int> Dag::order_with_adjacent(int from, int to) const {
  TESSERA_CHECK(is_covered(from, to), "order_with_adjacent: arc ", from, " -> ", to, " is not covered");
  return kahn(parents_, from, to);
}

std::uint64_t Dag::hash() const {
  std::uint64_t h = engine::kWordHashBasis;
  for (int j = 0; j < num_nodes(); ++j) {
    h = engine::mix_word(h, 0x9e3779b97f4a7c15ULL + std::uint64_t(j));
    for (int i : parents_[j]) h = engine::mix_word(h, std::uint64_t(i + 1));
  }
  return h;
}

int shd(const Dag& truth, const Dag& learned) {
  TESSERA_CHECK(truth.num_nodes() == learned.num_nodes(), "shd: DAGs of ", truth.num_nodes(), " and ",
                learned.num_nodes(), " nodes");
  int d = 0;
  for (int a = 0; a < truth.num_nodes(); ++a)
    for (int b = a + 1; b < truth.num_nodes(); ++b) {
      const bool t_ab = truth.has_edge(a, b), t_ba = truth.has_edge(b, a);
      const bool l_ab = learned.has_edge(a, b), l_ba = learned.has_edge(b, a);
      if (t_ab != l_ab || t_ba != l_ba) ++d;
    }
  return d;
}

EdgeAccuracy edge_accuracy(const Dag& truth, const Dag& learned) {
  EdgeAccuracy acc;
  acc.true_edges = truth.num_edges();
  acc.learned_edges = learned.num_edges();
  for (const auto& [i, j] : learned.edges())
    if (truth.has_edge(i, j)) ++acc.true_positives;
  return acc;
}

namespace {
std::set<std::tuple<int, int, int>> v_structures(const Dag& g) {
  std::set<std::tuple<int, int, int>> out;
  for (int c = 0; c < g.num_nodes(); ++c) {
    const auto& pa = g.parents(c);
    for (std::size_t x = 0; x < pa.size(); ++x)
      for (std::size_t y = x + 1; y < pa.size(); ++y)
        if (!g.adjacent(pa[x], pa[y])) out.emplace(pa[x], c, pa[y]);
  }
  return out;
}
}  // namespace

bool markov_equivalent(const Dag& a, const Dag& b) {
  if (a.num_nodes() != b.num_nodes() || a.num_edges() != b.num_edges()) return false;
  for (const auto& [i, j] : a.edges())
    if (!b.adjacent(i, j)) return false;
  return v_structures(a) == v_structures(b);
}

}  // namespace tessera::solvers::causal
