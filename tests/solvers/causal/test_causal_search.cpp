// GSP, IGSP and UT-IGSP on simulated linear Gaussian data with a known DAG.
#include <gtest/gtest.h>

#include "engine/context.h"
#include "engine/error.h"
#include "solvers/causal/discover.h"
#include "solvers/causal/random_dag.h"

namespace tessera::solvers::causal {
namespace {

struct Problem {
  LinearSem sem;
  InterventionalData data;
};

Problem make_problem(int p, double degree, std::uint64_t seed, std::vector<Intervention> ivs, int n_obs, int n_iv) {
  engine::RandomStream rng(seed, "test/sem");
  LinearSem sem = random_linear_sem(random_er_dag(p, degree, rng), rng);
  auto data = simulate_interventional(sem, n_obs, ivs, n_iv, seed);
  return {std::move(sem), std::move(data)};
}

const engine::Context& self() {
  static const engine::Context ctx(MPI_COMM_SELF);
  return ctx;
}

TEST(Gsp, RecoversTheMarkovEquivalenceClassFrom10000Samples) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const Problem pr = make_problem(8, 2, seed, {}, 10000, 0);
    DiscoveryParams params;
    params.restarts = 5;
    const auto res = discover(self(), pr.data, params);
    EXPECT_TRUE(markov_equivalent(pr.sem.dag, res.dag))
        << "seed " << seed << ": SHD " << shd(pr.sem.dag, res.dag) << ", " << res.edges << " arcs vs "
        << pr.sem.dag.num_edges();
  }
}

std::vector<Intervention> single_node_interventions(const std::vector<int>& nodes, Intervention::Kind kind) {
  std::vector<Intervention> out;
  for (int v : nodes) out.push_back({{v}, kind});
  return out;
}

TEST(Igsp, RecoversTheDagWithKnownTargets) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const Problem pr = make_problem(6, 2, seed, single_node_interventions({0, 1, 2, 3, 4, 5}, Intervention::Kind::kPerfect),
                                    10000, 10000);
    DiscoveryParams params;
    params.algorithm = "igsp";
    params.restarts = 5;
    const auto res = discover(self(), pr.data, params);
    EXPECT_TRUE(markov_equivalent(pr.sem.dag, res.dag)) << "seed " << seed;
    EXPECT_EQ(shd(pr.sem.dag, res.dag), 0) << "seed " << seed;
  }
}

TEST(UtIgsp, RecoversTheDagAndThePlantedTargets) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const std::vector<int> planted{0, 2, 4};
    const Problem pr = make_problem(6, 2, seed, single_node_interventions(planted, Intervention::Kind::kShift),
                                    10000, 10000);
    DiscoveryParams params;
    params.algorithm = "utigsp";
    params.restarts = 5;
    const auto res = discover(self(), pr.data, params);
    EXPECT_TRUE(markov_equivalent(pr.sem.dag, res.dag)) << "seed " << seed << ": SHD " << shd(pr.sem.dag, res.dag);
    ASSERT_EQ(res.targets.size(), 4u);
    EXPECT_TRUE(res.targets[0].empty());
    for (int k = 1; k <= 3; ++k)
      EXPECT_EQ(res.targets[k], std::vector<int>{planted[k - 1]}) << "seed " << seed << " setting " << k;
  }
}

TEST(Discover, FixedOrderGivesTheMinimalImapAndBadParamsThrow) {
  const Problem pr = make_problem(8, 2, 7, {}, 10000, 0);
  DiscoveryParams params;
  params.fixed_order = pr.sem.dag.topological_order();
  EXPECT_EQ(shd(pr.sem.dag, discover(self(), pr.data, params).dag), 0);
  params.fixed_order = {0, 1};
  EXPECT_THROW(discover(self(), pr.data, params), Error);
  DiscoveryParams bad;
  bad.algorithm = "pc";
  EXPECT_THROW(discover(self(), pr.data, bad), Error);
  bad.algorithm = "utigsp";  // no interventional settings
  EXPECT_THROW(discover(self(), pr.data, bad), Error);
}

TEST(Discover, RequiredAndForbiddenArcsAreObeyed) {
  Dag chain(3);  // 0 -> 1 -> 2: its Markov equivalence class has three DAGs
  chain.add_edge(0, 1);
  chain.add_edge(1, 2);
  engine::RandomStream rng(1, "test/sem");
  const LinearSem sem = random_linear_sem(chain, rng, 0.5, 1.0);
  const auto data = simulate_interventional(sem, 10000, {}, 0, 5);
  DiscoveryParams params;
  params.required = {{2, 1}};
  const auto res = discover(self(), data, params);
  EXPECT_TRUE(res.dag.has_edge(2, 1));
  EXPECT_TRUE(res.dag.has_edge(1, 0));  // the only DAG of the class with 2 -> 1
  EXPECT_TRUE(markov_equivalent(chain, res.dag));
  params.required.clear();
  params.forbidden = {{0, 1}, {1, 0}};
  const auto gap = discover(self(), data, params);
  EXPECT_FALSE(gap.dag.adjacent(0, 1));
  params.forbidden = {{2, 1}};
  params.required = {{2, 1}};
  EXPECT_THROW(discover(self(), data, params), Error);  // both required and forbidden
  params.forbidden.clear();
  params.required = {{0, 1}, {1, 2}, {2, 0}};
  EXPECT_THROW(discover(self(), data, params), Error);  // a cycle
}

}  // namespace
}  // namespace tessera::solvers::causal
