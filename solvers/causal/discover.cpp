#include "solvers/causal/discover.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "solvers/causal/citest/gaussian_ci_test.h"
#include "solvers/causal/citest/gaussian_invariance_test.h"
#include "solvers/causal/citest/hsic_ci_test.h"
#include "solvers/causal/score/minimal_imap.h"
#include "solvers/causal/search/gsp.h"
#include "solvers/causal/search/igsp.h"
#include "solvers/causal/search/initial_order.h"
#include "solvers/causal/search/ut_igsp.h"

namespace tessera::solvers::causal {

const engine::NameTable<Algorithm>& name_table(Algorithm) {
  static const engine::NameTable<Algorithm> table{
      {Algorithm::kGsp, "gsp"}, {Algorithm::kIgsp, "igsp"}, {Algorithm::kUtIgsp, "utigsp"}};
  return table;
}

const engine::NameTable<StartGraph>& name_table(StartGraph) {
  static const engine::NameTable<StartGraph> table{{StartGraph::kPooled, "pooled"},
                                                   {StartGraph::kObservational, "observational"}};
  return table;
}

const engine::NameTable<CiTestKind>& name_table(CiTestKind) {
  static const engine::NameTable<CiTestKind> table{{CiTestKind::kGaussian, "gaussian"}, {CiTestKind::kHsic, "hsic"}};
  return table;
}

void DiscoveryParams::validate() const {
  engine::check_knobs(*this);
  TESSERA_CHECK(shrinkage <= 1, "--shrinkage must be in [0, 1] (or auto), got ", shrinkage);
  TESSERA_CHECK(depth >= 1, "--depth must be at least 1 (or inf), got ", depth);
}

namespace {

// The body of both overloads. obs_rows: the observational samples (at most hsic_samples of them), given only
// when ci_test is hsic.
DiscoveryResult run_discovery(const engine::Context& ctx, const std::vector<SettingStats>& stats,
                              const std::vector<std::vector<int>>& known_targets, const DiscoveryParams& params,
                              const Eigen::MatrixXd* obs_rows) {
  TESSERA_CHECK(!stats.empty(), "discover: no observational statistics");
  const int p = stats[0].num_variables();
  const bool interventional = params.algorithm != Algorithm::kGsp;
  TESSERA_CHECK(!interventional || stats.size() >= 2, name_table(params.algorithm).name(params.algorithm),
                " needs at least one interventional setting; the data have only observational rows");
  if (params.algorithm == Algorithm::kIgsp) {
    TESSERA_CHECK(known_targets.size() == stats.size(), "igsp: known targets for ", known_targets.size(),
                  " settings, data have ", stats.size());
    for (std::size_t k = 1; k < known_targets.size(); ++k)
      TESSERA_CHECK(!known_targets[k].empty(), "igsp needs the targets of every interventional setting; setting ", k,
                    " has none (give --targets, or use utigsp)");
  }
  if (params.algorithm == Algorithm::kGsp &&
      std::any_of(known_targets.begin(), known_targets.end(), [](const auto& t) { return !t.empty(); }))
    engine::warn_once("gsp-ignores-targets",
                      "gsp learns from the observational rows alone and does not use the known targets (--targets); "
                      "igsp and utigsp use them");
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
  const bool hsic = params.ci_test == CiTestKind::kHsic;
  // Checked on every rank before the restarts: a throw inside one would leave the ranks without a restart
  // waiting in the gather.
  if (hsic)
    TESSERA_CHECK(obs_rows && obs_rows->rows() >= 6, "--ci-test hsic needs at least 6 observational rows, got ",
                  obs_rows ? obs_rows->rows() : 0);
  // Built lazily per rank: only ranks that run a restart pay for them, and each keeps its own memo. Every rank
  // builds them from the same data, and a test's p-values do not depend on the order it is asked in, so the
  // result does not depend on the rank count.
  std::unique_ptr<GaussianCiTest> gaussian;  // the starting orders, and the CI test unless hsic
  std::unique_ptr<HsicCiTest> kernel;        // the CI test when hsic
  CiTest* ci = nullptr;                      // the test that decides the arcs
  std::unique_ptr<GaussianInvarianceTest> inv;
  std::unique_ptr<SearchPolicy> policy;
  std::vector<std::vector<char>> pcor_graph;
  auto prepare = [&] {
    if (ci) return;
    gaussian = std::make_unique<GaussianCiTest>(stats[0], params.alpha, lambda);
    ci = gaussian.get();
    if (hsic) {
      const double alpha = params.alpha > 0 ? params.alpha : 1.0 / double(obs_rows->rows());
      kernel = std::make_unique<HsicCiTest>(*obs_rows, alpha, params.hsic_samples);
      ci = kernel.get();
    }
    if (interventional) inv = std::make_unique<GaussianInvarianceTest>(stats, params.alpha_inv, params.invariance_test);
    if (params.algorithm == Algorithm::kIgsp)
      policy = std::make_unique<IgspPolicy>(*inv, known_targets);
    else if (params.algorithm == Algorithm::kUtIgsp)
      policy = std::make_unique<UtIgspPolicy>(*inv, known_targets);
    else
      policy = std::make_unique<GspPolicy>();
    // With hsic this graph misses the dependences HSIC is there for; it is only a heuristic start (its
    // min-degree orders), and the HSIC tests of the minimal I-map and the search decide every arc.
    if (params.fixed_order.empty()) {
      if (params.start_graph == StartGraph::kPooled && stats.size() > 1) {
        // All rows together estimate the skeleton far better than the observational ones alone (6x the rows
        // in the benchmark): p = 1,000 SHD 417 -> 236. Interventions change some dependences, but the graph
        // only picks the starting orders; the observational tests still decide every arc.
        SettingStats all = stats[0];
        for (std::size_t k = 1; k < stats.size(); ++k) all = pool(all, stats[k]);
        const GaussianCiTest pooled(all, params.alpha, resolve_shrinkage(all, params.shrinkage));
        pcor_graph = partial_correlation_graph(pooled);
      } else {
        pcor_graph = partial_correlation_graph(*gaussian);
      }
    }
  };
  auto imap = [&](const std::vector<int>& order) {
    return kernel ? minimal_imap(order, *kernel, constraints) : minimal_imap_gaussian(order, *gaussian, constraints);
  };
  const int restarts = params.fixed_order.empty() ? params.restarts : 1;
  const auto started = std::chrono::steady_clock::now();
  // --start-candidates k > 1: the restarts start from the sparsest of k x restarts starting DAGs; empty: each
  // restart draws its own order.
  std::vector<std::vector<int>> start_orders;
  std::int64_t start_ci_tests = 0;
  if (params.fixed_order.empty() && params.start_candidates > 1) {
    prepare();
    const std::size_t ci_before = ci->num_tests();
    start_orders = sparsest_start_orders(
        ctx, params.start_candidates * restarts, restarts,
        [&](int candidate) {
          engine::RandomStream rng(params.seed, "gsp/start", std::uint64_t(candidate));
          return constraints.respect_required(min_degree_order(pcor_graph, rng));
        },
        imap);
    start_ci_tests = engine::allreduce_sum(ctx, std::int64_t(ci->num_tests() - ci_before));
  }
  auto search = [&](int restart, engine::RandomStream& rng) {
    if (!params.fixed_order.empty()) {
      SearchResult r;
      r.dag = imap(params.fixed_order);
      r.edges = r.dag.num_edges();
      for (int v = 0; v < p; ++v) r.penalty += policy->node_penalty(v, r.dag.parents(v));
      return r;
    }
    const std::vector<int> order = start_orders.empty()
                                       ? constraints.respect_required(min_degree_order(pcor_graph, rng))
                                       : start_orders[std::size_t(restart)];
    const Dag start = imap(order);
    return search_from(start, *ci, *policy, SearchOptions{params.depth, params.move}, rng, constraints);
  };
  RestartsOutcome outcome = run_restarts(
      ctx, restarts, params.seed, "gsp/restart",
      [&](int restart, engine::RandomStream& rng) {
        prepare();
        // The tests are memoised per rank across its restarts: a restart is charged the tests it computed first.
        const std::size_t ci_before = ci->num_tests(), inv_before = inv ? inv->num_tests() : 0;
        SearchResult r = search(restart, rng);
        r.ci_tests = std::int64_t(ci->num_tests() - ci_before);
        r.invariance_tests = inv ? std::int64_t(inv->num_tests() - inv_before) : 0;
        return r;
      },
      params.progress);
  SearchResult& best = outcome.best;
  DiscoveryResult out;
  out.search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.restarts = std::move(outcome.restarts);
  out.ci_tests = best.ci_tests + start_ci_tests;
  out.invariance_tests = best.invariance_tests;
  out.edges = best.edges;
  out.penalty = best.penalty;
  out.restart = best.restart;
  out.dags_visited = best.dags_visited;
  out.shrinkage = lambda;
  out.targets.assign(stats.size(), {});
  if (params.algorithm == Algorithm::kUtIgsp) {
    // On every rank, so every rank returns the targets.
    GaussianInvarianceTest test(stats, params.alpha_inv, params.invariance_test);
    out.targets = learned_targets(best.dag, test);
  } else if (params.algorithm == Algorithm::kIgsp) {
    out.targets = known_targets;
  }
  out.dag = std::move(best.dag);
  return out;
}

}  // namespace

DiscoveryResult discover(const engine::Context& ctx, const std::vector<SettingStats>& stats,
                         const std::vector<std::vector<int>>& known_targets, const DiscoveryParams& params) {
  params.validate();
  TESSERA_CHECK(params.ci_test != CiTestKind::kHsic,
                "--ci-test hsic needs the samples, not only their sufficient statistics (covariances); call "
                "discover with the InterventionalData");
  return run_discovery(ctx, stats, known_targets, params, nullptr);
}

DiscoveryResult discover(const engine::Context& ctx, const InterventionalData& given, const DiscoveryParams& params) {
  params.validate();
  const auto rescaled = rescaled_for_statistics(given);  // values such as 1e300 would overflow the covariances
  const InterventionalData& data = rescaled ? *rescaled : given;
  const auto stats = compute_setting_stats(ctx, data);
  // GaussianCiTest refuses such a variable too, but by index: name it here.
  for (int j = 0; j < data.num_variables(); ++j)
    TESSERA_CHECK(stats[0].cov(j, j) > 0, "variable '", data.variables[std::size_t(j)],
                  "' is constant in the observational rows (setting '", data.setting_names[0],
                  "'): its dependences cannot be tested; drop it");
  if (params.ci_test != CiTestKind::kHsic) return run_discovery(ctx, stats, data.known_targets, params, nullptr);
  // Every rank holds all rows (data.h); the first hsic_samples observational ones, in file order, on each.
  Eigen::MatrixXd obs(std::min<Eigen::Index>(params.hsic_samples, data.samples.rows()), data.num_variables());
  Eigen::Index taken = 0;
  for (Eigen::Index r = 0; r < data.samples.rows() && taken < obs.rows(); ++r)
    if (data.setting[std::size_t(r)] == 0) obs.row(taken++) = data.samples.row(r);
  obs.conservativeResize(taken, Eigen::NoChange);
  return run_discovery(ctx, stats, data.known_targets, params, &obs);
}

}  // namespace tessera::solvers::causal
