#include "solvers/causal/discover.h"

#include <algorithm>
#include <memory>

#include "engine/error.h"
#include "solvers/causal/citest/gaussian_ci_test.h"
#include "solvers/causal/citest/gaussian_invariance_test.h"
#include "solvers/causal/score/minimal_imap.h"
#include "solvers/causal/search/gsp.h"
#include "solvers/causal/search/igsp.h"
#include "solvers/causal/search/initial_order.h"
#include "solvers/causal/search/ut_igsp.h"

namespace tessera::solvers::causal {

void DiscoveryParams::check() const {
  TESSERA_CHECK(algorithm == "gsp" || algorithm == "igsp" || algorithm == "utigsp", "unknown algorithm '", algorithm,
                "'; choose gsp, igsp or utigsp");
  TESSERA_CHECK(alpha >= 0 && alpha < 1, "alpha must be in (0, 1) (or 0 for 1/n), got ", alpha);
  TESSERA_CHECK(alpha_inv > 0 && alpha_inv < 1, "alpha-inv must be in (0, 1), got ", alpha_inv);
  TESSERA_CHECK(depth >= 1, "depth must be at least 1, got ", depth);
  TESSERA_CHECK(restarts >= 1, "restarts must be at least 1, got ", restarts);
  TESSERA_CHECK(shrinkage <= 1, "shrinkage must be in [0, 1] (or negative for auto), got ", shrinkage);
}

DiscoveryResult discover(const engine::Context& ctx, const std::vector<SettingStats>& stats,
                         const std::vector<std::vector<int>>& known_targets, const DiscoveryParams& params) {
  params.check();
  TESSERA_CHECK(!stats.empty(), "discover: no observational statistics");
  const int p = stats[0].num_variables();
  const bool interventional = params.algorithm != "gsp";
  TESSERA_CHECK(!interventional || stats.size() >= 2, params.algorithm,
                " needs at least one interventional setting; the data have only observational rows");
  if (params.algorithm == "igsp") {
    TESSERA_CHECK(known_targets.size() == stats.size(), "igsp: known targets for ", known_targets.size(),
                  " settings, data have ", stats.size());
    for (std::size_t k = 1; k < known_targets.size(); ++k)
      TESSERA_CHECK(!known_targets[k].empty(), "igsp needs the targets of every interventional setting; setting ", k,
                    " has none (give --targets, or use utigsp)");
  }
  if (!params.fixed_order.empty()) {
    std::vector<int> sorted = params.fixed_order;
    std::sort(sorted.begin(), sorted.end());
    for (int v = 0; v < p; ++v)
      TESSERA_CHECK(int(sorted.size()) == p && sorted[v] == v, "fixed order must be a permutation of the ", p,
                    " variables");
  }

  // Every rank resolves auto from the same allreduced statistics, so all ranks use the same lambda.
  const double lambda = resolve_shrinkage(stats[0], params.shrinkage);
  const EdgeConstraints constraints(p, params.required, params.forbidden);
  if (!params.fixed_order.empty())
    TESSERA_CHECK(constraints.respect_required(params.fixed_order) == params.fixed_order,
                  "the fixed order puts a required arc backwards");
  // Built lazily per rank: only ranks that run a restart pay for them, and each keeps its own memo.
  std::unique_ptr<GaussianCiTest> ci;
  std::unique_ptr<GaussianInvarianceTest> inv;
  std::unique_ptr<SearchPolicy> policy;
  std::vector<std::vector<char>> pcor_graph;
  auto prepare = [&] {
    if (ci) return;
    ci = std::make_unique<GaussianCiTest>(stats[0], params.alpha, lambda);
    if (interventional) inv = std::make_unique<GaussianInvarianceTest>(stats, params.alpha_inv);
    if (params.algorithm == "igsp")
      policy = std::make_unique<IgspPolicy>(*inv, known_targets);
    else if (params.algorithm == "utigsp")
      policy = std::make_unique<UtIgspPolicy>(*inv);
    else
      policy = std::make_unique<GspPolicy>();
    if (params.fixed_order.empty()) pcor_graph = partial_correlation_graph(*ci);
  };
  const int restarts = params.fixed_order.empty() ? params.restarts : 1;
  SearchResult best = run_restarts(ctx, restarts, params.seed, "gsp/restart", [&](int, engine::RandomStream& rng) {
    prepare();
    if (!params.fixed_order.empty()) {
      SearchResult r;
      r.dag = minimal_imap_gaussian(params.fixed_order, *ci, constraints);
      r.edges = r.dag.num_edges();
      for (int v = 0; v < p; ++v) r.penalty += policy->node_penalty(v, r.dag.parents(v));
      return r;
    }
    const std::vector<int> order = constraints.respect_required(min_degree_order(pcor_graph, rng));
    const Dag start = minimal_imap_gaussian(order, *ci, constraints);
    return search_from(start, *ci, *policy, params.depth, rng, constraints);
  });
  DiscoveryResult out;
  out.edges = best.edges;
  out.penalty = best.penalty;
  out.restart = best.restart;
  out.dags_visited = best.dags_visited;
  out.shrinkage = lambda;
  out.targets.assign(stats.size(), {});
  if (params.algorithm == "utigsp") {
    GaussianInvarianceTest test(stats, params.alpha_inv);  // every rank, so every rank returns the targets
    out.targets = learned_targets(best.dag, test);
  } else if (params.algorithm == "igsp") {
    out.targets = known_targets;
  }
  out.dag = std::move(best.dag);
  return out;
}

DiscoveryResult discover(const engine::Context& ctx, const InterventionalData& data, const DiscoveryParams& params) {
  const auto stats = compute_setting_stats(ctx, data);
  return discover(ctx, stats, data.known_targets, params);
}

}  // namespace tessera::solvers::causal
