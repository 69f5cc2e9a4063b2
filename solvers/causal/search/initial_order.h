// Starting permutations for GSP: a minimum-degree elimination ordering of the undirected graph of significant
// partial correlations (each pair given all other variables), with random tie-breaks. The first node
// eliminated becomes the last of the permutation (a simplicial node is a sink whose parents are its neighbours).
#pragma once
#include <vector>

#include "engine/random.h"
#include "solvers/causal/citest/gaussian_ci_test.h"

namespace tessera::solvers::causal {

// adjacency[i][j] != 0 when i and j are joined (symmetric).
std::vector<std::vector<char>> partial_correlation_graph(const GaussianCiTest& test);

// Elimination with fill-in; ties (equal current degree) broken uniformly at random from `rng`.
std::vector<int> min_degree_order(std::vector<std::vector<char>> adjacency, engine::RandomStream& rng);

}  // namespace tessera::solvers::causal
