// Bayesian linear regression of each node of a linear SEM on its parents, with a known noise level.
//
// Model (the SEM of solvers/simulation/gene_network.h with an explicit shift a): x = B x + c + a + e,
// e ~ N(0, sigma^2 I), B(i, j) the weight of edge j -> i on a known DAG, c = mu_eps the intercepts, a the shift
// the experimenter applied (known). Node i's equation is a regression with known offset a_i:
//     y_i = x_i - a_i = theta_i . z_i + e_i,   z_i = (x_{pa(i)}, 1),   theta_i = (B(i, pa(i)), c_i)
// with prior theta_i ~ N(0, prior_sd^2 I). The posterior is Gaussian: precision P_i = I / prior_sd^2 +
// Z_i^T Z_i / sigma^2, mean P_i^-1 Z_i^T y_i / sigma^2; only Z^T Z and Z^T y are stored. Local (no MPI).
// Nodes are few (tens): dense p x p matrices are used throughout.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "solvers/causal/dag.h"

namespace tessera::solvers::search {

// The DAG of causal discovery (parent lists; nodes 0..p-1), so that `tessera discover`'s result is design's input.
using causal::Dag;

// One linear SEM: B (p x p, B(i, j) for j -> i), intercepts c, noise sd.
struct SemParams {
  Eigen::MatrixXd weights;
  Eigen::VectorXd intercepts;
  // (I - B)^-1 (c + a): the mean response to shift a.
  Eigen::VectorXd mean_response(const Eigen::VectorXd& shift) const;
};

class BayesLinearSem {
 public:
  BayesLinearSem(Dag dag, double noise_sd, double prior_sd);

  // Adds samples (columns of x, p x n) all taken under the same shift.
  void observe(const Eigen::MatrixXd& samples, const Eigen::VectorXd& shift);

  const Dag& dag() const { return dag_; }
  double noise_sd() const { return noise_sd_; }
  // Posterior of node i: mean and covariance of theta_i = (B(i, pa(i)), c_i).
  Eigen::VectorXd posterior_mean(int node) const;
  Eigen::MatrixXd posterior_covariance(int node) const;
  // Posterior precision of node i (prior + data).
  Eigen::MatrixXd precision(int node) const;
  // The SEM at the posterior mean (plug-in).
  SemParams mean_sem() const;
  // One posterior draw.
  SemParams sample_sem(engine::RandomStream& random) const;

 private:
  Dag dag_;
  double noise_sd_;
  double prior_sd_;
  std::vector<Eigen::MatrixXd> gram_;    // Z^T Z per node
  std::vector<Eigen::VectorXd> moment_;  // Z^T y per node
};

// E[z_i z_i^T] for node i's features z_i = (x_pa(i), 1) when x ~ SEM `sem` under shift a (noise sd sigma):
// mean m = (I - B)^-1 (c + a), covariance Sigma = sigma^2 (I - B)^-1 (I - B)^-T.
Eigen::MatrixXd feature_second_moment(const Dag& dag, int node, const Eigen::VectorXd& mean,
                                      const Eigen::MatrixXd& covariance);

}  // namespace tessera::solvers::search
