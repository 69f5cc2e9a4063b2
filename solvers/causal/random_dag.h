// Random DAGs and linear Gaussian structural equation models, for tests and benchmarks.
//
// Model: x_j = sum_{i in pa(j)} B(i, j) x_i + e_j, e_j ~ N(0, noise_var_j); in row form x = x B + e, so the
// population covariance is (I - B)^{-T} D (I - B)^{-1}, D = diag(noise_var).
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "solvers/causal/dag.h"
#include "solvers/causal/data.h"

namespace tessera::solvers::causal {

struct LinearSem {
  Dag dag;
  Eigen::MatrixXd weights;    // p x p, weights(i, j) for arc i -> j, 0 elsewhere
  Eigen::VectorXd noise_var;  // p
};

// Erdos-Renyi DAG: each pair is joined with probability expected_degree / (p - 1) (so a node has on average
// expected_degree neighbours), directed along a uniformly random order.
Dag random_er_dag(int p, double expected_degree, engine::RandomStream& rng);

// Scale-free DAG by preferential attachment (Barabasi-Albert): nodes join in a uniformly random order and each
// takes parents among the nodes already there with probability proportional to (their degree + 1), about
// expected_degree / 2 of them (the integer part, plus one more with the fractional part as probability), so a
// node has on average about expected_degree neighbours and a few hubs have many.
Dag random_scale_free_dag(int p, double expected_degree, engine::RandomStream& rng);

// Weights +-U(low, high) with a random sign; unit noise variances.
LinearSem random_linear_sem(const Dag& dag, engine::RandomStream& rng, double low = 0.25, double high = 1.0);

Eigen::MatrixXd population_covariance(const LinearSem& sem);

struct Intervention {
  enum class Kind { kPerfect, kShift };
  std::vector<int> targets;
  Kind kind = Kind::kPerfect;
  double value = 2.0;  // perfect: the target is value + N(0, variance), cut from its parents
  double variance = 0.1;
  double shift = 2.0;  // shift: the target's equation gains + shift
};

// n samples (n x p) from the SEM under `intervention` (no targets = observational).
Eigen::MatrixXd sample_sem(const LinearSem& sem, int n, const Intervention& intervention, engine::RandomStream& rng);

// Observational rows plus one block per intervention, as InterventionalData with variables "X0".."X{p-1}",
// settings named "1".."K" and the true targets as known targets.
InterventionalData simulate_interventional(const LinearSem& sem, int n_observational,
                                           const std::vector<Intervention>& interventions, int n_per_setting,
                                           std::uint64_t seed);

}  // namespace tessera::solvers::causal
