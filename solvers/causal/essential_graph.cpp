#include "solvers/causal/essential_graph.h"

#include <sstream>

#include "engine/error.h"

namespace tessera::solvers::causal {

void EssentialGraph::check_pair(int a, int b) const {
  TESSERA_CHECK(a != b && a >= 0 && b >= 0 && a < p_ && b < p_, "EssentialGraph: bad pair (", a, ", ", b,
                ") in a graph of ", p_, " nodes");
}

void EssentialGraph::set_directed(int from, int to) {
  check_pair(from, to);
  mark_[std::size_t(from) * p_ + to] = 1;
  mark_[std::size_t(to) * p_ + from] = 0;
}

void EssentialGraph::set_undirected(int a, int b) {
  check_pair(a, b);
  mark_[std::size_t(a) * p_ + b] = 1;
  mark_[std::size_t(b) * p_ + a] = 1;
}

void EssentialGraph::remove_edge(int a, int b) {
  check_pair(a, b);
  mark_[std::size_t(a) * p_ + b] = 0;
  mark_[std::size_t(b) * p_ + a] = 0;
}

int EssentialGraph::num_directed() const {
  int n = 0;
  for (int i = 0; i < p_; ++i)
    for (int j = 0; j < p_; ++j) n += directed(i, j);
  return n;
}

int EssentialGraph::num_undirected() const {
  int n = 0;
  for (int i = 0; i < p_; ++i)
    for (int j = i + 1; j < p_; ++j) n += undirected(i, j);
  return n;
}

std::string EssentialGraph::to_string() const {
  std::ostringstream out;
  const char* sep = "";
  for (int i = 0; i < p_; ++i)
    for (int j = i + 1; j < p_; ++j) {
      if (!adjacent(i, j)) continue;
      out << sep;
      sep = " ";
      if (undirected(i, j))
        out << i << '-' << j;
      else if (directed(i, j))
        out << i << "->" << j;
      else
        out << j << "->" << i;
    }
  return out.str();
}

namespace {

// Whether one of Meek's (1995) rules forces the line a - b of `g` to be a -> b. Each rule is sound for the DAGs
// that share the skeleton, the v-structures and the arcs of `g` (an I-Markov equivalence class is such a set):
// b -> a would create a new v-structure or a cycle in each of them.
bool meek_orients(const EssentialGraph& g, int a, int b) {
  const int p = g.num_nodes();
  for (int c = 0; c < p; ++c) {
    if (c == a || c == b) continue;
    // R1: c -> a - b, c and b not adjacent. (b -> a would make the v-structure c -> a <- b.)
    if (g.directed(c, a) && !g.adjacent(c, b)) return true;
    // R2: a -> c -> b and a - b. (b -> a would close the cycle a -> c -> b -> a.)
    if (g.directed(a, c) && g.directed(c, b)) return true;
  }
  for (int c = 0; c < p; ++c) {
    if (c == a || c == b) continue;
    for (int d = 0; d < p; ++d) {
      if (d == a || d == b || d == c) continue;
      // R3: a - c -> b, a - d -> b, c and d not adjacent. (With b -> a, acyclicity forces c -> a <- d, a new
      // v-structure.)
      if (c < d && g.undirected(a, c) && g.undirected(a, d) && g.directed(c, b) && g.directed(d, b) &&
          !g.adjacent(c, d))
        return true;
      // R4: a - d -> c -> b, a adjacent to c, d and b not adjacent. (With b -> a, acyclicity forces d -> a,
      // and d -> a <- b is a new v-structure.) Needed only with background knowledge; CPDAGs never use it, nor
      // do I-essential graphs (Hauser & Buehlmann's strongly protected arrows use R1-R3 configurations only),
      // but apply_meek_rules() accepts any background knowledge.
      if (g.undirected(a, d) && g.directed(d, c) && g.directed(c, b) && g.adjacent(a, c) && !g.adjacent(d, b))
        return true;
    }
  }
  return false;
}

}  // namespace

void apply_meek_rules(EssentialGraph& g) {
  const int p = g.num_nodes();
  for (bool changed = true; changed;) {
    changed = false;
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b)
        if (a != b && g.undirected(a, b) && meek_orients(g, a, b)) {
          g.set_directed(a, b);
          changed = true;
        }
  }
}

EssentialGraph essential_graph(const Dag& dag, const std::vector<std::vector<int>>& targets) {
  const int p = dag.num_nodes();
  // in_target[t][v]: node v is in target t. The empty target needs no row: it separates no pair.
  std::vector<std::vector<char>> in_target;
  for (const auto& target : targets) {
    std::vector<char> member(p, 0);
    for (int v : target) {
      TESSERA_CHECK(v >= 0 && v < p, "essential_graph: target node ", v, " is outside 0..", p - 1);
      member[v] = 1;
    }
    in_target.push_back(std::move(member));
  }

  // Start: the skeleton, with the arcs that every I-equivalent DAG shares drawn directed. Hauser & Buehlmann
  // (JMLR 2012) characterise I-Markov equivalence for a family that contains the empty set: D1 and D2 are
  // equivalent iff they have the same skeleton and v-structures (Verma & Pearl) and, for every target I, the
  // same arcs between I and its complement (the intervention graphs D^(I) have the same skeleton). So an arc
  // in a v-structure and an arc with exactly one end in some target are I-compelled from the outset.
  EssentialGraph g(p);
  for (const auto& [a, b] : dag.edges()) {
    bool compelled = false;
    for (int c : dag.parents(b))
      if (c != a && !dag.adjacent(a, c)) compelled = true;  // v-structure a -> b <- c
    for (const auto& member : in_target)
      if (member[a] != member[b]) compelled = true;  // the target separates a from b
    if (compelled)
      g.set_directed(a, b);
    else
      g.set_undirected(a, b);
  }

  // Close under Meek's rules R1-R4. Meek (UAI 1995, "Causal inference and causal explanation with background
  // knowledge") shows the rules are complete given background knowledge of some arcs: at the fixed point, each
  // line a - b is oriented each way by some DAG with this skeleton, these v-structures and the arcs drawn.
  // With the arcs above as the background knowledge, those DAGs are the I-Markov equivalence class, so the
  // result is the I-essential graph.
  apply_meek_rules(g);
  return g;
}

int shd(const EssentialGraph& truth, const EssentialGraph& learned) {
  TESSERA_CHECK(truth.num_nodes() == learned.num_nodes(), "shd: graphs of ", truth.num_nodes(), " and ",
                learned.num_nodes(), " nodes");
  int d = 0;
  for (int a = 0; a < truth.num_nodes(); ++a)
    for (int b = a + 1; b < truth.num_nodes(); ++b) {
      // The pair's mark is fixed by (a -> b or a - b, b -> a or b - a); any difference counts once.
      const bool same = truth.directed(a, b) == learned.directed(a, b) &&
                        truth.directed(b, a) == learned.directed(b, a) &&
                        truth.undirected(a, b) == learned.undirected(a, b);
      if (!same) ++d;
    }
  return d;
}

}  // namespace tessera::solvers::causal
