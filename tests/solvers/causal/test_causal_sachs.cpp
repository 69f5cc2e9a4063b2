// Real data: Sachs et al. (2005) flow cytometry, groups 1-7 (TESSERA_DATA_DIR/sachs/sachs_gss.csv; see
// ../shared/data/README.md). Scores GSP, IGSP and UT-IGSP against the 18-arc consensus network. Skipped when
// the file is missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/context.h"
#include "solvers/causal/discover.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::causal {
namespace {

std::filesystem::path sachs_path() { return tessera::testing::data_dir() / "sachs" / "sachs_gss.csv"; }

Dag consensus() {
  Dag g(11);
  for (const auto& [i, j] : std::vector<Arc>{{0, 1},
                                             {1, 5},
                                             {2, 3},
                                             {2, 8},
                                             {3, 8},
                                             {4, 2},
                                             {4, 3},
                                             {4, 6},
                                             {7, 0},
                                             {7, 1},
                                             {7, 5},
                                             {7, 6},
                                             {7, 9},
                                             {7, 10},
                                             {8, 0},
                                             {8, 1},
                                             {8, 9},
                                             {8, 10}})
    g.add_edge(i, j);
  return g;
}

// Measured SHDs with these settings (alpha = alpha_inv = 1e-5, depth 4, 10 restarts, seed 1): GSP 19, IGSP 18,
// UT-IGSP 17 (7 arcs each) with the Gaussian CI test; UT-IGSP 15 (9 arcs, 5 true) with the HSIC test, whose
// kernel sees the nonlinear, heavy-tailed protein relations. For scale: the empty graph scores 18 and published
// methods report about 15-20 on this data. The bounds leave room for rounding-level changes but catch a broken
// search.
TEST(SachsRealData, ShdAgainstTheConsensusNetwork) {
  const auto path = sachs_path();
  TESSERA_REQUIRE_REAL_DATA(path);
  CausalCsvOptions opt;
  opt.observational = {"1", "2"};
  opt.keep_settings = {"1", "2", "3", "4", "5", "6", "7"};
  const auto data = read_causal_csv(path, "grp", "6:pmek,5:pip2,7:pip3,3:pakts473,4:pkc", opt);
  ASSERT_EQ(data.samples.rows(), 5846);
  ASSERT_EQ(data.num_settings(), 6);
  const engine::Context world;
  const Dag truth = consensus();
  struct Run {
    std::string algorithm, ci_test;
    int bound;
  };
  for (const auto& [algorithm, ci_test, bound] : std::vector<Run>{
           {"gsp", "gaussian", 20}, {"igsp", "gaussian", 20}, {"utigsp", "gaussian", 20}, {"utigsp", "hsic", 16}}) {
    DiscoveryParams params;
    params.algorithm = name_table(Algorithm{}).parse(algorithm, "algorithm");
    params.ci_test = name_table(CiTestKind{}).parse(ci_test, "ci_test");
    params.alpha = 1e-5;
    params.alpha_inv = 1e-5;
    const auto res = discover(world, data, params);
    const int d = shd(truth, res.dag);
    const auto acc = edge_accuracy(truth, res.dag);
    if (world.is_root()) {
      std::printf("Sachs %-6s %-8s SHD %d, %d arcs, precision %.3f recall %.3f; targets:", algorithm.c_str(),
                  ci_test.c_str(), d, res.dag.num_edges(), acc.precision(), acc.recall());
      for (int k = 1; k < data.num_settings(); ++k) {
        std::printf(" %s={", data.setting_names[k].c_str());
        for (int v : res.targets[k]) std::printf(" %s", data.variables[v].c_str());
        std::printf(" }");
      }
      std::printf("\n");
    }
    EXPECT_LE(d, bound) << algorithm;
  }
}

}  // namespace
}  // namespace tessera::solvers::causal
