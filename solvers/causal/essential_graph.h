// Partially directed graphs and the interventional essential graph of a DAG, the object that the data of a
// family of interventions can identify, and the structural Hamming distance between two such graphs.
//
// With observational data only, a DAG is identified up to its Markov equivalence class; the class is drawn as
// its CPDAG (Chickering 1995; Meek 1995): an arc where every member of the class agrees, a line elsewhere.
// Interventions shrink the class. Hauser & Buehlmann (JMLR 2012, "Characterization and greedy learning of
// interventional Markov equivalence classes of directed acyclic graphs") call the smaller class the
// I-Markov equivalence class and its drawing the I-essential graph.
#pragma once
#include <string>
#include <vector>

#include "solvers/causal/dag.h"

namespace tessera::solvers::causal {

// A partially directed graph over nodes 0..p-1: each unordered pair {i, j} is joined by nothing, by an arc
// (i -> j or j -> i) or by an undirected edge i - j. Nothing is checked about cycles.
class EssentialGraph {
 public:
  explicit EssentialGraph(int num_nodes = 0) : p_(num_nodes), mark_(std::size_t(num_nodes) * num_nodes, 0) {}
  int num_nodes() const { return p_; }

  bool directed(int from, int to) const { return mark(from, to) && !mark(to, from); }  // from -> to
  bool undirected(int a, int b) const { return mark(a, b) && mark(b, a); }
  bool adjacent(int a, int b) const { return mark(a, b) || mark(b, a); }
  int num_directed() const;    // arcs
  int num_undirected() const;  // lines, each counted once
  int num_edges() const { return num_directed() + num_undirected(); }

  // Each replaces whatever joined the pair before.
  void set_directed(int from, int to);
  void set_undirected(int a, int b);
  void remove_edge(int a, int b);

  bool operator==(const EssentialGraph& other) const { return p_ == other.p_ && mark_ == other.mark_; }
  // "0->1 1-2 ..." over pairs (i < j) in order; for test messages and logs.
  std::string to_string() const;

 private:
  // mark(i, j): the pair has an edge that is not an arrowhead at i, i.e. i -> j or i - j (pcalg's amat).
  bool mark(int i, int j) const { return mark_[std::size_t(i) * p_ + j] != 0; }
  void check_pair(int a, int b) const;

  int p_;
  std::vector<char> mark_;
};

// Orients lines of `g` by Meek's (1995) rules R1-R4 until none applies. When `g` is a CPDAG with some lines
// oriented as background knowledge consistent with a DAG, the result is maximally oriented (Meek 1995): each
// line left is oriented each way by some DAG with the same skeleton, v-structures and arcs.
void apply_meek_rules(EssentialGraph& g);

// The I-essential graph of `dag` for the intervention targets `targets`: each target is a list of node indices
// (sorted or not; duplicates are harmless) whose mechanisms one experiment changed; the empty list is the
// observational setting. Hauser & Buehlmann assume the family contains the empty set (observational data);
// this function does too, whether or not `targets` lists it, so `targets = {}` gives the CPDAG.
// An arc is directed exactly when every DAG I-Markov equivalent to `dag` has it; the graph has the skeleton of
// `dag`. Throws tessera::Error when a target names a node outside 0..p-1.
EssentialGraph essential_graph(const Dag& dag, const std::vector<std::vector<int>>& targets = {});

// Structural Hamming distance between two partially directed graphs over the same nodes: over unordered pairs
// {i, j}, 1 for each pair joined differently: missing, extra, a line against an arc, or a reversed arc. As
// pcalg's shd() on CPDAGs, except that every pair counts at most once. Symmetric; shd(g, g) == 0.
int shd(const EssentialGraph& truth, const EssentialGraph& learned);

}  // namespace tessera::solvers::causal
