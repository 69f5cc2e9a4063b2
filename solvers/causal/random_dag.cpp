#include "solvers/causal/random_dag.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "engine/error.h"

namespace tessera::solvers::causal {

Dag random_er_dag(int p, double expected_degree, engine::RandomStream& rng) {
  TESSERA_CHECK(p >= 1 && expected_degree >= 0, "random_er_dag: p = ", p, ", expected degree ", expected_degree);
  std::vector<int> order(p);
  std::iota(order.begin(), order.end(), 0);
  rng.shuffle(order);
  const double prob = p > 1 ? std::min(1.0, expected_degree / (p - 1)) : 0.0;
  Dag dag(p);
  for (int a = 0; a < p; ++a)
    for (int b = a + 1; b < p; ++b)
      if (rng.bernoulli(prob)) dag.add_edge(order[a], order[b]);
  return dag;
}

Dag random_scale_free_dag(int p, double expected_degree, engine::RandomStream& rng) {
  TESSERA_CHECK(p >= 1 && expected_degree >= 0, "random_scale_free_dag: p = ", p, ", expected degree ",
                expected_degree);
  std::vector<int> order(p);
  std::iota(order.begin(), order.end(), 0);
  rng.shuffle(order);
  const double per_node = expected_degree / 2;
  std::vector<double> weight;  // degree + 1 of each node already placed, in order of arrival
  Dag dag(p);
  for (int a = 0; a < p; ++a) {
    int wanted = int(per_node) + (rng.bernoulli(per_node - std::floor(per_node)) ? 1 : 0);
    wanted = std::min(wanted, a);
    for (int chosen = 0; chosen < wanted;) {
      // Draw by weight; a node drawn twice is drawn again.
      double total = 0;
      for (double w : weight) total += w;
      double u = rng.uniform() * total;
      int b = 0;
      while (b + 1 < a && u >= weight[std::size_t(b)]) u -= weight[std::size_t(b++)];
      if (dag.has_edge(order[b], order[a])) continue;
      dag.add_edge(order[b], order[a]);
      weight[std::size_t(b)] += 1;
      ++chosen;
    }
    weight.push_back(1.0 + wanted);
  }
  return dag;
}

LinearSem random_linear_sem(const Dag& dag, engine::RandomStream& rng, double low, double high) {
  const int p = dag.num_nodes();
  LinearSem sem{dag, Eigen::MatrixXd::Zero(p, p), Eigen::VectorXd::Ones(p)};
  for (const auto& [i, j] : dag.edges()) {
    const double w = rng.uniform(low, high);
    sem.weights(i, j) = rng.bernoulli(0.5) ? w : -w;
  }
  return sem;
}

Eigen::MatrixXd population_covariance(const LinearSem& sem) {
  const int p = sem.dag.num_nodes();
  const Eigen::MatrixXd inv = (Eigen::MatrixXd::Identity(p, p) - sem.weights).inverse();
  return inv.transpose() * sem.noise_var.asDiagonal() * inv;
}

Eigen::MatrixXd sample_sem(const LinearSem& sem, int n, const Intervention& iv, engine::RandomStream& rng) {
  const int p = sem.dag.num_nodes();
  std::vector<char> targeted(p, 0);
  for (int t : iv.targets) {
    TESSERA_CHECK(t >= 0 && t < p, "sample_sem: target ", t, " out of range");
    targeted[t] = 1;
  }
  const std::vector<int> order = sem.dag.topological_order();
  Eigen::MatrixXd x(n, p);
  for (int r = 0; r < n; ++r)
    for (int j : order) {
      if (targeted[j] && iv.kind == Intervention::Kind::kPerfect) {
        x(r, j) = iv.value + std::sqrt(iv.variance) * rng.normal();
        continue;
      }
      double v = std::sqrt(sem.noise_var(j)) * rng.normal();
      for (int i : sem.dag.parents(j)) v += sem.weights(i, j) * x(r, i);
      if (targeted[j]) v += iv.shift;
      x(r, j) = v;
    }
  return x;
}

InterventionalData simulate_interventional(const LinearSem& sem, int n_observational,
                                           const std::vector<Intervention>& interventions, int n_per_setting,
                                           std::uint64_t seed) {
  const int p = sem.dag.num_nodes();
  const int k = int(interventions.size());
  InterventionalData data;
  for (int j = 0; j < p; ++j) data.variables.push_back(std::string("X").append(std::to_string(j)));
  data.samples.resize(n_observational + Eigen::Index(k) * n_per_setting, p);
  data.setting_names = {"observational"};
  data.known_targets = {{}};
  engine::RandomStream obs_rng(seed, "causal/simulate", 0);
  data.samples.topRows(n_observational) = sample_sem(sem, n_observational, {}, obs_rng);
  data.setting.assign(n_observational, 0);
  for (int s = 0; s < k; ++s) {
    engine::RandomStream rng(seed, "causal/simulate", std::uint64_t(s) + 1);
    data.samples.middleRows(n_observational + Eigen::Index(s) * n_per_setting, n_per_setting) =
        sample_sem(sem, n_per_setting, interventions[s], rng);
    data.setting.insert(data.setting.end(), n_per_setting, s + 1);
    data.setting_names.push_back(std::to_string(s + 1));
    auto t = interventions[s].targets;
    std::sort(t.begin(), t.end());
    data.known_targets.push_back(t);
  }
  return data;
}

}  // namespace tessera::solvers::causal
