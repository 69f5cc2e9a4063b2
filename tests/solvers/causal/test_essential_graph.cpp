// The interventional essential graph (Hauser & Buehlmann 2012) against hand-derived graphs and against the
// I-Markov equivalence class enumerated by brute force, and the SHD between partially directed graphs.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <set>
#include <sstream>
#include <string>

#include "engine/error.h"
#include "engine/random.h"
#include "solvers/causal/essential_graph.h"
#include "solvers/causal/evaluation.h"
#include "solvers/causal/random_dag.h"

namespace tessera::solvers::causal {

// GoogleTest prints a failing graph as its edge list.
void PrintTo(const EssentialGraph& g, std::ostream* out) { *out << '"' << g.to_string() << '"'; }

namespace {

using Targets = std::vector<std::vector<int>>;

Dag make_dag(int p, const std::vector<Arc>& arcs) {
  Dag g(p);
  for (const auto& [i, j] : arcs) g.add_edge(i, j);
  return g;
}

EssentialGraph make_graph(int p, const std::vector<Arc>& arcs, const std::vector<Arc>& lines) {
  EssentialGraph g(p);
  for (const auto& [i, j] : arcs) g.set_directed(i, j);
  for (const auto& [i, j] : lines) g.set_undirected(i, j);
  return g;
}

EssentialGraph all_directed(const Dag& dag) {
  EssentialGraph g(dag.num_nodes());
  for (const auto& [i, j] : dag.edges()) g.set_directed(i, j);
  return g;
}

bool acyclic(const Dag& g) {
  try {
    g.topological_order();
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Hauser & Buehlmann's characterisation (family with the empty set): same skeleton and v-structures, and for
// every target the same arcs between it and its complement.
bool i_equivalent(const Dag& a, const Dag& b, const Targets& targets) {
  if (!markov_equivalent(a, b)) return false;
  for (const auto& target : targets) {
    std::vector<char> in(a.num_nodes(), 0);
    for (int v : target) in[v] = 1;
    for (const auto& [i, j] : a.edges())
      if (in[i] != in[j] && !b.has_edge(i, j)) return false;
  }
  return true;
}

// Every acyclic orientation of the skeleton of `dag` that is I-equivalent to it.
std::vector<Dag> i_class_by_orientations(const Dag& dag, const Targets& targets) {
  const auto skeleton = dag.edges();
  const int m = int(skeleton.size());
  std::vector<Dag> out;
  for (unsigned mask = 0; mask < (1u << m); ++mask) {
    Dag g(dag.num_nodes());
    for (int e = 0; e < m; ++e) {
      const auto [i, j] = skeleton[e];
      if (mask >> e & 1u)
        g.add_edge(j, i);
      else
        g.add_edge(i, j);
    }
    if (acyclic(g) && i_equivalent(dag, g, targets)) out.push_back(g);
  }
  return out;
}

// The same class reached another way: reversals of covered arcs that no target separates connect the
// I-Markov equivalence class (Chickering 1995; Hauser & Buehlmann 2012). Empty when it exceeds `cap`.
std::vector<Dag> i_class_by_covered_reversals(const Dag& dag, const Targets& targets, std::size_t cap) {
  std::set<std::vector<Arc>> seen{dag.edges()};
  std::vector<Dag> out{dag};
  std::deque<Dag> queue{dag};
  while (!queue.empty()) {
    Dag g = queue.front();
    queue.pop_front();
    for (const auto& [i, j] : g.covered_arcs()) {
      bool separated = false;
      for (const auto& target : targets) {
        int hits = 0;
        for (int v : target) hits += (v == i) + (v == j);
        separated |= hits == 1;
      }
      if (separated) continue;
      Dag h = g;
      h.remove_edge(i, j);
      h.add_edge(j, i);
      if (!seen.insert(h.edges()).second) continue;
      if (out.size() >= cap) return {};
      out.push_back(h);
      queue.push_back(h);
    }
  }
  return out;
}

// What the essential graph must be: an arc where every member agrees, a line where members disagree.
EssentialGraph graph_of_class(const std::vector<Dag>& members) {
  const int p = members.front().num_nodes();
  EssentialGraph g(p);
  for (const auto& [i, j] : members.front().edges()) {
    int forward = 0;
    for (const auto& d : members) forward += d.has_edge(i, j);
    if (forward == int(members.size()))
      g.set_directed(i, j);
    else if (forward == 0)
      g.set_directed(j, i);
    else
      g.set_undirected(i, j);
  }
  return g;
}

Dag random_small_dag(int p, double density, engine::RandomStream& rng) {
  std::vector<int> order(p);
  for (int v = 0; v < p; ++v) order[v] = v;
  rng.shuffle(order);
  Dag g(p);
  for (int a = 0; a < p; ++a)
    for (int b = a + 1; b < p; ++b)
      if (rng.bernoulli(density)) g.add_edge(order[a], order[b]);
  return g;
}

// 0 to 3 targets, each empty, one node or two distinct nodes.
Targets random_targets(int p, engine::RandomStream& rng) {
  Targets out(rng.uniform_int(4));
  for (auto& target : out) {
    const int size = int(rng.uniform_int(3));
    if (size >= 1) target.push_back(int(rng.uniform_int(p)));
    if (size == 2) {
      int v = int(rng.uniform_int(p - 1));
      target.push_back(v >= target[0] ? v + 1 : v);
      std::sort(target.begin(), target.end());
    }
  }
  return out;
}

std::string describe(const Dag& dag, const Targets& targets) {
  std::ostringstream out;
  out << "dag:";
  for (const auto& [i, j] : dag.edges()) out << ' ' << i << "->" << j;
  out << " targets:";
  for (const auto& target : targets) {
    out << " {";
    for (std::size_t k = 0; k < target.size(); ++k) out << (k ? "," : "") << target[k];
    out << '}';
  }
  return out.str();
}

// --- the graph type ---

TEST(EssentialGraph, MarksAndCounts) {
  EssentialGraph g(4);
  g.set_directed(0, 1);
  g.set_undirected(1, 2);
  g.set_directed(3, 2);
  EXPECT_TRUE(g.directed(0, 1));
  EXPECT_FALSE(g.directed(1, 0));
  EXPECT_FALSE(g.undirected(0, 1));
  EXPECT_TRUE(g.undirected(1, 2) && g.undirected(2, 1));
  EXPECT_FALSE(g.directed(1, 2) || g.directed(2, 1));
  EXPECT_TRUE(g.adjacent(2, 3) && g.adjacent(3, 2));
  EXPECT_FALSE(g.adjacent(0, 3));
  EXPECT_EQ(g.num_directed(), 2);
  EXPECT_EQ(g.num_undirected(), 1);
  EXPECT_EQ(g.to_string(), "0->1 1-2 3->2");
  g.set_directed(2, 1);  // replaces the line
  g.remove_edge(3, 2);
  EXPECT_EQ(g.to_string(), "0->1 2->1");
  EXPECT_EQ(g.num_directed(), 2);
  EXPECT_EQ(g.num_undirected(), 0);
  EXPECT_THROW(g.set_directed(1, 1), Error);
  EXPECT_THROW(g.set_undirected(0, 4), Error);
}

// --- hand-derived essential graphs (a = 0, b = 1, c = 2, d = 3) ---

TEST(EssentialGraphHand, ChainIsAllUndirected) {
  const Dag chain = make_dag(3, {{0, 1}, {1, 2}});
  EXPECT_EQ(essential_graph(chain), make_graph(3, {}, {{0, 1}, {1, 2}}));
  EXPECT_EQ(essential_graph(chain, {{}}), essential_graph(chain));
}

TEST(EssentialGraphHand, ColliderStaysDirected) {
  const Dag collider = make_dag(3, {{0, 1}, {2, 1}});
  EXPECT_EQ(essential_graph(collider), make_graph(3, {{0, 1}, {2, 1}}, {}));
}

TEST(EssentialGraphHand, MeekR1OrientsTheArcOutOfACollider) {
  // a -> b <- c, b -> d: a -> b - d with a, d not adjacent forces b -> d.
  const Dag g = make_dag(4, {{0, 1}, {2, 1}, {1, 3}});
  EXPECT_EQ(essential_graph(g), make_graph(4, {{0, 1}, {2, 1}, {1, 3}}, {}));
}

TEST(EssentialGraphHand, MeekR2) {
  // a -> c <- b (v-structure), c -> d (R1 from b), a -> d: a -> c -> d and a - d give a -> d by R2 only
  // (R1 cannot: nothing points into a, and c -> d has c adjacent to a).
  const Dag g = make_dag(4, {{0, 2}, {1, 2}, {2, 3}, {0, 3}});
  EXPECT_EQ(essential_graph(g), make_graph(4, {{0, 2}, {1, 2}, {2, 3}, {0, 3}}, {}));
}

TEST(EssentialGraphHand, MeekR3) {
  // a -> c, a -> d, c -> b <- d (v-structure), a -> b: a - c -> b, a - d -> b with c, d not adjacent forces
  // a -> b; a - c and a - d stay lines (c <- a -> d, c -> a -> d and c <- a <- d are all in the class).
  const Dag g = make_dag(4, {{0, 2}, {0, 3}, {2, 1}, {3, 1}, {0, 1}});
  EXPECT_EQ(essential_graph(g), make_graph(4, {{2, 1}, {3, 1}, {0, 1}}, {{0, 2}, {0, 3}}));
}

TEST(EssentialGraphHand, MeekR4WithBackgroundKnowledge) {
  // Lines a - b, a - c, a - d and background arcs d -> c -> b, with b and d not adjacent: a - d -> c -> b with
  // a adjacent to c forces a -> b (b -> a would force d -> a, a new v-structure d -> a <- b). R1-R3 do not
  // apply, and nothing else is forced (a -> c, a -> d, a -> b extends it to a DAG).
  EssentialGraph g = make_graph(4, {{3, 2}, {2, 1}}, {{0, 1}, {0, 2}, {0, 3}});
  apply_meek_rules(g);
  EXPECT_EQ(g, make_graph(4, {{3, 2}, {2, 1}, {0, 1}}, {{0, 2}, {0, 3}})) << g.to_string();
}

TEST(EssentialGraphHand, InterventionsOnAChain) {
  const Dag chain = make_dag(3, {{0, 1}, {1, 2}});
  // {b} separates b from both neighbours.
  EXPECT_EQ(essential_graph(chain, {{}, {1}}), make_graph(3, {{0, 1}, {1, 2}}, {}));
  // {a} orients a -> b; then R1 orients b -> c.
  EXPECT_EQ(essential_graph(chain, {{0}}), make_graph(3, {{0, 1}, {1, 2}}, {}));
  // {c} orients b -> c only: R1 needs an arc into b.
  EXPECT_EQ(essential_graph(chain, {{2}}), make_graph(3, {{1, 2}}, {{0, 1}}));
  // {a, b} separates b from c, not a from b.
  EXPECT_EQ(essential_graph(chain, {{0, 1}}), make_graph(3, {{1, 2}}, {{0, 1}}));
  // The empty target is assumed: listing it changes nothing; so is the order of a target's nodes.
  EXPECT_EQ(essential_graph(chain, {{1}}), essential_graph(chain, {{}, {1}}));
  EXPECT_EQ(essential_graph(chain, {{1, 0}}), essential_graph(chain, {{0, 1}}));
}

TEST(EssentialGraphHand, BadTargetThrows) {
  const Dag chain = make_dag(3, {{0, 1}, {1, 2}});
  EXPECT_THROW(essential_graph(chain, {{3}}), Error);
  EXPECT_THROW(essential_graph(chain, {{-1}}), Error);
}

// --- brute force ---

TEST(EssentialGraphBruteForce, MatchesEveryOrientationOfTheSkeleton) {
  engine::RandomStream rng(20240611, "test/essential_graph/brute_force");
  int with_lines = 0, interventions_helped = 0, members_total = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int p = 3 + int(rng.uniform_int(3));
    const Dag dag = random_small_dag(p, rng.uniform(0.3, 0.9), rng);
    const Targets targets = random_targets(p, rng);
    const std::vector<Dag> members = i_class_by_orientations(dag, targets);
    ASSERT_FALSE(members.empty());  // the DAG itself
    members_total += int(members.size());

    const EssentialGraph expected = graph_of_class(members);
    const EssentialGraph got = essential_graph(dag, targets);
    ASSERT_EQ(got, expected) << describe(dag, targets) << "\n got:      " << got.to_string()
                             << "\n expected: " << expected.to_string();
    // Every member has the same essential graph.
    for (const auto& member : members) ASSERT_EQ(essential_graph(member, targets), got) << describe(member, targets);

    with_lines += got.num_undirected() > 0;
    interventions_helped += got.num_undirected() < essential_graph(dag).num_undirected();
  }
  // The sample must reach the interesting cases, not only trivial ones.
  EXPECT_GT(with_lines, 50);
  EXPECT_GT(interventions_helped, 30);
  EXPECT_GT(members_total, 600);
}

TEST(EssentialGraphBruteForce, MatchesTheCoveredReversalClassOnLargerGraphs) {
  engine::RandomStream rng(7, "test/essential_graph/covered_reversals");
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int p = 6 + int(rng.uniform_int(5));
    const Dag dag = random_er_dag(p, rng.uniform(2.0, 4.0), rng);
    const Targets targets = random_targets(p, rng);
    const auto members = i_class_by_covered_reversals(dag, targets, 20000);
    if (members.empty()) continue;  // class too large to list
    ++checked;
    const EssentialGraph got = essential_graph(dag, targets);
    ASSERT_EQ(got, graph_of_class(members)) << describe(dag, targets) << "\n got: " << got.to_string();
  }
  EXPECT_GT(checked, 50);
}

TEST(EssentialGraphBruteForce, MeekRulesAreCompleteForBackgroundKnowledge) {
  // The CPDAG of a random DAG with a random subset of its lines oriented as in the DAG: after the rules, a line
  // is left exactly where the Markov equivalent DAGs that have those arcs disagree (Meek 1995). This is where
  // R4 matters.
  engine::RandomStream rng(5, "test/essential_graph/background");
  int oriented_by_rules = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int p = 4 + int(rng.uniform_int(3));
    const Dag dag = random_small_dag(p, rng.uniform(0.4, 0.9), rng);
    EssentialGraph g = essential_graph(dag);
    std::vector<Arc> known;
    for (const auto& [i, j] : dag.edges())
      if (g.undirected(i, j) && rng.bernoulli(0.3)) {
        g.set_directed(i, j);
        known.push_back({i, j});
      }
    const int lines_before = g.num_undirected();
    apply_meek_rules(g);
    oriented_by_rules += lines_before - g.num_undirected();

    std::vector<Dag> members;
    for (const auto& d : i_class_by_orientations(dag, {})) {
      bool has_all = true;
      for (const auto& [i, j] : known) has_all &= d.has_edge(i, j);
      if (has_all) members.push_back(d);
    }
    const EssentialGraph expected = graph_of_class(members);
    ASSERT_EQ(g, expected) << describe(dag, {}) << "\n got:      " << g.to_string()
                           << "\n expected: " << expected.to_string();
  }
  EXPECT_GT(oriented_by_rules, 50);
}

// --- properties on bigger graphs ---

TEST(EssentialGraphProperties, SkeletonArcsAndMonotonicity) {
  engine::RandomStream rng(11, "test/essential_graph/properties");
  for (int trial = 0; trial < 20; ++trial) {
    const int p = 20 + int(rng.uniform_int(11));
    const Dag dag = random_er_dag(p, 3.0, rng);
    const EssentialGraph cpdag = essential_graph(dag);
    // Same skeleton; every arc as in the DAG.
    EXPECT_EQ(cpdag.num_edges(), dag.num_edges());
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j) {
        if (i == j) continue;
        EXPECT_EQ(cpdag.adjacent(i, j), dag.adjacent(i, j));
        if (cpdag.directed(i, j)) {
          EXPECT_TRUE(dag.has_edge(i, j));
        }
      }
    // More targets, a smaller class: no arc is lost, no line appears.
    Targets targets;
    EssentialGraph previous = cpdag;
    for (int k = 0; k < 4; ++k) {
      targets.push_back({int(rng.uniform_int(p))});
      const EssentialGraph next = essential_graph(dag, targets);
      for (int i = 0; i < p; ++i)
        for (int j = 0; j < p; ++j)
          if (i != j && previous.directed(i, j)) {
            EXPECT_TRUE(next.directed(i, j));
          }
      previous = next;
    }
    // Intervening on every node singly identifies the DAG.
    Targets singles;
    for (int v = 0; v < p; ++v) singles.push_back({v});
    EXPECT_EQ(essential_graph(dag, singles), all_directed(dag));
  }
}

// --- SHD ---

TEST(EssentialGraphShd, HandExample) {
  // truth: 0 -> 1, 1 - 2, 2 -> 3, 0 - 4
  // learned: 1 -> 0 (reversed), 1 -> 2 (arc for a line), 2 - 3 absent (missing), 0 - 4 (same), 3 - 4 (extra).
  const EssentialGraph truth = make_graph(5, {{0, 1}, {2, 3}}, {{1, 2}, {0, 4}});
  const EssentialGraph learned = make_graph(5, {{1, 0}, {1, 2}}, {{0, 4}, {3, 4}});
  EXPECT_EQ(shd(truth, learned), 4);
  EXPECT_EQ(shd(learned, truth), 4);
  EXPECT_EQ(shd(truth, truth), 0);
  EXPECT_EQ(shd(truth, EssentialGraph(5)), 4);
  EXPECT_THROW(shd(truth, EssentialGraph(4)), Error);
}

TEST(EssentialGraphShd, SymmetricAndAgreesWithDagShdOnFullyDirectedGraphs) {
  engine::RandomStream rng(3, "test/essential_graph/shd");
  for (int trial = 0; trial < 100; ++trial) {
    const int p = 3 + int(rng.uniform_int(6));
    const Dag a = random_small_dag(p, 0.5, rng), b = random_small_dag(p, 0.5, rng);
    EXPECT_EQ(shd(all_directed(a), all_directed(b)), shd(a, b));
    const EssentialGraph ea = essential_graph(a), eb = essential_graph(b, random_targets(p, rng));
    EXPECT_EQ(shd(ea, eb), shd(eb, ea));
    EXPECT_EQ(shd(ea, ea), 0);
    // A DAG against its own essential graph: one per line.
    EXPECT_EQ(shd(all_directed(a), ea), ea.num_undirected());
  }
}

// metrics.csv's two essential-graph SHDs on a hand case: the chain 0 -> 1 -> 2 with node 1 intervened, learned as
// 2 -> 1 -> 0 with no targets (what gsp returns). The observational CPDAGs are both the line 0 - 1 - 2 (0); under
// the true target the truth's arcs are both oriented, the learned lines are not (2).
TEST(DiscoveryMetrics, GspIsChargedOnlyForWhatTheInterventionsReveal) {
  Dag truth(3), learned(3);
  truth.add_edge(0, 1);
  truth.add_edge(1, 2);
  learned.add_edge(2, 1);
  learned.add_edge(1, 0);
  const auto m = evaluate_discovery(truth, {{}, {1}}, learned, {{}, {}});
  EXPECT_EQ(m.shd, 2);
  EXPECT_EQ(m.observational_essential_shd, 0);
  EXPECT_EQ(m.essential_shd, 2);
}

}  // namespace
}  // namespace tessera::solvers::causal
