// A directed acyclic graph over nodes 0..p-1, stored as sorted parent lists (cheap to copy in a search that
// visits many neighbouring DAGs), plus the comparisons used to score a learned DAG against a true one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tessera::solvers::causal {

using Arc = std::pair<int, int>;  // (from, to)

// A cycle of the edge list over nodes 0..nodes-1, as the indices into `edges` of its arcs in order (a -> b, b -> c,
// ..., x -> a), or {} when there is none: what a message shows ("a -> b -> c -> a") and where (the file's lines).
std::vector<std::size_t> find_cycle(int nodes, const std::vector<Arc>& edges);

class Dag {
 public:
  explicit Dag(int num_nodes = 0) : parents_(num_nodes) {}
  // From (from, to) node pairs; throws tessera::Error on a node outside 0..nodes-1, a self loop or a cycle.
  static Dag from_edges(int nodes, const std::vector<Arc>& edges);
  int num_nodes() const { return int(parents_.size()); }
  int num_edges() const { return num_edges_; }
  bool has_edge(int from, int to) const;
  bool adjacent(int a, int b) const { return has_edge(a, b) || has_edge(b, a); }
  void add_edge(int from, int to);     // no-op when present; does not check acyclicity
  void remove_edge(int from, int to);  // no-op when absent
  const std::vector<int>& parents(int node) const { return parents_[node]; }
  void set_parents(int node, std::vector<int> parents);  // sorted here
  std::vector<Arc> edges() const;                        // sorted by (from, to)
  // i -> j is covered when pa(j) = pa(i) + {i}: reversing it gives a Markov-equivalent DAG.
  bool is_covered(int from, int to) const;
  std::vector<Arc> covered_arcs() const;
  // A topological order; throws tessera::Error when the graph has a cycle.
  std::vector<int> topological_order() const;
  // A topological order in which `to` follows `from` immediately (from -> to must be covered).
  std::vector<int> order_with_adjacent(int from, int to) const;
  std::uint64_t hash() const;  // of the edge set
  bool operator==(const Dag& other) const { return parents_ == other.parents_; }

 private:
  std::vector<std::vector<int>> parents_;
  int num_edges_ = 0;
};

// Structural Hamming distance: over unordered pairs, 1 for a missing, extra or reversed arc.
int shd(const Dag& truth, const Dag& learned);

struct EdgeAccuracy {
  int true_positives = 0;  // arcs of `learned` present with the same direction in `truth`
  int learned_edges = 0;
  int true_edges = 0;
  double precision() const { return learned_edges ? double(true_positives) / learned_edges : 1.0; }
  double recall() const { return true_edges ? double(true_positives) / true_edges : 1.0; }
};
EdgeAccuracy edge_accuracy(const Dag& truth, const Dag& learned);

// Same skeleton and same v-structures (a -> c <- b with a, b not adjacent): the DAGs are Markov equivalent.
bool markov_equivalent(const Dag& a, const Dag& b);

}  // namespace tessera::solvers::causal
