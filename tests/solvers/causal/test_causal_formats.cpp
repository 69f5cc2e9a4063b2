// The other ways data reach causal discovery: simulated data sets (simulate-dag's generator and its scale-free
// graphs), DCDI folders and GCTX files. Each must give exactly the data set of the CSV path, so discovery on it
// gives the same DAG; each bad input names the file, the line and the problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "engine/collectives.h"
#include "engine/context.h"
#include "io/gctx.h"
#include "io/npy.h"
#include "solvers/causal/dag_simulation.h"
#include "solvers/causal/dcdi.h"
#include "solvers/causal/discover.h"
#include "solvers/causal/gctx_input.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::causal {
namespace {

std::filesystem::path scratch(const std::string& name) { return testing::scratch_dir("tessera_causal_io", name); }

DagSimulationParams small_study() {
  DagSimulationParams params;
  params.nodes = 12;
  params.observational_samples = 400;
  params.settings = 3;
  params.samples_per_setting = 300;
  params.seed = 4;
  return params;
}

void expect_same_data(const InterventionalData& got, const InterventionalData& want) {
  EXPECT_EQ(got.variables, want.variables);
  EXPECT_EQ(got.setting, want.setting);
  EXPECT_EQ(got.known_targets, want.known_targets);
  ASSERT_EQ(got.samples.rows(), want.samples.rows());
  ASSERT_EQ(got.samples.cols(), want.samples.cols());
  EXPECT_EQ((got.samples - want.samples).cwiseAbs().maxCoeff(), 0.0);
}

TEST(DagSimulation, ListsOnlyTheKnownTargets) {
  auto params = small_study();
  params.settings = 4;
  params.targets_per_setting = 2;
  params.off_targets = 1;
  params.unknown_fraction = 0.25;
  const auto sim = simulate_dag_data(params);
  ASSERT_EQ(sim.data.num_settings(), 5);
  EXPECT_EQ(sim.data.samples.rows(), 400 + 4 * 300);
  for (int k = 1; k <= 4; ++k) {
    const auto& truth = sim.true_targets[std::size_t(k)];
    const auto& listed = sim.data.known_targets[std::size_t(k)];
    EXPECT_EQ(truth.size(), 3u) << k;                 // two listed + one off-target
    EXPECT_EQ(listed.size(), k == 4 ? 0u : 2u) << k;  // the last quarter of the settings is unknown
    for (int t : listed) EXPECT_TRUE(std::binary_search(truth.begin(), truth.end(), t)) << k;
  }
  // A perfect intervention sets its targets to value + N(0, 0.1): the setting's mean is near 2.
  for (int t : sim.true_targets[1]) {
    double sum = 0;
    for (Eigen::Index r = 0; r < sim.data.samples.rows(); ++r)
      if (sim.data.setting[std::size_t(r)] == 1) sum += sim.data.samples(r, t);
    EXPECT_NEAR(sum / 300, 2.0, 0.1);
  }
  // Deterministic from the seed.
  EXPECT_EQ(simulate_dag_data(params).data.samples, sim.data.samples);
  testing::expect_mentions(testing::error_of([] { name_table(RandomGraph{}).parse("ring", "--graph"); }),
                           {"--graph 'ring'"});
}

// Preferential attachment: acyclic, about p * degree / 2 arcs, and hubs far above an ER graph's largest degree.
TEST(DagSimulation, ScaleFreeGraphsHaveHubs) {
  engine::RandomStream sf_rng(1, "test/sf"), er_rng(1, "test/er");
  const int p = 1000;
  const Dag sf = random_scale_free_dag(p, 2.0, sf_rng);
  const Dag er = random_er_dag(p, 2.0, er_rng);
  EXPECT_NO_THROW(sf.topological_order());
  EXPECT_NEAR(sf.num_edges(), p, 5);  // one parent per node after the first
  auto max_degree = [&](const Dag& dag) {
    std::vector<int> degree(p, 0);
    for (const auto& [i, j] : dag.edges()) ++degree[std::size_t(i)], ++degree[std::size_t(j)];
    return *std::max_element(degree.begin(), degree.end());
  };
  EXPECT_GT(max_degree(sf), 3 * max_degree(er)) << max_degree(sf) << " vs " << max_degree(er);
}

TEST(Dcdi, WrittenFolderReadsBackAsTheSameDataAndDag) {
  auto params = small_study();
  params.targets_per_setting = 2;
  params.unknown_fraction = 0.34;  // setting 3 lists no target: an interventional regime with empty lines
  const auto sim = simulate_dag_data(params);
  const auto dir = scratch("roundtrip");
  write_dcdi(dir, 2, sim.data, &sim.sem.dag);
  const auto back = read_dcdi(dir, 2);
  expect_same_data(back, sim.data);
  EXPECT_EQ(back.setting_names, (std::vector<std::string>{"observational", "1", "2", "3"}));
  EXPECT_EQ(read_dcdi_dag(dir, 2).value(), sim.sem.dag);
  EXPECT_FALSE(read_dcdi_dag(dir, 1).has_value());
  // Discovery cannot tell the two paths apart (UT-IGSP: setting 3's targets are unknown).
  DiscoveryParams discovery;
  discovery.algorithm = Algorithm::kUtIgsp;
  const engine::Context world;
  EXPECT_EQ(discover(world, back, discovery).dag, discover(world, sim.data, discovery).dag);
}

TEST(Dcdi, RegimesWithoutAFileComeFromTheTargetLists) {
  const auto dir = scratch("no_regimes");
  Eigen::MatrixXd x(6, 2);
  x << 1, 2, 2, 1, 3, 5, 4, 3, 5, 4, 6, 8;
  io::write_npy(dir / "data_interv1.npy", x);
  std::ofstream(dir / "intervention1.csv") << "\n\n1\n1\n0,1\n0,1\n";
  const auto data = read_dcdi(dir);
  EXPECT_EQ(data.setting, (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(data.known_targets, (std::vector<std::vector<int>>{{}, {1}, {0, 1}}));
}

TEST(Dcdi, BadFilesNameTheLine) {
  const auto dir = scratch("bad");
  Eigen::MatrixXd x(4, 2);
  x << 1, 2, 2, 1, 3, 5, 4, 3;
  io::write_npy(dir / "data_interv1.npy", x);
  std::ofstream(dir / "intervention1.csv") << "\n\n1\n0\n";
  std::ofstream(dir / "regime1.csv") << "0\n0\n1\n1\n";
  testing::expect_mentions(testing::error_of([&] { read_dcdi(dir); }),
                           {"intervention1.csv", "line 4", "regime 1", "line 3"});
  std::ofstream(dir / "intervention1.csv") << "\n\n1\n7\n";
  testing::expect_mentions(testing::error_of([&] { read_dcdi(dir); }), {"line 4", "'7'", "[0, 2)"});
  std::ofstream(dir / "intervention1.csv") << "1\n\n1\n1\n";
  testing::expect_mentions(testing::error_of([&] { read_dcdi(dir); }), {"line 1", "regime 0 is observational"});
  testing::expect_mentions(testing::error_of([&] { read_dcdi(dir, 3); }), {"data_interv3.npy", "--dcdi-index"});
  std::ofstream(dir / "intervention1.csv") << "1\n1\n0\n0\n";
  std::ofstream(dir / "regime1.csv") << "1\n1\n2\n2\n";
  testing::expect_mentions(testing::error_of([&] { read_dcdi(dir); }), {"no sample is observational", "regime 0"});
}

// Genes x samples in a GCTX, the setting in a column field, the vehicle as observational.
TEST(CausalGctx, ReadsTheSameDataAsTheCsvPath) {
  const auto sim = simulate_dag_data(small_study());
  io::BasicGeneMatrix<float> m;
  m.values = sim.data.samples.transpose().cast<float>();
  m.rows.ids = sim.data.variables;
  io::MetaColumn setting{"pert_iname", io::MetaType::kString, {}, {}};
  for (std::size_t r = 0; r < sim.data.setting.size(); ++r) {
    m.cols.ids.push_back("sample" + std::to_string(r));
    const int s = sim.data.setting[r];
    setting.text.push_back(s == 0 ? "DMSO" : "drug" + sim.data.setting_names[std::size_t(s)]);
  }
  m.cols.fields.push_back(setting);
  // Every rank reads the file the root wrote (scratch folders are per process).
  const engine::Context world;
  std::string path = world.is_root() ? (scratch("gctx") / "screen.gctx").string() : "";
  engine::broadcast(world, path);
  if (world.is_root()) io::write_gctx(path, m);
  world.barrier();

  CausalCsvOptions options;
  options.observational = {"DMSO"};
  const auto data =
      read_causal_gctx(world, path, "drug1:" + sim.data.variables[std::size_t(sim.data.known_targets[1][0])], options);
  InterventionalData want = sim.data;
  want.samples = sim.data.samples.cast<float>().cast<double>();
  for (std::size_t k = 2; k < want.known_targets.size(); ++k) want.known_targets[k].clear();
  expect_same_data(data, want);
  EXPECT_EQ(data.setting_names[1], "drug1");

  GctxInputOptions field;
  field.setting_field = "pert_id";
  testing::expect_mentions(testing::error_of([&] { read_causal_gctx(world, path, "", options, field); }),
                           {"screen.gctx", "pert_id"});
}

}  // namespace
}  // namespace tessera::solvers::causal
