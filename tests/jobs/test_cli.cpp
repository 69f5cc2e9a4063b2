// End-to-end: the `tessera` binary as a user runs it. Results must not depend on the rank count, files written
// by one command must be read back by the next, and every bad input must end with a clear error and exit code,
// leaving no half-written output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

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

// A run with its standard error (the log lines, mpirun's messages) kept apart in `log`: `output` is standard
// output alone, where the tables are printed.
struct SplitRun {
  tessera::testing::CommandResult result;
  std::string log;
};

SplitRun run_split(const std::string& command, const fs::path& log_file, int timeout_seconds = 120) {
  SplitRun run;
  run.result = run_command("(" + command + ") 2>" + quote(log_file.string()), timeout_seconds);
  std::ifstream in(log_file);
  run.log.assign(std::istreambuf_iterator<char>(in), {});
  return run;
}

// The first words of the rows of the metrics table whose title starts with `title` (jobs/metrics_table.cpp: the
// title line, a header line "  method  pearson_r ...", then one "  <method>  <figures>" line per method, up to a
// blank line).
std::vector<std::string> table_rows(const std::string& text, const std::string& title) {
  std::vector<std::string> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line) && line.rfind(title, 0) != 0) {
  }
  if (!std::getline(lines, line) || line.find(" method ") == std::string::npos) return rows;
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
    std::istringstream words(line);
    std::string first;
    if (words >> first) rows.push_back(first);
  }
  return rows;
}

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

// Every method once on one rank, then the command path on 2 and 3 ranks (folds farmed over the ranks, a method that
// distributes itself, the gathered metrics, the completed table written collectively) with one method of each kind.
// Each method's own rank invariance is proven at 1, 2 and 3 ranks by its solver test, so it is not repeated here:
// every method (cell_mean, drug_mean, two_way_mean, additive included) through cross-validation by
// test_cross_validation (CrossValidate.EveryMethodMatchesSerialAndFoldsByHand; additive also by test_additive);
// besides, dnpp by test_dnpp (Dnpp.CrossValidationMatchesOneRank), synthetic_interventions by
// test_synthetic_interventions (SyntheticInterventions.DistributedIsBitIdenticalToOneRank), falrtc by test_falrtc
// (Falrtc.CrossValidationMatchesOneRankToSummationOrder), ntk by test_ntk_exact
// (NtkExact.MatchesDenseEigenSolveOnEveryRankCount) and test_ntk_matrix_free
// (MatrixFree.SameAnswerOnEveryRankCountAndThreadCount), ntk_dnpp by test_ntk_dnpp
// (NtkDnpp.RichCellsMatchBruteForceAndOthersMatchThePlainPrior), autoencoder by test_autoencoder_training
// (AutoencoderTraining.ManyRanksMatchOneRankWithTheSameGlobalBatch).
TEST(Cli, ImputeOnBuiltInDataGivesTheSameResultsOnOneTwoAndThreeRanks) {
  const std::vector<std::string> methods = tessera::solvers::imputation_methods();
  tessera::io::CsvTable reference_metrics;
  tessera::io::GeneMatrix reference_completed;
  tessera::engine::Context self(MPI_COMM_SELF);
  for (int ranks : {1, 2, 3}) {
    const auto out = scratch("impute_np" + std::to_string(ranks));
    // One rank: every method (the default), with FaLRTC and the autoencoder shortened to keep the test quick: one
    // FaLRTC iteration (its line search from the default Lipschitz start included) per fold; three took 50 of the
    // run's 55 s, and later iterations are test_falrtc's (convergence, rank invariance) and test_stop_signals's (a
    // stop between iterations of the command). More ranks: a local method (farmed by fold) and one that distributes
    // itself (the NTK: ScaLAPACK over the ranks).
    const std::string method_option = ranks == 1 ? "" : " --method two_way_mean,ntk";
    const auto run = run_split(mpirun(ranks) + " " + kTessera + " impute --falrtc-iterations 1 --ae-max-epochs 2" +
                                   method_option + " --out " + out.string(),
                               out.parent_path() / ("impute_np" + std::to_string(ranks) + ".log"), 600);
    ASSERT_EQ(run.result.exit_code, 0) << run.result.output << run.log;
    // The printed table has one row per method run, in the method table's order.
    const std::vector<std::string> expected_rows =
        ranks == 1 ? methods : std::vector<std::string>{"two_way_mean", "ntk"};
    EXPECT_EQ(table_rows(run.result.output, "Held-out signatures"), expected_rows) << run.result.output;
    EXPECT_NE(run.log.find("[tessera r0/" + std::to_string(ranks)), std::string::npos) << "logs name the rank:\n"
                                                                                       << run.log;
    const auto metrics = metrics_without_time(out / "metrics.csv");
    auto completed = tessera::io::read_gctx<float>(out / "completed_two_way_mean.gctx", self);
    EXPECT_FALSE(has_temporary_files(out));
    if (ranks == 1) {
      reference_metrics = metrics;
      reference_completed = std::move(completed);
      // 12 cell types x 200 drugs, 978 genes, in the built-in screen.
      EXPECT_EQ(reference_completed.num_genes(), 978);
      EXPECT_EQ(reference_completed.num_signatures(), 12 * 200);
      std::set<std::string> in_metrics;
      for (const auto& row : metrics.rows) in_metrics.insert(row[0]);
      EXPECT_EQ(in_metrics, std::set<std::string>(methods.begin(), methods.end()));
      continue;
    }
    // The one-rank rows of the methods run here. Local methods run whole folds on single ranks and the table is
    // summed in double, so their metrics agree to the printed digits and the completed values to float rounding.
    tessera::io::CsvTable reference_rows = reference_metrics;
    std::erase_if(reference_rows.rows, [&](const auto& row) {
      return std::find(expected_rows.begin(), expected_rows.end(), row[0]) == expected_rows.end();
    });
    expect_same_metrics(metrics, reference_rows, ranks);
    ASSERT_EQ(completed.values.cols(), reference_completed.values.cols());
    EXPECT_LE((completed.values - reference_completed.values).cwiseAbs().maxCoeff(), 1e-5f) << ranks << " ranks";
    EXPECT_EQ(completed.cols.ids, reference_completed.cols.ids);
  }
}

// --autotune and stack on the built-in screen: inner_cv_<method>.csv says, for every outer fold and the completion,
// which grid point was chosen (one weight 1 per fold) and the stack's weights (non-negative, summing to one per
// fold and cell type); both files and the metrics are the same on one and two ranks.
TEST(Cli, AutotuneAndStackWriteTheirChoicesTheSameOnOneAndTwoRanks) {
  std::string reference_tuned, reference_stack;
  tessera::io::CsvTable reference_metrics;
  for (int ranks : {1, 2}) {
    const auto out = scratch("autotune_np" + std::to_string(ranks));
    const auto run = run_split(mpirun(ranks) + " " + kTessera +
                                   " impute --method two_way_mean,stack --autotune --folds 3 --inner-folds 2"
                                   " --stack-methods cell_mean,drug_mean,two_way_mean --out " +
                                   out.string(),
                               out.parent_path() / ("autotune_np" + std::to_string(ranks) + ".log"), 600);
    ASSERT_EQ(run.result.exit_code, 0) << run.result.output << run.log;
    const auto tuned = tessera::io::read_csv(out / "inner_cv_two_way_mean.csv");
    std::map<std::string, std::pair<int, double>> per_fold;  // fold -> (candidates, weight sum)
    for (const auto& row : tuned.rows) {
      auto& [count, sum] = per_fold[row[0]];
      ++count, sum += std::stod(row[4]);
      EXPECT_TRUE(row[4] == "0" || row[4] == "1") << row[4];
    }
    EXPECT_EQ(per_fold.size(), 4u) << "3 folds and the completion";
    for (const auto& [fold, count_sum] : per_fold) EXPECT_EQ(count_sum, std::make_pair(3, 1.0)) << fold;
    const auto stack = tessera::io::read_csv(out / "inner_cv_stack.csv");
    std::map<std::string, double> weight_sum;  // "fold/cell"
    std::set<std::string> bases;
    for (const auto& row : stack.rows) {
      weight_sum[row[0] + "/" + row[1]] += std::stod(row[4]);
      EXPECT_GE(std::stod(row[4]), 0.0);
      bases.insert(row[2]);
    }
    EXPECT_EQ(bases, (std::set<std::string>{"cell_mean", "drug_mean", "two_way_mean two_way_weight=0.25",
                                            "two_way_mean two_way_weight=0.5", "two_way_mean two_way_weight=0.75"}));
    for (const auto& [key, sum] : weight_sum) EXPECT_NEAR(sum, 1.0, 1e-12) << key;
    EXPECT_TRUE(weight_sum.count("completion/all"));
    const auto metrics = metrics_without_time(out / "metrics.csv");
    if (ranks == 1) {
      reference_tuned = tessera::testing::file_text(out / "inner_cv_two_way_mean.csv");
      reference_stack = tessera::testing::file_text(out / "inner_cv_stack.csv");
      reference_metrics = metrics;
      continue;
    }
    EXPECT_EQ(tessera::testing::file_text(out / "inner_cv_two_way_mean.csv"), reference_tuned);
    EXPECT_EQ(tessera::testing::file_text(out / "inner_cv_stack.csv"), reference_stack);
    expect_same_metrics(metrics, reference_metrics, ranks);
  }

  // A grid file: errors name the file and the line; --autotune-grid alone is refused before any work.
  const auto dir = scratch("autotune_grid");
  const std::map<std::string, std::string> bad{{"[ntk]\nntk_alpha = 0.5, x\n", "line 2"},
                                               {"[ntk]\nntk_alpha = 0.5, x\n", "'x' is not a number"},
                                               {"[nosuch]\ndnpp_k = 3\n", "[nosuch] is not an imputation method"},
                                               {"[dnpp]\ndnpp_q = 3\n", "no method has a knob 'dnpp_q'"},
                                               {"dnpp_k = 3\n", "stands before any section"}};
  for (const auto& [text, message] : bad) {
    const auto grid = dir / "grid.ini";
    std::ofstream(grid) << text;
    const auto result = run_command(kTessera + " impute --method dnpp --autotune --autotune-grid " +
                                    quote(grid.string()) + " --out " + quote((dir / "out").string()));
    EXPECT_NE(result.exit_code, 0) << text;
    EXPECT_NE(result.output.find(message), std::string::npos) << text << "\n" << result.output;
    EXPECT_FALSE(fs::exists(dir / "out")) << "refused before anything is written";
  }
  const auto alone = run_command(kTessera + " impute --autotune-grid x.ini --out " + quote((dir / "out").string()));
  EXPECT_NE(alone.output.find("add --autotune"), std::string::npos) << alone.output;
}

// --normalize l2: every method sees, scores and writes unit-norm signatures (the measured columns of the completed
// table have norm 1 to float precision); the title of the printed table says so.
TEST(Cli, NormalizeL2ScalesEverySignatureToUnitNorm) {
  const auto out = scratch("normalize");
  const auto run = run_command(kTessera + " impute --method cell_mean --folds 2 --normalize l2 --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("2 folds, unit-norm signatures"), std::string::npos) << run.output;
  tessera::engine::Context self(MPI_COMM_SELF);
  const auto completed = tessera::io::read_gctx<float>(out / "completed_cell_mean.gctx", self);
  const auto& imputed = completed.cols.require("imputed", "completed_cell_mean.gctx");
  int measured = 0;
  for (Eigen::Index j = 0; j < completed.values.cols(); ++j) {
    if (imputed.as_string(std::size_t(j)) != "0") continue;
    ++measured;
    EXPECT_NEAR(completed.values.col(j).cast<double>().norm(), 1.0, 1e-6) << completed.cols.ids[std::size_t(j)];
  }
  EXPECT_EQ(measured, 643) << "the built-in screen's measured pairs";
  const auto refused = run_command(kTessera + " impute --normalize l1 --out " + (out / "x").string());
  EXPECT_NE(refused.output.find("'l1' is not one of none | l2"), std::string::npos) << refused.output;
}

TEST(Cli, SimulateThenImputeThenEvaluateAgree) {
  const auto dir = scratch("pipeline");
  const std::string gctx = (dir / "screen.gctx").string(), truth = (dir / "truth.h5").string();
  auto result = run_command(kTessera + " simulate --num-cells 6 --num-drugs 60 --num-genes 100 --seed 3 --out " + gctx +
                            " --truth " + truth);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto out = dir / "impute";
  result = run_command(mpirun(2) + " " + kTessera + " impute --input " + gctx +
                       " --method cell_mean,two_way_mean --folds 3 --min-drugs 3 --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;

  // evaluate recomputes impute's held-out metrics from the files alone (predictions stored as float32).
  result = run_command(kTessera + " evaluate --predictions " + (out / "heldout_cell_mean.gctx").string() + " --truth " +
                       gctx + " --fold-file " + (out / "folds.csv").string() + " --out " + (dir / "eval.csv").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto impute_metrics = tessera::io::read_csv(out / "metrics.csv");
  const auto eval_metrics = tessera::io::read_csv(dir / "eval.csv");
  ASSERT_EQ(impute_metrics.rows[0][0], "cell_mean");
  ASSERT_EQ(impute_metrics.rows[0][1], "all");
  ASSERT_EQ(eval_metrics.rows[0][1], "all");
  ASSERT_EQ(eval_metrics.header, impute_metrics.header);
  for (const char* name : {"pearson_r", "mean_r2", "mean_cosine", "mse", "mean_pearson_de20"}) {
    const auto column = impute_metrics.column(name, "metrics.csv");
    EXPECT_NEAR(std::stod(eval_metrics.rows[0][column]), std::stod(impute_metrics.rows[0][column]), 1e-5) << name;
  }
  const auto signatures = impute_metrics.column("signatures", "metrics.csv");
  EXPECT_EQ(eval_metrics.rows[0][signatures], impute_metrics.rows[0][signatures]);

  // Completed tables are scored against the simulator's truth on the never-measured pairs: every imputed column
  // (imputed = 1) and no measured one, in the table's row named after the file.
  const auto completed_file = out / "completed_two_way_mean.gctx";
  const auto truth_run =
      run_split(kTessera + " evaluate --predictions " + completed_file.string() + " --ground-truth " + truth +
                    " --only-imputed --out " + (dir / "eval_truth.csv").string(),
                dir / "eval_truth.log");
  ASSERT_EQ(truth_run.result.exit_code, 0) << truth_run.result.output << truth_run.log;
  EXPECT_EQ(table_rows(truth_run.result.output, "Predictions "), std::vector<std::string>{"completed_two_way_mean"})
      << truth_run.result.output;
  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto completed = tessera::io::read_gctx<float>(completed_file, self);
  const auto& imputed = completed.cols.require("imputed", completed_file.string());
  const auto never_measured = std::count(imputed.numbers.begin(), imputed.numbers.end(), 1.0);
  ASSERT_GT(never_measured, 0);
  ASSERT_LT(std::size_t(never_measured), completed.cols.size());
  const auto truth_metrics = tessera::io::read_csv(dir / "eval_truth.csv");
  ASSERT_EQ(truth_metrics.rows[0][0], "completed_two_way_mean");
  ASSERT_EQ(truth_metrics.rows[0][1], "all");
  EXPECT_EQ(std::stoll(truth_metrics.rows[0][truth_metrics.column("signatures", "eval_truth.csv")]),
            never_measured);  // signatures scored

  // Completing only some pairs (same folds) gives exactly those columns of the whole completed table.
  const auto& cell_ids = completed.cols.require("cell_id", completed_file.string()).text;
  const auto& pert_ids = completed.cols.require("pert_id", completed_file.string()).text;
  const std::string cell = cell_ids.back(), pert_a = pert_ids[1], pert_b = pert_ids[7];
  const auto expect_columns_of_whole = [&](const fs::path& part_file, const std::vector<std::string>& ids) {
    const auto part = tessera::io::read_gctx<float>(part_file, self);
    ASSERT_EQ(part.cols.ids, ids);
    for (std::size_t j = 0; j < ids.size(); ++j) {
      const auto whole = std::find(completed.cols.ids.begin(), completed.cols.ids.end(), ids[j]);
      ASSERT_NE(whole, completed.cols.ids.end()) << ids[j];
      EXPECT_TRUE(part.values.col(Eigen::Index(j)) == completed.values.col(whole - completed.cols.ids.begin()))
          << ids[j];
    }
  };
  const auto some = dir / "some";
  const std::string same_folds = " --fold-file " + (out / "folds.csv").string();
  result = run_command(mpirun(2) + " " + kTessera + " impute --input " + gctx + same_folds +
                       " --method two_way_mean --complete-cells " + cell + " --complete-perts " + pert_b + "," +
                       pert_a + " --out " + some.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_columns_of_whole(some / "completed_two_way_mean.gctx", {cell + ":" + pert_a, cell + ":" + pert_b});
  const auto pairs = dir / "pairs.csv";
  std::ofstream(pairs) << "cell_id,pert_id\n" << cell << "," << pert_b << "\n" << cell_ids[0] << "," << pert_a << "\n";
  result = run_command(kTessera + " impute --input " + gctx + same_folds + " --method two_way_mean --complete-pairs " +
                       pairs.string() + " --out " + some.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_columns_of_whole(some / "completed_two_way_mean.gctx", {cell_ids[0] + ":" + pert_a, cell + ":" + pert_b});
  result = run_command(kTessera + " impute --input " + gctx +
                       " --method two_way_mean --complete-cells nosuchcell --out " + (dir / "bad").string());
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("--complete-cells names cell type 'nosuchcell', which is not in the table"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(dir / "bad" / "metrics.csv"));
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
    bool parsing_only = false;  // refused while parsing, before any rank reads or computes: run on 2 ranks only
  };
  const std::vector<Case> cases = {
      {"impute --input /nonexistent/x.gctx", "/nonexistent/x.gctx' does not exist"},
      {"impute --methd all", "unrecognised option '--methd'", true},
      {"impute --method nosuch", "tessera impute: --method 'nosuch' is not one of all | cell_mean | drug_mean", true},
      {"impute --folds 4 --fold-file f.csv", "conflict", true},
      {"impute --folds notanumber", "--folds", true},
      {"impute --protocol dense", "dense", true},
      {"impute --center sometimes", "tessera impute: --center 'sometimes' is not one of auto | none | required", true},
      {"impute --reference-cell NOPE", "NOPE"},
      {"simulate --num-genes -5", "num_genes"},
      {"evaluate --predictions p.gctx", "--truth", true},
      {"inspect " + (dir / "not_a_gctx.gctx").string(), "not_a_gctx.gctx"},
  };
  std::ofstream(dir / "not_a_gctx.gctx") << "plain text, not HDF5\n";
  for (const auto& c : cases) {
    const auto out = dir / "out";
    const std::string out_option = c.arguments.rfind("impute", 0) == 0 ? " --out " + out.string() : "";
    for (int ranks : c.parsing_only ? std::vector<int>{2} : std::vector<int>{1, 2}) {
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

TEST(CliRealData, InspectSummarisesTheRealLevel5File) {
  const auto file = data_dir() / "l1000" / "modzs_n272x978.gctx";
  TESSERA_REQUIRE_REAL_DATA(file);
  const auto result = run_command(mpirun(2) + " " + kTessera + " inspect " + file.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("978 genes x 272 signatures"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("pr_gene_symbol"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("0 NaN"), std::string::npos) << result.output;
}
