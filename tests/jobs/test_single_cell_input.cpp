// A single-cell screen (.h5ad, written by anndata: tests/jobs/single_cell_fixtures.py) into the (context x
// perturbation) table: GEARS's condition names made canonical ("A+ctrl" -> A, "B+A" -> A+B), cells pseudobulked
// and each context's ctrl mean subtracted, optionally normalised, log1p'd and restricted to highly variable genes.
// Every value is checked against numpy's computation of the same table (to 1e-5: the groups travel as float32), at
// 1, 2 and 3 ranks, and against a one-rank load of the same file to 1e-6 relative. Malformed options and names are
// refused with messages naming the file, the column and the fix.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/context.h"
#include "jobs/table_input.h"
#include "tests/support/python_fixture.h"
#include "tests/support/test_helpers.h"

namespace tessera::jobs {
namespace {

using tessera::testing::expect_mentions;
using tessera::testing::message_of;

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

// The screen and numpy's tables, written once for this program.
#define SCREEN_OR_SKIP(dir) TESSERA_SHARED_PYTHON_FIXTURE_OR_SKIP(dir, TESSERA_SINGLE_CELL_FIXTURES, "")

// numpy's table: genes (header), then (context, perturbation) -> change.
struct Expected {
  std::vector<std::string> genes;
  std::map<std::pair<std::string, std::string>, std::vector<double>> changes;
};

Expected read_expected(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  Expected expected;
  std::string line;
  std::getline(in, line);
  std::istringstream header(line);
  std::string field;
  for (int column = 0; std::getline(header, field, '\t'); ++column)
    if (column >= 2) expected.genes.push_back(field);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string context, perturbation;
    std::getline(fields, context, '\t');
    std::getline(fields, perturbation, '\t');
    std::vector<double> values;
    while (std::getline(fields, field, '\t')) values.push_back(std::stod(field));
    expected.changes[{context, perturbation}] = values;
  }
  return expected;
}

TableOptions gears_options() {
  TableOptions options;
  apply_preset(SingleCellPreset::kGears, options, options.single_cell);
  return options;
}

void expect_table(const io::PerturbationTable& table, const Expected& expected) {
  EXPECT_EQ(table.genes, expected.genes);
  EXPECT_EQ(table.cells, (std::vector<std::string>{"K562", "RPE1"}));
  EXPECT_EQ(table.perts, (std::vector<std::string>{"A", "A+B", "B", "C"}));  // canonical, sorted
  std::size_t observed = 0;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!table.observed[std::size_t(e)]) continue;
    ++observed;
    const std::pair<std::string, std::string> key{table.cells[std::size_t(table.cell_of(e))],
                                                  table.perts[std::size_t(table.pert_of(e))]};
    const auto at = expected.changes.find(key);
    ASSERT_NE(at, expected.changes.end()) << key.first << ", " << key.second << " is not in numpy's table";
    for (std::size_t g = 0; g < expected.genes.size(); ++g)
      EXPECT_NEAR(table.signature(e)(Eigen::Index(g)), at->second[g], 1e-5) << key.first << ", " << key.second;
  }
  EXPECT_EQ(observed, expected.changes.size());  // RPE1 has no C
}

// The same table as a one-rank load of the file, to 1e-6 relative (the groups' sums differ by rounding).
void expect_like_one_rank(const io::PerturbationTable& table, const std::filesystem::path& file,
                          const TableOptions& options) {
  const auto alone = load_table(world().alone(), file.string(), options, 0).table;
  ASSERT_EQ(alone.signatures.cols(), table.signatures.cols());
  EXPECT_LE((alone.signatures - table.signatures).cwiseAbs().maxCoeff(),
            1e-6 * std::max(1.0, alone.signatures.cwiseAbs().maxCoeff()));
}

TEST(SingleCellInput, GearsConditionsPseudobulkedAgainstControls) {
  SCREEN_OR_SKIP(dir);
  const TableOptions options = gears_options();
  const auto input = load_table(world(), (dir / "screen.h5ad").string(), options, 0);
  expect_table(input.table, read_expected(dir / "expected_raw.tsv"));
  // The control means are each context's ctrl cells (20 and 15 of them).
  EXPECT_EQ(input.table.control_counts, (std::vector<int>{1, 1}));  // one control group per context
  EXPECT_EQ(input.table.gene_symbols.front(), "G0");                // var's gene_name
  expect_like_one_rank(input.table, dir / "screen.h5ad", options);
}

TEST(SingleCellInput, NormalisedLog1pOnHighlyVariableGenes) {
  SCREEN_OR_SKIP(dir);
  TableOptions options = gears_options();
  options.single_cell.normalize_total = 1e4;
  options.single_cell.log1p = true;
  options.single_cell.var_genes = "highly_variable";
  const auto input = load_table(world(), (dir / "screen.h5ad").string(), options, 0);
  expect_table(input.table, read_expected(dir / "expected_norm_log1p_hvg.tsv"));
  expect_like_one_rank(input.table, dir / "screen.h5ad", options);
}

TEST(SingleCellInput, GenesListedByIdKeepTheirOrder) {
  SCREEN_OR_SKIP(dir);
  TableOptions options = gears_options();
  options.single_cell.var_genes = "ENSG0005,ENSG0001";
  const auto table = load_table(world(), (dir / "screen.h5ad").string(), options, 0).table;
  const Expected all = read_expected(dir / "expected_raw.tsv");
  Expected two{{"ENSG0005", "ENSG0001"}, {}};
  for (const auto& [key, values] : all.changes) two.changes[key] = {values[5], values[1]};
  expect_table(table, two);
}

TEST(SingleCellInput, BadNamesAndOptionsAreRefused) {
  SCREEN_OR_SKIP(dir);
  const std::string screen = (dir / "screen.h5ad").string();
  TableOptions options;  // no preset: obs has no cell_id
  expect_mentions(message_of([&] { load_table(world(), screen, options, 0); }),
                  {screen, "no column 'cell_id'", "condition, cell_type", "--obs-context", "--preset"});
  options = gears_options();
  options.single_cell.var_genes = "ENSG0001,nope";
  expect_mentions(message_of([&] { load_table(world(), screen, options, 0); }),
                  {"--var-genes", "'nope'", "highly_variable", screen});
  options = gears_options();
  expect_mentions(message_of([&] { load_table(world(), (dir / "empty_part.h5ad").string(), options, 0); }),
                  {"empty_part.h5ad", "/obs/condition", "'A++B'", "empty part", "A+ctrl"});
  options = gears_options();
  options.control_types_given = true;
  expect_mentions(message_of([&] { load_table(world(), screen, options, 0); }), {"--control-types", "--control-value"});
  options = gears_options();
  options.side.gene_info = "geneinfo_beta.txt";
  expect_mentions(message_of([&] { load_table(world(), screen, options, 0); }), {"--gene-info", "AnnData"});
}

}  // namespace
}  // namespace tessera::jobs
