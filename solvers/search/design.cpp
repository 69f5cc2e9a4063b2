#include "solvers/search/design.h"

#include <cmath>

#include "engine/error.h"
#include "engine/partition.h"
#include "engine/random.h"
#include "engine/task_farm.h"
#include "solvers/search/top_k.h"

namespace tessera::solvers::search {

void DesignParams::validate() const {
  engine::check_knobs(*this);
  TESSERA_CHECK(weight_low <= weight_high, "need 0 <= --weight-low <= --weight-high");
}

Eigen::VectorXd analytic_optimum(const SemParams& sem, const Eigen::VectorXd& target) {
  const Eigen::Index p = sem.weights.rows();
  return (Eigen::MatrixXd::Identity(p, p) - sem.weights) * target - sem.intercepts;
}

namespace {

Eigen::VectorXd random_direction(engine::RandomStream& random, Eigen::Index p) {
  Eigen::VectorXd v(p);
  for (Eigen::Index i = 0; i < p; ++i) v(i) = random.normal();
  return v / std::max(v.norm(), 1e-300);
}

// A point uniform in the ball of `radius` in p dimensions.
Eigen::VectorXd random_in_ball(engine::RandomStream& random, Eigen::Index p, double radius) {
  const Eigen::VectorXd direction = random_direction(random, p);
  return direction * radius * std::pow(random.uniform(), 1.0 / double(p));
}

Eigen::VectorXd into_ball(Eigen::VectorXd a, double radius) {
  const double norm = a.norm();
  if (norm > radius) a *= radius / norm;
  return a;
}

Eigen::MatrixXd draw_samples(const SemParams& sem, double noise_sd, const Eigen::VectorXd& shift, int n,
                             engine::RandomStream& random) {
  const Eigen::Index p = sem.weights.rows();
  const Eigen::MatrixXd m = (Eigen::MatrixXd::Identity(p, p) - sem.weights).inverse();
  const Eigen::VectorXd mean = m * (sem.intercepts + shift);
  Eigen::MatrixXd x(p, n);
  Eigen::VectorXd e(p);
  for (int s = 0; s < n; ++s) {
    for (Eigen::Index i = 0; i < p; ++i) e(i) = noise_sd * random.normal();
    x.col(s) = mean + m * e;
  }
  return x;
}

}  // namespace

DesignInstance make_instance(const DesignParams& params, std::uint64_t index, const DesignSetup& setup) {
  engine::RandomStream random(params.seed, "design/instance", index);
  DesignInstance in;
  in.index = index;
  if (setup.dag) {
    in.dag = *setup.dag;
  } else {
    std::vector<std::pair<int, int>> edges;
    for (int i = 0; i < params.nodes; ++i)
      for (int j = 0; j < i; ++j)
        if (random.bernoulli(params.edge_prob)) edges.emplace_back(j, i);
    in.dag = Dag::from_edges(params.nodes, edges);
  }
  const int p = in.dag.num_nodes();
  in.truth.weights = Eigen::MatrixXd::Zero(p, p);
  for (int i = 0; i < p; ++i)
    for (int j : in.dag.parents(i)) {
      const double given = setup.weights ? (*setup.weights)(i, j) : NAN;
      const double w = random.uniform(params.weight_low, params.weight_high) * (random.bernoulli(0.5) ? 1 : -1);
      in.truth.weights(i, j) = std::isnan(given) ? w : given;
    }
  in.truth.intercepts.resize(p);
  for (int i = 0; i < p; ++i) in.truth.intercepts(i) = random.normal();
  if (setup.intercepts) in.truth.intercepts = *setup.intercepts;
  Eigen::VectorXd a_true = random_direction(random, p) * params.optimum_norm;
  if (setup.pool) {
    TESSERA_CHECK(setup.pool->shifts.rows() == p && setup.pool->size() > 0, "the candidate pool has ",
                  setup.pool->shifts.rows(), " rows for ", p, " nodes");
    in.hidden = int(random.uniform_int(std::uint64_t(setup.pool->size())));
    a_true = setup.pool->shifts.col(in.hidden);
  }
  in.target = in.truth.mean_response(a_true);
  in.optimum = analytic_optimum(in.truth, in.target);
  return in;
}

DesignTrace run_design(const engine::Context& ctx, const DesignInstance& instance, const DesignParams& params,
                       Acquisition acquisition, const Eigen::MatrixXd* pool) {
  const int p = instance.dag.num_nodes();
  TESSERA_CHECK(!pool || pool->rows() == p, "the candidate pool has ", pool ? pool->rows() : 0, " rows for ", p,
                " nodes");
  const std::uint64_t key = instance.index;
  BayesLinearSem model(instance.dag, params.noise_sd, params.prior_sd);
  engine::RandomStream data(params.seed, "design/data", key);
  model.observe(draw_samples(instance.truth, params.noise_sd, Eigen::VectorXd::Zero(p), params.initial_samples, data),
                Eigen::VectorXd::Zero(p));

  DesignTrace trace;
  std::vector<Eigen::VectorXd> candidates;
  auto make_candidates = [&](int round) {
    candidates.clear();
    if (pool) {
      for (Eigen::Index k = 0; k < pool->cols(); ++k) candidates.push_back(pool->col(k));
      return;
    }
    const SemParams plug_in = model.mean_sem();
    candidates.push_back(into_ball(analytic_optimum(plug_in, instance.target), params.radius));
    engine::RandomStream random(params.seed, "design/candidates", key * 1000 + std::uint64_t(round));
    for (int k = 0; k < params.candidates; ++k) candidates.push_back(random_in_ball(random, p, params.radius));
  };
  auto recommend = [&]() {
    const SemParams plug_in = model.mean_sem();
    Eigen::VectorXd best = candidates.front();
    double best_value = INFINITY;
    for (const auto& c : candidates) {
      const double value = matching_objective(plug_in, instance.target, c);
      if (value < best_value) best_value = value, best = c;
    }
    return best;
  };

  for (int round = 0; round <= params.rounds; ++round) {
    make_candidates(round);
    const Eigen::VectorXd recommendation = recommend();
    trace.distance.push_back((instance.truth.mean_response(recommendation) - instance.target).norm());
    trace.recommendation = recommendation;
    if (round == params.rounds) break;

    const auto state = AcquisitionState::build(model, instance.target, params.samples_per_round, params.ucb_beta,
                                               params.posterior_samples, {recommendation, candidates.front()},
                                               params.seed, key * 1000 + std::uint64_t(round));
    const auto range = engine::block_range(std::int64_t(candidates.size()), ctx.size(), ctx.rank());
    TopK best(1);
    for (std::int64_t k = range.begin; k < range.end; ++k)
      best.offer(acquisition_score(acquisition, state, candidates[std::size_t(k)], k), k);
    const auto winner = best.merge_over_ranks(ctx);
    TESSERA_CHECK(!winner.empty(), "no candidate got a finite acquisition score");
    const Eigen::VectorXd chosen = candidates[std::size_t(winner.front().index)];
    trace.chosen.push_back(chosen);
    model.observe(draw_samples(instance.truth, params.noise_sd, chosen, params.samples_per_round, data), chosen);
  }
  return trace;
}

DesignStudy design_study(const engine::Context& ctx, const DesignParams& params,
                         const std::vector<Acquisition>& acquisitions, const DesignSetup& setup) {
  params.validate();
  const Eigen::MatrixXd* pool = setup.pool ? &setup.pool->shifts : nullptr;
  DesignStudy study;
  for (auto acquisition : acquisitions) {
    // Distances per round, then the count of instances that found the hidden member; summed in instance order
    // (engine/task_farm.h delivers results in task order), so every rank count gives the same bits.
    std::vector<double> sum(std::size_t(params.rounds + 2), 0.0);
    engine::TaskFarm farm;
    farm.what = "design study";
    farm.task_name = "instance";
    farm.end = params.instances;
    farm.stops_on_signal = false;  // design has no safe point: SIGUSR1/USR2 let it finish (engine/signals.h)
    farm.task = [&](const engine::Context& self, std::int64_t r) {
      const auto instance = make_instance(params, std::uint64_t(r), setup);
      const auto trace = run_design(self, instance, params, acquisition, pool);
      std::vector<double> outcome = trace.distance;
      outcome.push_back(pool && trace.recommendation == pool->col(instance.hidden) ? 1 : 0);
      return outcome;
    };
    farm.after_round = [&](const engine::FarmRound& round) {
      for (const auto& outcome : round.results)
        for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += outcome[k];
    };
    engine::run_task_farm(ctx, farm);
    for (auto& v : sum) v /= double(params.instances);
    if (pool) study.found.push_back(sum.back());
    sum.pop_back();
    study.distance.push_back(sum);
  }
  return study;
}

}  // namespace tessera::solvers::search
