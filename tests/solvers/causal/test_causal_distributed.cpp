// Restarts spread over ranks and statistics summed over row blocks: run at 1, 2 and 3 ranks, every rank must
// return the DAG (and targets) that one rank computes alone.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

#include "engine/context.h"
#include "solvers/causal/bootstrap.h"
#include "solvers/causal/discover.h"
#include "solvers/causal/random_dag.h"
#include "solvers/causal/score/minimal_imap.h"
#include "solvers/causal/search/initial_order.h"

namespace tessera::solvers::causal {
namespace {

InterventionalData problem(int p, std::uint64_t seed, LinearSem* truth = nullptr) {
  engine::RandomStream rng(seed, "test/sem");
  LinearSem sem = random_linear_sem(random_er_dag(p, 1.5, rng), rng);
  std::vector<Intervention> ivs;
  for (int v : {0, 3, 5}) ivs.push_back({{v}, Intervention::Kind::kPerfect});
  if (truth) *truth = sem;
  return simulate_interventional(sem, 1000, ivs, 1000, seed);
}

// discover on every rank of `world` and on this rank alone: the same DAG, targets, best restart and DAG count are
// expected. Returns both results, the distributed one first, for the caller's own checks.
std::pair<DiscoveryResult, DiscoveryResult> expect_same_as_one_rank(const engine::Context& world,
                                                                    const InterventionalData& data,
                                                                    const DiscoveryParams& params,
                                                                    const std::string& label) {
  DiscoveryResult distributed = discover(world, data, params);
  DiscoveryResult alone = discover(engine::Context(MPI_COMM_SELF), data, params);
  EXPECT_EQ(distributed.dag, alone.dag) << label << " ranks " << world.size();
  EXPECT_EQ(distributed.targets, alone.targets) << label;
  EXPECT_EQ(distributed.restart, alone.restart) << label;
  EXPECT_EQ(distributed.dags_visited, alone.dags_visited) << label;
  return {std::move(distributed), std::move(alone)};
}

TEST(CausalDistributed, StatisticsMatchOneRank) {
  const engine::Context world;
  const auto data = problem(12, 3);
  const auto mine = compute_setting_stats(world, data);
  const auto alone = compute_setting_stats(engine::Context(MPI_COMM_SELF), data);
  ASSERT_EQ(mine.size(), alone.size());
  for (std::size_t k = 0; k < mine.size(); ++k) {
    EXPECT_EQ(mine[k].n, alone[k].n);
    // Sums in another order: equal up to rounding, relative 1e3 * machine epsilon.
    EXPECT_LE((mine[k].cov - alone[k].cov).norm(), 1e3 * 2.2e-16 * alone[k].cov.norm());
    EXPECT_LE((mine[k].mean - alone[k].mean).norm(), 1e3 * 2.2e-16 * alone[k].mean.norm());
  }
}

TEST(CausalDistributed, ShrinkageStatisticsMatchOneRank) {
  const engine::Context world;
  engine::RandomStream rng(6, "test/sem");
  const LinearSem sem = random_linear_sem(random_er_dag(40, 1.5, rng), rng);
  const auto data = simulate_interventional(sem, 30, {{{2}}}, 30, 6);  // 30 rows, 40 variables
  const auto mine = compute_setting_stats(world, data);
  const auto alone = compute_setting_stats(engine::Context(MPI_COMM_SELF), data);
  ASSERT_EQ(mine[0].sq_cross.rows(), 40);
  EXPECT_LE((mine[0].sq_cross - alone[0].sq_cross).norm(), 1e3 * 2.2e-16 * alone[0].sq_cross.norm());
  EXPECT_EQ(mine[1].sq_cross.size(), 0);  // only the observational setting carries the fourth moments
  EXPECT_NEAR(shrinkage_intensity(mine[0]), shrinkage_intensity(alone[0]), 1e-12);
  for (const char* algorithm : {"gsp", "utigsp"}) {
    DiscoveryParams params;
    params.algorithm = name_table(Algorithm{}).parse(algorithm, "algorithm");
    params.alpha = 1e-3;
    params.restarts = 5;
    const auto [distributed, single] = expect_same_as_one_rank(world, data, params, algorithm);
    EXPECT_GT(distributed.shrinkage, 0.0);
    EXPECT_NEAR(distributed.shrinkage, single.shrinkage, 1e-12);
  }
}

TEST(CausalDistributed, SameDagForAnyRankCount) {
  const engine::Context world;
  for (const char* algorithm : {"gsp", "igsp", "utigsp"}) {
    for (std::uint64_t seed : {1, 2}) {
      const auto data = problem(25, seed);
      DiscoveryParams params;
      params.algorithm = name_table(Algorithm{}).parse(algorithm, "algorithm");
      params.alpha = 1e-4;
      params.restarts = 7;  // not a multiple of 2 or 3: ranks run unequal shares
      expect_same_as_one_rank(world, data, params, std::string(algorithm) + " seed " + std::to_string(seed));
    }
  }
}

// Nonlinear data for the HSIC test: x0 -> x1 -> x2 -> x4 <- x3, x4 -> x5 with x1 = x0^2 + e and x4 = |x3| + x2 + e
// (zero-correlation arcs), the rest linear; setting 1 shifts the mean of x2.
InterventionalData nonlinear_problem(int n, std::uint64_t seed) {
  engine::RandomStream rng(seed, "test/nonlinear");
  InterventionalData data;
  data.samples.resize(2 * n, 6);
  for (int r = 0; r < 2 * n; ++r) {
    auto x = data.samples.row(r);
    x(0) = rng.uniform(-2, 2);
    x(1) = x(0) * x(0) + 0.3 * rng.normal();
    x(2) = x(1) + 0.8 * rng.normal() + (r >= n ? 2.0 : 0.0);
    x(3) = rng.uniform(-2, 2);
    x(4) = std::abs(x(3)) + x(2) + 0.3 * rng.normal();
    x(5) = 0.5 * x(4) + 0.5 * rng.normal();
    data.setting.push_back(r >= n ? 1 : 0);
  }
  data.variables = {"x0", "x1", "x2", "x3", "x4", "x5"};
  data.setting_names = {"observational", "shift x2"};
  data.known_targets = {{}, {2}};
  return data;
}

// Each rank builds its own HSIC test from the same rows; restarts land on different ranks (with different memos)
// for each rank count, and the answer must not change.
TEST(CausalDistributed, HsicSameDagForAnyRankCount) {
  const engine::Context world;
  const auto data = nonlinear_problem(300, 5);
  for (const char* algorithm : {"gsp", "utigsp"}) {
    DiscoveryParams params;
    params.algorithm = name_table(Algorithm{}).parse(algorithm, "algorithm");
    params.ci_test = CiTestKind::kHsic;
    params.restarts = 7;
    const auto [distributed, alone] = expect_same_as_one_rank(world, data, params, algorithm);
    EXPECT_TRUE(distributed.dag.adjacent(0, 1)) << algorithm;  // the arc only HSIC sees
  }
}

TEST(CausalDistributed, BootstrapFrequenciesMatchOneRank) {
  const engine::Context world;
  LinearSem sem;
  const auto data = problem(10, 4, &sem);
  DiscoveryParams params;
  params.algorithm = Algorithm::kUtIgsp;
  params.restarts = 2;
  const auto mine = bootstrap_edges(world, data, params, 5);
  const auto alone = bootstrap_edges(engine::Context(MPI_COMM_SELF), data, params, 5);
  EXPECT_EQ(mine.arc, alone.arc);
  EXPECT_GE(mine.arc.minCoeff(), 0.0);
  EXPECT_LE(mine.arc.maxCoeff(), 1.0);
  // True adjacencies are found in most resamples; on average far more often than non-adjacent pairs.
  double on = 0, off = 0;
  int n_on = 0, n_off = 0;
  for (int i = 0; i < 10; ++i)
    for (int j = i + 1; j < 10; ++j) {
      if (sem.dag.adjacent(i, j))
        on += mine.adjacency(i, j), ++n_on;
      else
        off += mine.adjacency(i, j), ++n_off;
    }
  EXPECT_GT(on / n_on, 0.8);
  EXPECT_LT(off / n_off, 0.2);
}

TEST(CausalDistributed, SparsestStartOrdersAreTheBruteForceChoiceOnAnyRankCount) {
  // 12 candidate orders of the partial-correlation graph, each rank building the minimal I-maps of its share; the
  // answer must be what one process finds by building all 12 and sorting by arcs (ties by candidate).
  const engine::Context world;
  const auto data = problem(12, 5);
  const auto stats = compute_setting_stats(world, data);
  const GaussianCiTest test(stats[0], 1e-3, 0);
  const auto graph = partial_correlation_graph(test);
  const auto order_of = [&](int candidate) {
    engine::RandomStream rng(9, "test/start", std::uint64_t(candidate));
    return min_degree_order(graph, rng);
  };
  const auto imap = [&](const std::vector<int>& order) { return minimal_imap_gaussian(order, test); };
  const auto chosen = sparsest_start_orders(world, 12, 5, order_of, imap);

  std::vector<std::pair<int, int>> arcs_and_candidate;
  for (int c = 0; c < 12; ++c) arcs_and_candidate.emplace_back(imap(order_of(c)).num_edges(), c);
  std::sort(arcs_and_candidate.begin(), arcs_and_candidate.end());
  ASSERT_EQ(chosen.size(), 5u);
  for (std::size_t r = 0; r < 5; ++r) EXPECT_EQ(chosen[r], order_of(arcs_and_candidate[r].second)) << "restart " << r;
  // Not a vacuous choice: the candidates' sparsity differs, so keeping the sparsest changes the starts.
  EXPECT_LT(arcs_and_candidate.front().first, arcs_and_candidate.back().first);
}

TEST(CausalDistributed, StartCandidatesSameDagForAnyRankCount) {
  const engine::Context world;
  const auto data = problem(15, 8);
  for (const char* algorithm : {"gsp", "utigsp"}) {
    DiscoveryParams params;
    params.algorithm = name_table(Algorithm{}).parse(algorithm, "algorithm");
    params.alpha = 1e-3;
    params.restarts = 4;
    params.start_candidates = 2;
    const auto [distributed, single] = expect_same_as_one_rank(world, data, params, algorithm);
    ASSERT_EQ(distributed.restarts.size(), 4u);
    for (std::size_t r = 0; r < 4; ++r) EXPECT_EQ(distributed.restarts[r].edges, single.restarts[r].edges) << r;
  }
}

}  // namespace
}  // namespace tessera::solvers::causal
