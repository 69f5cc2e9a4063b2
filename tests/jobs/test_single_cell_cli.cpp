// `tessera impute` and `inspect` on a single-cell screen (.h5ad written by anndata: tests/jobs/single_cell_fixtures.py)
// as a user runs them, on 2 ranks: the completed table comes back as an .h5ad that anndata opens, with cell_id,
// pert_id and imputed as categoricals, the measured entries equal to numpy's pseudobulk (to 1e-5: float32) and only
// the never-measured pair flagged imputed; inspect's statistics equal numpy's; single-cell options given for bulk
// input are refused; discover reads cells as samples.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/python_fixture.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::mpirun;
using tessera::testing::quote;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, '\t');) fields.push_back(field);
  return fields;
}

// numpy's pseudobulk: "context:perturbation" -> change per gene.
std::map<std::string, std::vector<double>> expected_changes(const fs::path& path) {
  std::ifstream in(path);
  std::map<std::string, std::vector<double>> changes;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto fields = split(line);
    std::vector<double> values;
    for (std::size_t i = 2; i < fields.size(); ++i) values.push_back(std::stod(fields[i]));
    changes[fields[0] + ":" + fields[1]] = values;
  }
  return changes;
}

class SingleCellCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tessera::testing::scratch_dir("tessera_single_cell_cli", "screen");
    TESSERA_PYTHON_FIXTURE_OR_SKIP(TESSERA_SINGLE_CELL_FIXTURES, quote(dir_.string()));
  }
  fs::path dir_;
};

TEST_F(SingleCellCli, ImputeWritesCompletedTablesAnndataOpens) {
  const fs::path out = dir_ / "out";
  const auto run =
      run_command(mpirun(2) + " " + kTessera + " impute --input " + quote((dir_ / "screen.h5ad").string()) +
                  " --preset gears --method two_way_mean --folds 2 --min-drugs 2 -o " + quote(out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(fs::exists(out / "heldout_two_way_mean.h5ad")) << run.output;
  const auto summary = run_command("/usr/bin/python3 " + quote(TESSERA_SINGLE_CELL_FIXTURES) + " --summary " +
                                   quote((out / "completed_two_way_mean.h5ad").string()));
  ASSERT_EQ(summary.exit_code, 0) << summary.output;
  const auto expected = expected_changes(dir_ / "expected_raw.tsv");
  std::istringstream lines(summary.output);
  std::string line;
  int rows = 0, imputed = 0;
  std::vector<std::string> obs;
  while (std::getline(lines, line)) {
    if (line.rfind("shape ", 0) == 0) {
      EXPECT_EQ(line, "shape 8 12");  // 2 contexts x 4 perturbations, 12 genes
    }
    if (line.rfind("obs ", 0) == 0) obs.push_back(line);
    if (line.rfind("row\t", 0) != 0) continue;
    const auto fields = split(line);  // row, id, cell_id, pert_id, imputed, 12 values
    ASSERT_EQ(fields.size(), 17u) << line;
    ++rows;
    EXPECT_EQ(fields[1], fields[2] + ":" + fields[3]);
    if (fields[4] == "1") {
      ++imputed;
      EXPECT_EQ(fields[1], "RPE1:C");  // the one pair never measured
      continue;
    }
    const auto at = expected.find(fields[1]);
    ASSERT_NE(at, expected.end()) << fields[1];
    for (std::size_t g = 0; g < 12; ++g) EXPECT_NEAR(std::stod(fields[5 + g]), at->second[g], 1e-5) << fields[1];
  }
  EXPECT_EQ(rows, 8);
  EXPECT_EQ(imputed, 1);
  EXPECT_EQ(obs, (std::vector<std::string>{"obs cell_id category K562,RPE1", "obs pert_id category A,A+B,B,C",
                                           "obs imputed category 0,1"}));

  // rank reads the .h5ad tables as a library: the imputed pair gets a bootstrap interval from the heldout file.
  std::ofstream(dir_ / "query.csv") << "gene,value\nG0,1\nG1,-1\nG2,2\nG3,-2\nG4,1\nG5,0.5\n";
  const auto rank = run_command(kTessera + " rank -q " + quote((dir_ / "query.csv").string()) + " -l " +
                                quote((out / "completed_two_way_mean.h5ad").string()) + " --heldout " +
                                quote((out / "heldout_two_way_mean.h5ad").string()) + " --min-genes 5 --set-size 2");
  ASSERT_EQ(rank.exit_code, 0) << rank.output;
  EXPECT_NE(rank.output.find("Top 8 of 8 candidates"), std::string::npos) << rank.output;
  // rank,candidate,cell_id,pert_id,source,score,low,high,...: the imputed pair's low and high are numbers.
  const auto at = rank.output.find(",RPE1:C,RPE1,C,imputed:two_way_mean,");
  ASSERT_NE(at, std::string::npos) << rank.output;
  std::istringstream row(rank.output.substr(at + 1, rank.output.find('\n', at) - at - 1));
  std::vector<std::string> fields;
  for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
  ASSERT_GE(fields.size(), 7u) << rank.output;
  EXPECT_NE(fields[5], "n/a") << rank.output;  // low
  EXPECT_NE(fields[6], "n/a") << rank.output;  // high
}

TEST_F(SingleCellCli, OutFormatGctxAndInspect) {
  const fs::path out = dir_ / "out";
  const auto run = run_command(kTessera + " impute --input " + quote((dir_ / "screen.h5ad").string()) +
                               " --preset gears --method cell_mean --folds 2 --min-drugs 2 --out-format gctx -o " +
                               quote(out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(fs::exists(out / "completed_cell_mean.gctx"));
  EXPECT_FALSE(fs::exists(out / "completed_cell_mean.h5ad"));

  const auto inspect = run_command(mpirun(2) + " " + kTessera + " inspect " + quote((dir_ / "screen.h5ad").string()));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  std::ifstream stats(dir_ / "screen_stats.txt");
  std::string numpy_stats;
  std::getline(stats, numpy_stats);
  EXPECT_NE(inspect.output.find("12 genes x 91 cells"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("values: " + numpy_stats + ", 0 NaN"), std::string::npos)
      << inspect.output << "\nnumpy: " << numpy_stats;
}

// discover on the cells of an .h5ad (var = variables, obs column condition = settings) finds exactly the graph it
// finds in the same cells written as CSV.
TEST_F(SingleCellCli, DiscoverReadsCellsAsSamples) {
  const std::string settings = " --setting-column condition --observational ctrl --settings ctrl,A+ctrl,ctrl+B,B+A";
  const auto from_h5ad = run_command(kTessera + " discover --input " + quote((dir_ / "screen.h5ad").string()) +
                                     settings + " --out " + quote((dir_ / "h5ad").string()));
  ASSERT_EQ(from_h5ad.exit_code, 0) << from_h5ad.output;
  const auto from_csv = run_command(kTessera + " discover --input " + quote((dir_ / "screen_cells.csv").string()) +
                                    settings + " --out " + quote((dir_ / "csv").string()));
  ASSERT_EQ(from_csv.exit_code, 0) << from_csv.output;
  auto text = [](const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_FALSE(text(dir_ / "csv" / "dag_edges.csv").empty());
  EXPECT_EQ(text(dir_ / "h5ad" / "dag_edges.csv"), text(dir_ / "csv" / "dag_edges.csv"));
  EXPECT_EQ(text(dir_ / "h5ad" / "targets.csv"), text(dir_ / "csv" / "targets.csv"));
}

TEST_F(SingleCellCli, SingleCellOptionsNeedAnH5ad) {
  const auto run = run_command(kTessera + " impute --log1p --method cell_mean -o " + quote((dir_ / "o").string()));
  EXPECT_NE(run.exit_code, 0);
  for (const char* part : {"--log1p", ".h5ad", "leave them out"})
    EXPECT_NE(run.output.find(part), std::string::npos) << part << "\n" << run.output;
}

}  // namespace
