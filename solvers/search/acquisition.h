// Acquisition functions of the intervention design loop (design.h): how good it is to run shift a next.
//
// Every score is "larger is better". With plug-in SEM (B^, c^) = posterior mean, M = (I - B)^-1, target mu*,
// n samples per round and f(a; theta) = ||M(c + a) - mu*||^2 the matching objective:
//   greedy     : -f(a; theta^)                                     (exploit the plug-in model)
//   variance   : -(1/|R|) sum_{r in R} sum_i phi_i(r)^T S_i'(a) phi_i(r), the integrated posterior variance of
//                the structural means at reference shifts R (the current recommendation and a few candidates)
//                after n more samples at a: S_i'(a) = (P_i + n/sigma^2 E[z_i z_i^T | a, theta^])^-1,
//                phi_i(r) = (m^_pa(i)(r), 1)
//   ucb        : -(mean_s f(a; theta_s) - beta sd_s f(a; theta_s)), theta_s posterior draws (a lower confidence
//                bound of the objective, i.e. UCB of its negative)
//   mi         : Monte-Carlo expected information gain about theta from n samples at a:
//                (1/S) sum_s sum_i 1/2 log det(I + n/sigma^2 S_i E[z_i z_i^T | a, theta_s]) (exact for each
//                draw given the parents' moments; the MC average is over the unknown moments)
//   random     : a uniform number per (round, candidate): the passive baseline.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "solvers/search/bayes_linear.h"

namespace tessera::solvers::search {

enum class Acquisition { kGreedy, kVariance, kUcb, kMutualInformation, kRandom };
const engine::NameTable<Acquisition>& name_table(Acquisition);  // greedy | variance | ucb | mi | random
const std::vector<Acquisition>& all_acquisitions();             // in table order

// Quantities shared by all candidates of one round (built once, then read-only).
struct AcquisitionState {
  const BayesLinearSem* model = nullptr;
  Eigen::VectorXd target;
  int samples_per_round = 1;
  double ucb_beta = 2.0;
  SemParams plug_in;
  Eigen::MatrixXd plug_in_covariance;             // sigma^2 M^ M^T
  std::vector<SemParams> draws;                   // posterior draws
  std::vector<Eigen::MatrixXd> draw_covariances;  // sigma^2 M_s M_s^T
  std::vector<Eigen::MatrixXd> node_covariances;  // posterior covariance S_i per node
  std::vector<Eigen::MatrixXd> node_precisions;   // P_i
  std::vector<Eigen::VectorXd> references;        // R (shifts)
  std::uint64_t seed = 1;
  std::uint64_t round_key = 0;  // names the random baseline's stream

  static AcquisitionState build(const BayesLinearSem& model, const Eigen::VectorXd& target, int samples_per_round,
                                double ucb_beta, int posterior_samples, std::vector<Eigen::VectorXd> references,
                                std::uint64_t seed, std::uint64_t round_key);
};

// Score of candidate shift `a` (its index names the random baseline's draw). Local.
double acquisition_score(Acquisition kind, const AcquisitionState& state, const Eigen::VectorXd& a, std::int64_t index);

double matching_objective(const SemParams& sem, const Eigen::VectorXd& target, const Eigen::VectorXd& a);

}  // namespace tessera::solvers::search
