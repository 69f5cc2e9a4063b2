#include "solvers/causal/score/minimal_imap.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::causal {

EdgeConstraints::EdgeConstraints(int p, const std::vector<Arc>& required, const std::vector<Arc>& forbidden) {
  auto fill = [p](std::vector<std::vector<char>>& m, const std::vector<Arc>& arcs, const char* what) {
    if (arcs.empty()) return;
    m.assign(p, std::vector<char>(p, 0));
    for (const auto& [i, j] : arcs) {
      TESSERA_CHECK(i >= 0 && j >= 0 && i < p && j < p && i != j, what, " arc ", i, " -> ", j,
                    " is not an arc between two of the ", p, " variables");
      m[i][j] = 1;
    }
  };
  fill(required_, required, "required");
  fill(forbidden_, forbidden, "forbidden");
  for (const auto& [i, j] : required)
    TESSERA_CHECK(!this->forbidden(i, j), "arc ", i, " -> ", j, " is both required and forbidden");
  Dag g(p);
  for (const auto& [i, j] : required) g.add_edge(i, j);
  g.topological_order();  // throws when the required arcs form a cycle
}

std::vector<int> EdgeConstraints::respect_required(const std::vector<int>& order) const {
  if (required_.empty()) return order;
  const int p = int(order.size());
  std::vector<int> missing(p, 0), out;
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) missing[j] += required_[i][j];
  std::vector<char> done(p, 0);
  while (int(out.size()) < p) {
    for (int v : order) {  // the earliest node of `order` whose required parents are placed
      if (done[v] || missing[v] > 0) continue;
      done[v] = 1;
      out.push_back(v);
      for (int j = 0; j < p; ++j) missing[j] -= required_[v][j];
      break;
    }
  }
  return out;
}

Dag minimal_imap(const std::vector<int>& order, CiTest& test, const EdgeConstraints& constraints) {
  const int p = int(order.size());
  Dag dag(p);
  std::vector<int> cond;
  for (int b = 1; b < p; ++b)
    for (int a = 0; a < b; ++a) {
      cond.clear();
      for (int c = 0; c < b; ++c)
        if (c != a) cond.push_back(order[c]);
      if (constraints.forbidden(order[a], order[b])) continue;
      if (constraints.required(order[a], order[b]) || !test.independent(order[a], order[b], cond))
        dag.add_edge(order[a], order[b]);
    }
  return dag;
}

Dag minimal_imap_gaussian(const std::vector<int>& order, const GaussianCiTest& test,
                          const EdgeConstraints& constraints) {
  const int p = int(order.size());
  const SettingStats& s = test.stats();
  TESSERA_CHECK(s.num_variables() == p, "minimal_imap_gaussian: order of ", p, " nodes for ", s.num_variables(),
                " variables");
  Dag dag(p);
  if (p == 0) return dag;
  const double lambda = test.shrinkage();
  Eigen::MatrixXd c(p, p);  // permuted correlation matrix
  if (lambda == 0) {
    // Unshrunk: the same arithmetic as before shrinkage existed, so results are bit-identical.
    const Eigen::VectorXd inv_sd = s.cov.diagonal().cwiseSqrt().cwiseInverse();
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) c(a, b) = s.cov(order[a], order[b]) * inv_sd(order[a]) * inv_sd(order[b]);
  } else {
    const Eigen::MatrixXd& r = test.correlation();  // R_lambda
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) c(a, b) = r(order[a], order[b]);
  }
  Eigen::MatrixXd prec = Eigen::MatrixXd::Zero(p, p);  // leading t x t block = inverse of c's leading block
  prec(0, 0) = 1 / c(0, 0);
  Eigen::VectorXd u(p), drop(p);  // drop(a) = |P e_a|^2 / P_aa, before P grows
  for (int t = 1; t < p; ++t) {
    // Under shrinkage, the test of (order[a], order[t]) given S = {order[0..t)} \ {order[a]} uses the effective
    // size df(S) = |S| - lambda tr(C_SS^-1) (see gaussian_ci_test.h). With P = C_LL^-1 for L = {order[0..t)},
    // the inverse of the block without a is P - P e_a e_a' P / P_aa, so tr(C_SS^-1) = tr(P) - |P e_a|^2 / P_aa.
    double trace = 0;
    if (lambda > 0) {
      const Eigen::MatrixXd full = prec.topLeftCorner(t, t).selfadjointView<Eigen::Lower>();
      drop.head(t) = full.colwise().squaredNorm().transpose().cwiseQuotient(full.diagonal());
      trace = full.trace();
    }
    // Block inverse: u = P b, s = c_tt - b' P b; new P = [[P + u u'/s, -u/s], [-u'/s, 1/s]].
    const auto b = c.col(t).head(t);
    u.head(t).noalias() = prec.topLeftCorner(t, t).selfadjointView<Eigen::Lower>() * b;
    const double schur = c(t, t) - b.dot(u.head(t));
    TESSERA_CHECK(schur > 1e-12, "the observational correlation matrix is singular (", s.n, " rows, ", p,
                  " variables; variable ", order[t], " (counted from 0) is a linear combination of others); use ",
                  "--shrinkage (auto, or a larger value in (0, 1]) or drop collinear variables");
    prec.topLeftCorner(t, t).selfadjointView<Eigen::Lower>().rankUpdate(u.head(t), 1 / schur);
    prec.row(t).head(t) = -u.head(t).transpose() / schur;
    prec(t, t) = 1 / schur;
    for (int a = 0; a < t; ++a) {
      if (constraints.forbidden(order[a], order[t])) continue;
      const double r = -prec(t, a) / std::sqrt(prec(a, a) * prec(t, t));
      double cond_size = t - 1;
      if (lambda > 0 && t > 1) cond_size = std::clamp(cond_size - lambda * (trace - drop(a)), 0.0, cond_size);
      if (constraints.required(order[a], order[t]) || !(fisher_z_p_value(r, s.n, cond_size) > test.alpha()))
        dag.add_edge(order[a], order[t]);
    }
  }
  return dag;
}

void reverse_covered_arc(Dag& dag, int from, int to, CiTest& test, const EdgeConstraints& constraints) {
  TESSERA_ASSERT(dag.is_covered(from, to));
  const std::vector<int> a = dag.parents(from);
  std::vector<int> pa_from{to}, pa_to, cond;
  for (int k : a) {
    cond.clear();
    for (int x : a)
      if (x != k) cond.push_back(x);
    if (constraints.required(k, to) || !test.independent(to, k, cond)) pa_to.push_back(k);
    cond.push_back(to);
    if (constraints.required(k, from) || !test.independent(from, k, cond)) pa_from.push_back(k);
  }
  dag.set_parents(from, std::move(pa_from));
  dag.set_parents(to, std::move(pa_to));
}

}  // namespace tessera::solvers::causal
