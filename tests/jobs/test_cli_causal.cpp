// End-to-end: the causal and search commands as a user chains them. simulate-dag writes data that discover
// reads (CSV and DCDI give the same DAG, on 1, 2 and 3 ranks), discover's metrics equal an independent SHD,
// design reads discover's DAG and a real-perturbation pool fitted from the data, and rank finds a planted
// reversing signature among impute's completed table. Every bad input ends with a clear error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/context.h"
#include "io/csv.h"
#include "io/gctx.h"
#include "solvers/causal/dag.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::mpirun;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

fs::path scratch(const std::string& name) { return tessera::testing::scratch_dir("tessera_cli_causal", name); }

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A DAG over the names X0..X{p-1} from an edge-list CSV (source,target or from,to).
tessera::solvers::causal::Dag dag_of(const fs::path& csv, int p) {
  const auto table = tessera::io::read_csv(csv);
  tessera::solvers::causal::Dag dag(p);
  for (const auto& row : table.rows) dag.add_edge(std::stoi(row[0].substr(1)), std::stoi(row[1].substr(1)));
  return dag;
}

}  // namespace

TEST(CliCausal, SimulateDagThenDiscoverOnAnyLayoutAndRankCount) {
  const auto dir = scratch("discover");
  auto result = run_command(kTessera + " simulate-dag --nodes 15 --observational-samples 600 --settings 3 " +
                            "--samples-per-setting 400 --seed 7 --out " + (dir / "csv").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result = run_command(kTessera + " simulate-dag --nodes 15 --observational-samples 600 --settings 3 " +
                       "--samples-per-setting 400 --seed 7 --format dcdi --out " + (dir / "dcdi").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string targets = file_text(dir / "csv" / "targets.txt");
  targets.erase(targets.find_last_not_of('\n') + 1);
  ASSERT_FALSE(targets.empty());

  std::string reference;
  for (int ranks : {1, 2, 3}) {
    const auto out = dir / ("igsp_np" + std::to_string(ranks));
    result = run_command(mpirun(ranks) + " " + kTessera + " discover -i " + (dir / "csv" / "data.csv").string() +
                         " --targets '" + targets + "' --algorithm igsp --truth " +
                         (dir / "csv" / "truth_edges.csv").string() + " --truth-targets " +
                         (dir / "csv" / "truth_targets.csv").string() + " -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const std::string edges = file_text(out / "dag_edges.csv");
    if (ranks == 1) reference = edges;
    EXPECT_EQ(edges, reference) << ranks << " ranks";
  }
  // The published search policy and test, with the known targets, on 1 and 2 ranks: the same DAG, and the
  // search report (restarts.csv, timing.csv) adds up: every restart once, dealt round-robin over the ranks.
  std::string published;
  for (int ranks : {1, 2}) {
    const auto out = dir / ("utigsp_np" + std::to_string(ranks));
    result = run_command(mpirun(ranks) + " " + kTessera + " discover -i " + (dir / "csv" / "data.csv").string() +
                         " --targets '" + targets +
                         "' --algorithm utigsp --move best --depth inf --invariance-test "
                         "wald --restarts 4 -o " +
                         out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    if (ranks == 1) published = file_text(out / "dag_edges.csv");
    EXPECT_EQ(file_text(out / "dag_edges.csv"), published) << ranks << " ranks";
    const auto restarts = tessera::io::read_csv(out / "restarts.csv");
    const auto timing = tessera::io::read_csv(out / "timing.csv");
    ASSERT_EQ(restarts.rows.size(), 4u);
    long long visited = 0, ci_tests = 0;
    for (std::size_t r = 0; r < restarts.rows.size(); ++r) {
      EXPECT_EQ(restarts.rows[r][restarts.column("restart", "restarts")], std::to_string(r));
      EXPECT_EQ(restarts.rows[r][restarts.column("rank", "restarts")], std::to_string(int(r) % ranks));
      visited += std::stoll(restarts.rows[r][restarts.column("dags_visited", "restarts")]);
      ci_tests += std::stoll(restarts.rows[r][restarts.column("ci_tests", "restarts")]);
    }
    EXPECT_EQ(std::to_string(visited), timing.rows[0][timing.column("dags_visited", "timing")]);
    EXPECT_EQ(std::to_string(ci_tests), timing.rows[0][timing.column("ci_tests", "timing")]);
    EXPECT_GT(ci_tests, 0);
    EXPECT_EQ(timing.rows[0][timing.column("ranks", "timing")], std::to_string(ranks));
    EXPECT_NE(result.output.find("DAGs visited"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(std::to_string(visited) + " DAGs visited"), std::string::npos) << result.output;
  }

  // The DCDI folder carries the same data and targets: the same DAG.
  result = run_command(kTessera + " discover -i " + (dir / "dcdi").string() + " --algorithm igsp -o " +
                       (dir / "igsp_dcdi").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(file_text(dir / "igsp_dcdi" / "dag_edges.csv"), reference);

  // metrics.csv's SHD equals one recomputed here from the two edge lists.
  const auto metrics = tessera::io::read_csv(dir / "igsp_np1" / "metrics.csv");
  const auto truth = dag_of(dir / "csv" / "truth_edges.csv", 15);
  const auto learned = dag_of(dir / "igsp_np1" / "dag_edges.csv", 15);
  EXPECT_EQ(std::stoi(metrics.rows[0][metrics.column("shd", "metrics")]),
            tessera::solvers::causal::shd(truth, learned));
  EXPECT_EQ(metrics.rows[0][metrics.column("true_targets", "metrics")], "3");
  EXPECT_EQ(metrics.rows[0][metrics.column("correct_targets", "metrics")], "3");  // igsp uses the given ones
}

TEST(CliCausal, DesignOnDiscoveredDagWithAPoolFittedFromTheData) {
  const auto dir = scratch("design");
  auto result = run_command(kTessera + " simulate-dag --nodes 8 --intervention shift --settings 4 --seed 2 --out " +
                            (dir / "sim").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result =
      run_command(kTessera + " discover -i " + (dir / "sim" / "data.csv").string() + " -o " + (dir / "found").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string reference;
  for (int ranks : {1, 2}) {
    const auto out = dir / ("design_np" + std::to_string(ranks) + ".csv");
    result =
        run_command(mpirun(ranks) + " " + kTessera + " design --dag " + (dir / "found" / "dag_edges.csv").string() +
                    " --pool-data " + (dir / "sim" / "data.csv").string() +
                    " --observational obs --instances 6 --rounds 3 --acquisition greedy,random -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("of 6 instances (4 perturbations in the pool)"), std::string::npos) << result.output;
    const auto pool = tessera::io::read_csv(out.string() + ".pool.csv");
    EXPECT_EQ(pool.rows.size(), 4u);  // one candidate per interventional setting
    EXPECT_EQ(pool.header[0], "perturbation");
    if (ranks == 1) reference = file_text(out);
    EXPECT_EQ(file_text(out), reference) << ranks << " ranks";  // the curves are printed to 4 decimals
  }
}

TEST(CliCausal, RankFindsAPlantedReversalInImputedAndObservedSignatures) {
  const auto dir = scratch("rank");
  auto result = run_command(kTessera + " impute --method two_way_mean --out " + (dir / "imp").string(), 300);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // The query is the exact reverse of one observed signature of CELL01.
  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto completed = tessera::io::read_gctx<float>(dir / "imp" / "completed_two_way_mean.gctx", self);
  const auto& cell = completed.cols.require("cell_id", "completed");
  const auto& imputed = completed.cols.require("imputed", "completed");
  const auto& symbol = completed.rows.require("pr_gene_symbol", "completed");
  std::size_t planted = 0;
  while (cell.text[planted] != "CELL01" || imputed.numbers[planted] != 0) ++planted;
  {
    std::ofstream query(dir / "query.csv");
    query << "gene,value\n";
    for (std::size_t g = 0; g < completed.rows.size(); ++g)
      query << symbol.text[g] << "," << -double(completed.values(Eigen::Index(g), Eigen::Index(planted))) << "\n";
  }
  std::string reference;
  for (int ranks : {1, 2, 3}) {
    const auto out = dir / ("rank_np" + std::to_string(ranks) + ".csv");
    result = run_command(mpirun(ranks) + " " + kTessera + " rank -q " + (dir / "query.csv").string() + " -l " +
                         (dir / "imp" / "completed_two_way_mean.gctx").string() + " --heldout " +
                         (dir / "imp" / "heldout_two_way_mean.gctx").string() +
                         " --cell CELL01 --rank-by cosine --pairs -k 5 -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("978 of 978 genes matched"), std::string::npos) << result.output;
    const auto table = tessera::io::read_csv(out);
    ASSERT_EQ(table.rows.size(), 5u);
    EXPECT_EQ(table.rows[0][table.column("candidate", "rank")],
              "CELL01:" + completed.cols.require("pert_id", "c").text[planted]);
    EXPECT_NEAR(std::stod(table.rows[0][table.column("cosine", "rank")]), 1.0, 1e-4);
    if (ranks == 1) reference = file_text(out);
    EXPECT_EQ(file_text(out), reference) << ranks << " ranks";
  }
}

TEST(CliCausal, BadInputEndsWithAClearError) {
  const auto dir = scratch("errors");
  auto result = run_command(kTessera + " simulate-dag --nodes 6 --format dcdi --out " + (dir / "d").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::ofstream(dir / "pool.csv") << "perturbation,NOT_A_NODE\nx,1\n";
  std::ofstream(dir / "dag.csv") << "source,target\nX0,X1\n";
  std::ofstream(dir / "q.csv") << "gene,value\nGENE0001,1\nGENE0002,-1\n";
  struct Case {
    std::string arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"simulate-dag --graph ring", "--graph 'ring'"},
      {"simulate-dag --nodes 5 --targets-per-setting 6", "--targets-per-setting"},
      {"discover -i " + (dir / "d").string() + " --targets 1:X0", "DCDI folder names its settings"},
      {"discover -i " + (dir / "d").string() + " --dcdi-index 4", "data_interv4.npy"},
      {"discover -i " + (dir / "d").string() + " --order X0,X1", "--order must list every one of the 6"},
      {"discover -i " + (dir / "d").string() + " --shrinkage lots",
       "tessera discover: --shrinkage 'lots' is invalid: the allowed values of shrinkage are auto or in [0, 1]"},
      {"discover -i " + (dir / "d").string() + " --truth " + (dir / "pool.csv").string(), "source"},
      {"discover -i " + (dir / "d").string() + " --depth 0",
       "tessera discover: --depth '0' is invalid: the allowed values of depth are inf or at least 1"},
      {"discover -i " + (dir / "d").string() + " --move sideways",
       "tessera discover: --move 'sideways' is not one of first | best"},
      {"design --pool " + (dir / "pool.csv").string(), "need --dag"},
      {"design --dag " + (dir / "dag.csv").string() + " --pool " + (dir / "pool.csv").string(), "NOT_A_NODE"},
      {"rank -q " + (dir / "q.csv").string() + " -l " + (dir / "missing.gctx").string(), "missing.gctx"},
      {"rank -q q.csv -l missing.gctx --pair-space latent", "add --pairs"},
      {"rank -q q.csv -l missing.gctx --pairs --pair-space latent --controls c.csv", "needs --model"},
      {"rank -q q.csv -l missing.gctx --pairs --pair-space protein",
       "tessera rank: --pair-space 'protein' is not one of gene | latent"},
  };
  // On 2 ranks, where an error must also end the other rank: every rank meets these errors alike, and the 1-rank
  // exit path is test_cli's (each launch costs about 2 s of MPI and LibTorch start-up).
  for (const auto& c : cases) {
    result = run_command(
        "cd " + tessera::testing::quote(dir.string()) + " && " + mpirun(2) + " " + kTessera + " " + c.arguments, 120);
    EXPECT_NE(result.exit_code, 0) << c.arguments;
    EXPECT_NE(result.exit_code, 124) << "hung: " << c.arguments;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << c.arguments << "\n" << result.output;
  }
}
