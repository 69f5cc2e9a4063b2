// End-to-end: the `tessera` binary as a user runs it. Results must not depend on the rank count, files written
// by one command must be read back by the next, and every bad input must end with a clear error and exit code,
// leaving no half-written output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/context.h"
#include "io/csv.h"
#include "io/gctx.h"
#include "solvers/registry.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::data_dir;
using tessera::testing::has_temporary_files;
using tessera::testing::mpirun;
using tessera::testing::quote;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

fs::path scratch(const std::string& name) { return tessera::testing::scratch_dir("tessera_cli", name); }

// The metrics CSV without its timing column, which legitimately differs run to run.
tessera::io::CsvTable metrics_without_time(const fs::path& csv) {
  auto table = tessera::io::read_csv(csv);
  const auto seconds = table.column("seconds", csv.string());
  for (auto& row : table.rows) row.erase(row.begin() + long(seconds));
  return table;
}

// Metrics of `got` against `want`: FaLRTC and the NTKs sum over rank slabs (Allreduce of Grams, ScaLAPACK), and the
// autoencoder's float32 LibTorch products run on as many threads as Open MPI leaves each rank, so their figures
// may differ from one rank's in the last printed digits; every other method's rows are identical.
void expect_same_metrics(const tessera::io::CsvTable& got, const tessera::io::CsvTable& want, int ranks) {
  ASSERT_EQ(got.rows.size(), want.rows.size()) << ranks << " ranks";
  for (std::size_t r = 0; r < want.rows.size(); ++r) {
    const auto& method = want.rows[r][0];
    if (method != "falrtc" && method != "ntk" && method != "ntk_dnpp" && method != "autoencoder") {
      EXPECT_EQ(got.rows[r], want.rows[r]) << ranks << " ranks";
      continue;
    }
    ASSERT_EQ(got.rows[r].size(), want.rows[r].size());
    for (std::size_t c = 0; c < want.rows[r].size(); ++c) {
      if (want.rows[r][c].empty() || c < 2) {
        EXPECT_EQ(got.rows[r][c], want.rows[r][c]);
        continue;
      }
      EXPECT_NEAR(std::stod(got.rows[r][c]), std::stod(want.rows[r][c]), 1e-5)
          << method << " " << want.header[c] << " on " << ranks << " ranks";
    }
  }
}

}  // namespace

TEST(Cli, ImputeOnBuiltInDataGivesTheSameResultsOnOneTwoAndThreeRanks) {
  tessera::io::CsvTable reference_metrics;
  tessera::io::GeneMatrix reference_completed;
  tessera::engine::Context self(MPI_COMM_SELF);
  for (int ranks : {1, 2, 3}) {
    const auto out = scratch("impute_np" + std::to_string(ranks));
    // Every method (the default), with FaLRTC and the autoencoder shortened to keep the test quick.
    const auto result = run_command(mpirun(ranks) + " " + kTessera + " impute --falrtc-iterations 3" +
                                        " --ae-max-epochs 2 --out " + out.string(), 600);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    // The printed table names every method.
    for (const auto& method : tessera::solvers::imputation_methods())
      EXPECT_NE(result.output.find(method), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("r0/" + std::to_string(ranks)), std::string::npos) << "logs name the rank";
    const auto metrics = metrics_without_time(out / "metrics.csv");
    auto completed = tessera::io::read_gctx<float>(out / "completed_two_way_mean.gctx", self);
    EXPECT_FALSE(has_temporary_files(out));
    if (ranks == 1) {
      reference_metrics = metrics;
      reference_completed = std::move(completed);
      // 12 cell types x 200 drugs, 978 genes, in the built-in screen.
      EXPECT_EQ(reference_completed.num_genes(), 978);
      EXPECT_EQ(reference_completed.num_signatures(), 12 * 200);
      continue;
    }
    // Local methods run whole folds on single ranks and the table is summed in double, so their metrics agree
    // to the printed digits and the completed values to float rounding.
    expect_same_metrics(metrics, reference_metrics, ranks);
    ASSERT_EQ(completed.values.cols(), reference_completed.values.cols());
    EXPECT_LE((completed.values - reference_completed.values).cwiseAbs().maxCoeff(), 1e-5f) << ranks << " ranks";
    EXPECT_EQ(completed.cols.ids, reference_completed.cols.ids);
  }
}

TEST(Cli, SimulateThenImputeThenEvaluateAgree) {
  const auto dir = scratch("pipeline");
  const std::string gctx = (dir / "screen.gctx").string(), truth = (dir / "truth.h5").string();
  auto result = run_command(kTessera + " simulate --num-cells 6 --num-drugs 60 --num-genes 100 --seed 3 --out " +
                            gctx + " --truth " + truth);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto out = dir / "impute";
  result = run_command(mpirun(2) + " " + kTessera + " impute --input " + gctx +
                       " --method cell_mean,two_way_mean --folds 3 --min-drugs 3 --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;

  // evaluate recomputes impute's held-out metrics from the files alone (predictions stored as float32).
  result = run_command(kTessera + " evaluate --predictions " + (out / "heldout_cell_mean.gctx").string() +
                       " --truth " + gctx + " --fold-file " + (out / "folds.csv").string() + " --out " +
                       (dir / "eval.csv").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto impute_metrics = tessera::io::read_csv(out / "metrics.csv");
  const auto eval_metrics = tessera::io::read_csv(dir / "eval.csv");
  ASSERT_EQ(impute_metrics.rows[0][0], "cell_mean");
  ASSERT_EQ(impute_metrics.rows[0][1], "all");
  ASSERT_EQ(eval_metrics.rows[0][1], "all");
  for (std::size_t column : {2u, 4u, 5u})  // pearson_r, mean_r2, mean_cosine
    EXPECT_NEAR(std::stod(eval_metrics.rows[0][column]), std::stod(impute_metrics.rows[0][column]), 1e-5)
        << impute_metrics.header[column];
  EXPECT_EQ(eval_metrics.rows[0][6], impute_metrics.rows[0][6]);  // same number of signatures

  // Completed tables are scored against the simulator's truth on the never-measured pairs.
  result = run_command(kTessera + " evaluate --predictions " + (out / "completed_two_way_mean.gctx").string() +
                       " --ground-truth " + truth + " --only-imputed");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("two_way_mean"), std::string::npos) << result.output;
}

TEST(Cli, ConfigFileSetsOptionsAndCommandLineWins) {
  const auto dir = scratch("config");
  const auto config = dir / "run.ini";
  std::ofstream(config) << "# a pipeline config\nseed = 2\n[simulate]\nnum-genes = 50\n[impute]\nmethod = cell_mean\n"
                           "folds = 3\n";
  const auto out = dir / "out";
  auto result = run_command(kTessera + " impute --config " + config.string() + " --folds 4 --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto metrics = tessera::io::read_csv(out / "metrics.csv");
  for (const auto& row : metrics.rows) EXPECT_EQ(row[0], "cell_mean");
  EXPECT_NE(result.output.find("(4 folds)"), std::string::npos) << "the command line's --folds 4 wins:\n"
                                                                 << result.output;

  std::ofstream(config) << "[impute]\nmethd = cell_mean\n";
  result = run_command(kTessera + " impute --config " + config.string() + " --out " + out.string());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find(config.string()), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("methd"), std::string::npos) << result.output;

  std::ofstream(config) << "[imput]\nmethod = cell_mean\n";
  result = run_command(kTessera + " impute --config " + config.string());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("unknown section [imput]"), std::string::npos) << result.output;
}

TEST(Cli, BadInputEndsWithAClearErrorAndNoOutput) {
  const auto dir = scratch("errors");
  struct Case {
    std::string arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"impute --input /nonexistent/x.gctx", "/nonexistent/x.gctx' does not exist"},
      {"impute --methd all", "unrecognised option '--methd'"},
      {"impute --method nosuch", "nosuch"},
      {"impute --folds 4 --fold-file f.csv", "conflict"},
      {"impute --folds notanumber", "--folds"},
      {"impute --protocol dense", "dense"},
      {"impute --center sometimes", "sometimes"},
      {"impute --reference-cell NOPE", "NOPE"},
      {"simulate --num-genes -5", "num_genes"},
      {"evaluate --predictions p.gctx", "--truth"},
      {"inspect " + (dir / "not_a_gctx.gctx").string(), "not_a_gctx.gctx"},
  };
  std::ofstream(dir / "not_a_gctx.gctx") << "plain text, not HDF5\n";
  for (const auto& c : cases) {
    const auto out = dir / "out";
    const std::string out_option = c.arguments.rfind("impute", 0) == 0 ? " --out " + out.string() : "";
    for (int ranks : {1, 2}) {
      const auto result = run_command(
          "cd " + quote(dir.string()) + " && " + mpirun(ranks) + " " + kTessera + " " + c.arguments + out_option, 120);
      EXPECT_NE(result.exit_code, 0) << c.arguments;
      EXPECT_NE(result.exit_code, 124) << "hung: " << c.arguments;
      EXPECT_NE(result.output.find(c.message), std::string::npos) << c.arguments << "\n" << result.output;
      EXPECT_FALSE(fs::exists(out / "metrics.csv")) << c.arguments;
    }
  }
  EXPECT_FALSE(has_temporary_files(dir));
  const auto help = run_command(kTessera + " impute --help");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  for (const char* option : {"--protocol", "--fold-file", "--two-way-weight", "--config"})
    EXPECT_NE(help.output.find(option), std::string::npos) << option << " missing from impute --help";
  const auto unknown = run_command(kTessera + " imputee");
  EXPECT_EQ(unknown.exit_code, 64) << unknown.output;
}

TEST(Cli, InspectSummarisesTheRealLevel5File) {
  const auto file = data_dir() / "l1000" / "modzs_n272x978.gctx";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found at " << file << " (set TESSERA_DATA_DIR)";
  const auto result = run_command(mpirun(2) + " " + kTessera + " inspect " + file.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("978 genes x 272 signatures"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("pr_gene_symbol"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("0 NaN"), std::string::npos) << result.output;
}
