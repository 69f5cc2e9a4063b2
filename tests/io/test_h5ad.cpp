// AnnData (.h5ad) reading: files written by anndata itself (tests/io/h5ad_fixtures.py, run with Debian's
// /usr/bin/python3 and python3-anndata) in every layout of X, compared value for value with scipy's and pandas'
// reading of the same files; malformed copies (made with h5py) each refused with its own message. Runs at 1, 2
// and 3 ranks: every rank checks its own block of cells against the expected matrix and against a one-rank read
// of the whole file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/h5ad.h"
#include "io/npy.h"
#include "tests/support/python_fixture.h"
#include "tests/support/run_command.h"
#include "tests/support/shared_temp_dir.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::expect_mentions;
using tessera::testing::expect_same_meta;
using tessera::testing::message_of;

namespace fs = std::filesystem;

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

struct TempDir : tessera::testing::SharedTempDir {
  TempDir() : SharedTempDir("tessera_test_h5ad") {}
};

#define WRITE_FIXTURES_OR_SKIP(folder, kind) \
  TESSERA_PYTHON_FIXTURE_OR_SKIP(TESSERA_H5AD_FIXTURES, tessera::testing::quote((folder).string()) + " " + (kind))

// The script's metadata table: header, a line of types, then rows; numbers in Python's repr (exact).
MetaTable read_expected_meta(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  auto split = [](const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      fields.push_back(line.substr(start, tab - start));
    fields.push_back(line.substr(start));
    return fields;
  };
  std::string line;
  std::getline(in, line);
  const auto names = split(line);
  std::getline(in, line);
  const auto types = split(line);
  MetaTable table;
  for (std::size_t c = 1; c < names.size(); ++c) {
    MetaColumn column{names[c], MetaType::kString, {}, {}};
    if (types[c] == "float32") column.type = MetaType::kFloat32;
    if (types[c] == "float64") column.type = MetaType::kFloat64;
    if (types[c] == "int32") column.type = MetaType::kInt32;
    if (types[c] == "int64") column.type = MetaType::kInt64;
    table.fields.push_back(column);
  }
  while (std::getline(in, line)) {
    const auto fields = split(line);
    EXPECT_EQ(fields.size(), names.size()) << path << ": " << line;
    if (fields.size() != names.size()) break;
    table.ids.push_back(fields[0]);
    for (std::size_t c = 1; c < fields.size(); ++c) {
      MetaColumn& column = table.fields[c - 1];
      if (column.type == MetaType::kString)
        column.text.push_back(fields[c]);
      else
        column.numbers.push_back(std::strtod(fields[c].c_str(), nullptr));
    }
  }
  return table;
}

template <typename Scalar>
void expect_equal_bits(const Eigen::Matrix<Scalar, -1, -1>& actual, const Eigen::Matrix<Scalar, -1, -1>& expected,
                       const std::string& what) {
  ASSERT_EQ(actual.rows(), expected.rows()) << what;
  ASSERT_EQ(actual.cols(), expected.cols()) << what;
  for (Eigen::Index c = 0; c < actual.cols(); ++c)
    for (Eigen::Index g = 0; g < actual.rows(); ++g)
      EXPECT_EQ(actual(g, c), expected(g, c)) << what << " gene " << g << ", local cell " << c;
}

template <typename Scalar>
void check_layout(const fs::path& folder, const std::string& name) {
  SCOPED_TRACE(name);
  const fs::path file = folder / (name + ".h5ad");
  const LocalGctx<Scalar> local = read_h5ad_local<Scalar>(file, world());
  expect_same_meta(local.rows, read_expected_meta(folder / (name + ".var.tsv")));
  expect_same_meta(local.cols, read_expected_meta(folder / (name + ".obs.tsv")));

  // scipy's cells x genes matrix, as genes x cells in Scalar (the conversion HDF5 makes is a C cast too).
  const Eigen::MatrixXd cells_by_genes = read_npy(folder / (name + ".X.npy"));
  const Eigen::Matrix<Scalar, -1, -1> expected = cells_by_genes.transpose().cast<Scalar>();
  const engine::BlockRange cells = engine::block_range(expected.cols(), world().size(), world().rank());
  EXPECT_EQ(local.signatures.begin, cells.begin);
  EXPECT_EQ(local.signatures.end, cells.end);
  expect_equal_bits<Scalar>(local.values, expected.middleCols(cells.begin, cells.size()), "against scipy");

  // The one-rank answer (this rank alone reads the whole file) holds the same block, bit for bit.
  const LocalGctx<Scalar> whole = read_h5ad_local<Scalar>(file, world().alone());
  EXPECT_EQ(whole.signatures.size(), expected.cols());
  expect_equal_bits<Scalar>(local.values, whole.values.middleCols(cells.begin, cells.size()), "against 1 rank");
  expect_same_meta(local.cols, whole.cols);
}

// The "good" files, written once for this program (test_pseudobulk.cpp reads them too).
#define GOOD_FIXTURES_OR_SKIP(dir) TESSERA_SHARED_PYTHON_FIXTURE_OR_SKIP(dir, TESSERA_H5AD_FIXTURES, "good")

TEST(H5ad, EveryLayoutMatchesScipyAndPandasAtAnyRankCount) {
  GOOD_FIXTURES_OR_SKIP(dir);
  for (const char* name : {"dense_f32", "dense_i64", "csr_i32_f32", "csr_i64_f64", "csr_unsorted", "csc_f32",
                           "csr_pieces", "csc_pieces"}) {
    check_layout<double>(dir, name);
    check_layout<float>(dir, name);
  }
}

TEST(H5ad, MetadataTypesAreKept) {
  GOOD_FIXTURES_OR_SKIP(dir);
  const auto local = read_h5ad_local<float>(dir / "csr_i32_f32.h5ad", world());
  // Categorical with an unused category and a missing value: the category's text, missing as "" (is_missing).
  const MetaColumn& perturbation = local.cols.require("perturbation", "test");
  EXPECT_EQ(perturbation.type, MetaType::kString);
  EXPECT_EQ(perturbation.text, (std::vector<std::string>{"ctrl", "A", "B", "", "A", "ctrl", "B"}));
  EXPECT_TRUE(perturbation.is_missing(3));
  EXPECT_EQ(local.cols.require("is_control", "test").text[0], "True");
  EXPECT_EQ(local.cols.require("small", "test").type, MetaType::kInt32);
  EXPECT_EQ(local.cols.require("n_counts", "test").type, MetaType::kInt64);
  EXPECT_EQ(local.cols.require("score", "test").type, MetaType::kFloat32);
  // int16 codes (300 categories).
  EXPECT_EQ(local.rows.require("symbol", "test").text,
            (std::vector<std::string>{"SYM7", "SYM250", "", "SYM7", "SYM0"}));
  // Fields in column-order.
  std::vector<std::string> names;
  for (const auto& field : local.cols.fields) names.push_back(field.name);
  EXPECT_EQ(names, (std::vector<std::string>{"perturbation", "cell_type", "barcode", "n_counts", "dose", "score",
                                             "small", "is_control"}));
}

TEST(H5ad, MalformedFilesNameTheDatasetAndTheFault) {
  TempDir dir;
  WRITE_FIXTURES_OR_SKIP(dir.path(), "bad");
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().extension() != ".expect") continue;
    SCOPED_TRACE(entry.path().stem().string());
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string expected = text.str();
    fs::path file = entry.path();
    file.replace_extension(".h5ad");
    const std::string message = message_of([&] { read_h5ad_local<float>(file, world()); });
    // A fault inside one rank's cells is that rank's message; the other ranks say that another rank failed.
    const bool mine = message.find(expected) != std::string::npos;
    const bool other =
        message == "reading h5ad file '" + file.string() + "' failed on another rank (see that rank's error)";
    EXPECT_TRUE(mine || other) << "expected '" << expected << "', got: " << message;
    EXPECT_TRUE(engine::allreduce_any(world(), mine)) << "no rank reported '" << expected << "'";
    ++checked;
  }
  EXPECT_EQ(checked, 14);
}

TEST(H5ad, MissingOrNonHdf5FilesAreRefused) {
  TempDir dir;
  expect_mentions(message_of([&] { read_h5ad_local<float>(dir / "absent.h5ad", world()); }),
                  {"h5ad file '" + (dir / "absent.h5ad").string() + "' does not exist"});
  if (world().is_root()) std::ofstream(dir / "text.h5ad") << "not hdf5\n";
  world().barrier();
  expect_mentions(message_of([&] { read_h5ad_local<float>(dir / "text.h5ad", world()); }),
                  {"'" + (dir / "text.h5ad").string() + "' is not an HDF5 file"});
}

}  // namespace
}  // namespace tessera::io
