#include "solvers/causal/search/initial_order.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::causal {

std::vector<std::vector<char>> partial_correlation_graph(const GaussianCiTest& test) {
  const SettingStats& s = test.stats();
  const int p = s.num_variables();
  const Eigen::VectorXd inv_sd = s.cov.diagonal().cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd corr = inv_sd.asDiagonal() * s.cov * inv_sd.asDiagonal();
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(corr);
  TESSERA_CHECK(ldlt.info() == Eigen::Success && ldlt.isPositive(),
                "partial_correlation_graph: the observational covariance is not positive definite (",
                s.n, " observational rows, ", p, " variables); Gaussian tests need more observational rows than ",
                "variables and no collinear columns");
  const Eigen::MatrixXd prec = ldlt.solve(Eigen::MatrixXd::Identity(p, p));
  std::vector<std::vector<char>> adj(p, std::vector<char>(p, 0));
  for (int i = 0; i < p; ++i)
    for (int j = i + 1; j < p; ++j) {
      const double r = -prec(i, j) / std::sqrt(prec(i, i) * prec(j, j));
      if (!(fisher_z_p_value(r, s.n, p - 2) > test.alpha())) adj[i][j] = adj[j][i] = 1;
    }
  return adj;
}

std::vector<int> min_degree_order(std::vector<std::vector<char>> adj, engine::RandomStream& rng) {
  const int p = int(adj.size());
  std::vector<int> degree(p, 0);
  for (int i = 0; i < p; ++i) degree[i] = int(std::count(adj[i].begin(), adj[i].end(), 1));
  std::vector<char> alive(p, 1);
  std::vector<int> eliminated, ties, nbrs;
  for (int step = 0; step < p; ++step) {
    int best = p + 1;
    ties.clear();
    for (int i = 0; i < p; ++i) {
      if (!alive[i]) continue;
      if (degree[i] < best) {
        best = degree[i];
        ties.clear();
      }
      if (degree[i] == best) ties.push_back(i);
    }
    const int v = ties[rng.uniform_int(ties.size())];
    nbrs.clear();
    for (int u = 0; u < p; ++u)
      if (alive[u] && adj[v][u]) nbrs.push_back(u);
    // Fill-in: the neighbours of v become a clique.
    for (std::size_t a = 0; a < nbrs.size(); ++a)
      for (std::size_t b = a + 1; b < nbrs.size(); ++b)
        if (!adj[nbrs[a]][nbrs[b]]) {
          adj[nbrs[a]][nbrs[b]] = adj[nbrs[b]][nbrs[a]] = 1;
          ++degree[nbrs[a]];
          ++degree[nbrs[b]];
        }
    for (int u : nbrs) --degree[u];
    alive[v] = 0;
    eliminated.push_back(v);
  }
  std::reverse(eliminated.begin(), eliminated.end());
  return eliminated;
}

}  // namespace tessera::solvers::causal
