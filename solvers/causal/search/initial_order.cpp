#include "solvers/causal/search/initial_order.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "engine/task_farm.h"

namespace tessera::solvers::causal {

std::vector<std::vector<char>> partial_correlation_graph(const GaussianCiTest& test) {
  const SettingStats& s = test.stats();
  const int p = s.num_variables();
  const double lambda = test.shrinkage();
  Eigen::MatrixXd corr;
  if (lambda == 0) {  // the arithmetic from before shrinkage existed: bit-identical results
    const Eigen::VectorXd inv_sd = s.cov.diagonal().cwiseSqrt().cwiseInverse();
    corr = inv_sd.asDiagonal() * s.cov * inv_sd.asDiagonal();
  } else {
    corr = test.correlation();
  }
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(corr);
  TESSERA_CHECK(ldlt.info() == Eigen::Success && ldlt.isPositive(),
                "partial_correlation_graph: the observational correlation matrix is not positive definite (", s.n,
                " observational rows, ", p, " variables); use shrinkage (auto, or a value in (0, 1]), or ",
                "add observational rows or drop collinear variables");
  const Eigen::MatrixXd prec = ldlt.solve(Eigen::MatrixXd::Identity(p, p));
  // Under shrinkage each pair's test uses df(U) = |U| - lambda tr(C_UU^-1), U = all but {i, j}
  // (gaussian_ci_test.h). With P = C^-1 and V = {i, j}: C_UU^-1 = P_UU - P_UV P_VV^-1 P_VU, so
  // tr(C_UU^-1) = tr(P) - P_ii - P_jj - tr(P_VV^-1 G), G_ab = sum_{u in U} P_au P_ub = (P^2)_ab - sum_{v in V} P_av
  // P_vb.
  Eigen::MatrixXd prec2;
  double trace = 0;
  if (lambda > 0) {
    prec2.noalias() = prec * prec;
    trace = prec.trace();
  }
  std::vector<std::vector<char>> adj(p, std::vector<char>(p, 0));
  for (int i = 0; i < p; ++i)
    for (int j = i + 1; j < p; ++j) {
      const double r = -prec(i, j) / std::sqrt(prec(i, i) * prec(j, j));
      double cond_size = p - 2;
      if (lambda > 0 && p > 2) {
        const double pii = prec(i, i), pjj = prec(j, j), pij = prec(i, j);
        const double gii = prec2(i, i) - pii * pii - pij * pij;
        const double gjj = prec2(j, j) - pij * pij - pjj * pjj;
        const double gij = prec2(i, j) - pii * pij - pij * pjj;
        const double det = pii * pjj - pij * pij;
        const double tr_inv_vv_g = (pjj * gii - 2 * pij * gij + pii * gjj) / det;
        const double tr_u = trace - pii - pjj - tr_inv_vv_g;
        cond_size = std::clamp(cond_size - lambda * tr_u, 0.0, cond_size);
      }
      if (!(fisher_z_p_value(r, s.n, cond_size) > test.alpha())) adj[i][j] = adj[j][i] = 1;
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

std::vector<std::vector<int>> sparsest_start_orders(const engine::Context& ctx, int candidates, int keep,
                                                    const std::function<std::vector<int>(int)>& order_of,
                                                    const std::function<Dag(const std::vector<int>&)>& imap) {
  std::vector<double> arcs(std::size_t(candidates), 0.0);
  engine::TaskFarm farm;
  farm.what = "starting DAGs";
  farm.task_name = "candidate";
  farm.end = candidates;
  farm.stops_on_signal = false;  // discover's restarts have no safe point either
  farm.task = [&](const engine::Context&, std::int64_t candidate) {
    return std::vector<double>{double(imap(order_of(int(candidate))).num_edges())};
  };
  farm.after_round = [&](const engine::FarmRound& round) {
    for (std::size_t i = 0; i < round.results.size(); ++i)
      arcs[std::size_t(round.first_task) + i] = round.results[i][0];
  };
  engine::run_task_farm(ctx, farm);
  std::vector<int> ranked(static_cast<std::size_t>(candidates));
  std::iota(ranked.begin(), ranked.end(), 0);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](int a, int b) { return arcs[std::size_t(a)] < arcs[std::size_t(b)]; });
  std::vector<std::vector<int>> orders;
  for (int r = 0; r < keep; ++r) orders.push_back(order_of(ranked[std::size_t(r)]));
  return orders;
}

}  // namespace tessera::solvers::causal
