// Optimal intervention design: sequential rounds that choose a shift intervention a so that the SEM's mean
// response (I - B)^-1 (c + a) matches a target mean mu*.
//
// Analytic optimum (B, c known): a* = (I - B) mu* - c, which matches exactly when ||a*|| <= radius.
// Loop per instance: `initial_samples` observational samples; then each round (1) builds the acquisition state
// from the posterior (bayes_linear.h), (2) scores the candidates — `candidates` random shifts in the ball of
// `radius` plus the plug-in optimum scaled into it, or a fixed pool of real perturbations — split over the ranks
// of the Context with a 1-best TopK merge (ties: the lower candidate index), (3) draws `samples_per_round`
// samples of the true SEM under the chosen shift, (4) updates the posterior. After every round the
// recommendation is the candidate (or scaled plug-in optimum) that minimises the plug-in objective, and the
// reported distance is || (I - B_true)^-1 (c + a_rec) - mu* || under the TRUE model.
// With a pool (e.g. real perturbations, shift_pool.h) each instance's target is the response to one member of
// the pool, hidden from the loop and drawn per instance, so the optimum is in the pool and the study also
// reports how often the final recommendation is that member.
// Every random draw is keyed by (seed, instance, round), never by rank, so any rank count gives the same result.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "solvers/search/acquisition.h"
#include "solvers/search/bayes_linear.h"
#include "solvers/search/shift_pool.h"

namespace tessera::solvers::search {

struct DesignParams {
  int nodes = 10;           // random DAG size (ignored when a DAG is given)
  double edge_prob = 0.3;   // chance of each forward edge of the random DAG
  double weight_low = 0.3;  // |true edge weight| ~ U(low, high), random sign (unless the DAG gives weights)
  double weight_high = 0.8;
  double noise_sd = 0.5;      // sigma of the SEM's noise (known to the model)
  double prior_sd = 2.0;      // prior sd of each regression coefficient
  double radius = 1.0;        // ||a|| <= radius
  double optimum_norm = 0.8;  // ||a*|| of the random instances (<= radius: the target is reachable)
  int rounds = 10;
  int initial_samples = 10;  // observational samples before round 1
  int samples_per_round = 5;
  int candidates = 200;        // random candidate shifts per round (continuous mode)
  int posterior_samples = 32;  // draws for ucb and mi
  double ucb_beta = 2.0;
  int instances = 8;  // repeats averaged in the report
  std::uint64_t seed = 1;

  // Ranges that depend on another knob (weight_low <= weight_high) are checked by validate().
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("seed", self.seed, "seed of instances, data and candidates"));
    declare(engine::knob("nodes", self.nodes, "nodes of the random DAG (without --dag)").at_least(1));
    declare(engine::knob("edge_prob", self.edge_prob, "edge probability of the random DAG").in(0.0, 1.0));
    declare(
        engine::knob("weight_low", self.weight_low, "smallest |true edge weight|; at most weight_high").at_least(0.0));
    declare(engine::knob("weight_high", self.weight_high, "largest |true edge weight|").at_least(0.0));
    declare(engine::knob("noise_sd", self.noise_sd, "noise sd of the SEM (known)").above(0.0));
    declare(engine::knob("prior_sd", self.prior_sd, "prior sd of the regression coefficients").above(0.0));
    declare(engine::knob("radius", self.radius, "shifts satisfy ||a|| <= radius").above(0.0));
    declare(engine::knob("optimum_norm", self.optimum_norm, "||a*|| of each random instance").at_least(0.0));
    declare(engine::knob("rounds", self.rounds, "design rounds").at_least(0));
    declare(engine::knob("initial_samples", self.initial_samples, "observational samples before round 1").at_least(1));
    declare(engine::knob("samples_per_round", self.samples_per_round, "samples of the chosen intervention per round")
                .at_least(1));
    declare(engine::knob("candidates", self.candidates, "random candidate shifts per round").at_least(1));
    declare(engine::knob("posterior_samples", self.posterior_samples, "posterior draws for ucb and mi").at_least(2));
    declare(engine::knob("ucb_beta", self.ucb_beta, "beta of ucb"));
    declare(engine::knob("instances", self.instances, "random instances averaged").at_least(1));
  }
  void validate() const;  // throws tessera::Error naming the bad knob
};

// What every instance shares; whatever is absent is drawn per instance.
struct DesignSetup {
  const Dag* dag = nullptr;                     // default: a random DAG of params.nodes
  const Eigen::MatrixXd* weights = nullptr;     // B(i, j) of arc j -> i; NaN entries (or none) are drawn
  const Eigen::VectorXd* intercepts = nullptr;  // default: N(0, 1)
  const ShiftPool* pool = nullptr;              // default: random shifts in the ball
};

struct DesignInstance {
  Dag dag;
  SemParams truth;
  Eigen::VectorXd target;   // mu*
  Eigen::VectorXd optimum;  // a* = (I - B) mu* - c
  int hidden = -1;          // with a pool: the member whose response is the target
  std::uint64_t index = 0;  // names the instance's random streams (data, candidates, posterior draws)
};

// a* = (I - B) mu* - c.
Eigen::VectorXd analytic_optimum(const SemParams& sem, const Eigen::VectorXd& target);

// A random instance (DAG, weights, intercepts ~ N(0, 1), a random a* of norm optimum_norm or a hidden pool
// member, mu* = the response to it), with whatever `setup` fixes. Keyed by (seed, index).
DesignInstance make_instance(const DesignParams& params, std::uint64_t index, const DesignSetup& setup = {});

struct DesignTrace {
  std::vector<double> distance;         // rounds + 1 values: after the initial samples, then after each round
  std::vector<Eigen::VectorXd> chosen;  // the shift run in each round
  Eigen::VectorXd recommendation;       // after the last round
};

// Collective over ctx (candidates split over its ranks); every rank returns the same trace.
// pool: optional fixed candidate shifts (p x K, e.g. real perturbations); otherwise the random ball candidates.
DesignTrace run_design(const engine::Context& ctx, const DesignInstance& instance, const DesignParams& params,
                       Acquisition acquisition, const Eigen::MatrixXd* pool = nullptr);

struct DesignStudy {
  std::vector<std::vector<double>> distance;  // per acquisition: mean distance per round (rounds + 1 values)
  std::vector<double> found;                  // per acquisition, with a pool: share of instances whose final
                                              // recommendation is the hidden member (else empty)
};

// Runs params.instances instances per acquisition; the instances are spread over the ranks (each runs its own
// on one rank), then summed. Collective.
DesignStudy design_study(const engine::Context& ctx, const DesignParams& params,
                         const std::vector<Acquisition>& acquisitions, const DesignSetup& setup = {});

}  // namespace tessera::solvers::search
