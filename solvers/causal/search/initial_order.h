// Starting permutations for GSP: a minimum-degree elimination ordering of the undirected graph of significant
// partial correlations (each pair given all other variables), with random tie-breaks. The first node
// eliminated becomes the last of the permutation (a simplicial node is a sink whose parents are its neighbours).
#pragma once
#include <functional>
#include <vector>

#include "engine/context.h"
#include "engine/random.h"
#include "solvers/causal/citest/gaussian_ci_test.h"
#include "solvers/causal/dag.h"

namespace tessera::solvers::causal {

// adjacency[i][j] != 0 when i and j are joined (symmetric).
std::vector<std::vector<char>> partial_correlation_graph(const GaussianCiTest& test);

// Elimination with fill-in; ties (equal current degree) broken uniformly at random from `rng`.
std::vector<int> min_degree_order(std::vector<std::vector<char>> adjacency, engine::RandomStream& rng);

// The published GSP's starting DAGs (--start-candidates): of `candidates` starting orders (candidate c is
// order_of(c), its DAG imap(order_of(c))), the `keep` whose DAGs are sparsest, by arcs and then by c. The
// candidates are farmed over the ranks (engine/task_farm.h) and each rank runs imap on its own; every rank returns
// the same orders for any rank count. Collective.
std::vector<std::vector<int>> sparsest_start_orders(const engine::Context& ctx, int candidates, int keep,
                                                    const std::function<std::vector<int>(int)>& order_of,
                                                    const std::function<Dag(const std::vector<int>&)>& imap);

}  // namespace tessera::solvers::causal
