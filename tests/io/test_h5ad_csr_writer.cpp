// write_h5ad_csr: an .h5ad with a CSR X, written by rank 0 alone. Runs at 1, 2 and 3 ranks: the file is read back by
// io::read_h5ad_local on every rank (each rank its own cells) and equals what was written, value for value and
// field for field; python3-anndata (tests/io/h5ad_csr_check.py) opens it as a scipy csr_matrix of the same shape,
// values, sum and obs categories, and writes back exactly the same elements, types and attributes. The same
// content gives the same bytes. Bad matrices and tables fail with the element and the fix, and leave no file.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/error.h"
#include "io/h5ad.h"
#include "io/h5ad_writer.h"
#include "tests/io/anndata_report.h"
#include "tests/support/shared_temp_dir.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::has_temporary_files;
using tessera::testing::message_of;

namespace fs = std::filesystem;

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

struct TempDir : tessera::testing::SharedTempDir {
  TempDir() : SharedTempDir("tessera_test_h5ad_csr_writer") {}
};

struct Sample {
  Eigen::MatrixXd dense;  // genes x cells: what X holds, transposed as Tessera reads it
  CsrMatrix x;
  MetaTable obs;
  MetaTable var;
};

constexpr int kCells = 11;
constexpr int kGenes = 7;

// Cells of three types and four perturbations (a non-ASCII one among them); row 0 stores nothing, row 1 every gene,
// the others every third gene or so; values with fractions and large counts.
Sample sample() {
  Sample s;
  s.dense = Eigen::MatrixXd::Zero(kGenes, kCells);
  s.x.rows = kCells;
  s.x.cols = kGenes;
  MetaColumn perturbation{"perturbation", MetaType::kString, {}, {}};
  MetaColumn cell_type{"cell_type", MetaType::kString, {}, {}};
  MetaColumn stored{"n_genes", MetaType::kInt64, {}, {}};
  MetaColumn share{"share", MetaType::kFloat64, {}, {}};
  const std::vector<std::string> perturbations = {"ctrl", "KLF1", "KLF1+MAP2K6", "\xce\xb2-catenin"};
  for (int r = 0; r < kCells; ++r) {
    for (int g = 0; g < kGenes; ++g) {
      if (r == 0 || (r != 1 && (r + 2 * g) % 3 != 0)) continue;
      const double value = r == 5 && g == 2 ? 1048577.0 : (r * kGenes + g) % 13 + 0.25 * (g % 2);
      s.dense(g, r) = value;
      s.x.indices.push_back(g);
      s.x.data.push_back(float(value));
    }
    s.x.indptr.push_back(std::int64_t(s.x.data.size()));
    perturbation.text.push_back(perturbations[std::size_t(r % 4)]);
    cell_type.text.push_back(r % 3 == 0 ? "K562" : r % 3 == 1 ? "A549" : "RPE1");
    s.obs.ids.push_back("cell" + std::to_string(r));
    stored.numbers.push_back(double(s.x.indptr[std::size_t(r) + 1] - s.x.indptr[std::size_t(r)]));
    share.numbers.push_back(r == 3 ? std::numeric_limits<double>::quiet_NaN() : 0.5 * r);
  }
  s.obs.fields = {perturbation, cell_type, stored, share};
  MetaColumn name{"gene_name", MetaType::kString, {}, {}};
  for (int g = 0; g < kGenes; ++g) {
    s.var.ids.push_back("ENSG" + std::to_string(1000 + g));
    name.text.push_back("GENE" + std::to_string(g));
  }
  s.var.fields = {name};
  return s;
}

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Written on rank 0; every rank waits for the file.
// Written on rank 0; the others learn whether it worked (and do not wait forever when it threw).
void write_on_root(const fs::path& path, const Sample& s) {
  std::string failure;
  if (world().is_root()) {
    try {
      write_h5ad_csr(path, s.obs, s.var, s.x);
    } catch (const Error& error) {
      failure = error.what();
    }
  }
  engine::broadcast(world(), failure);
  ASSERT_EQ(failure, "");
}

TEST(H5adCsrWriter, ReadBackEqualsWhatWasWrittenOnEveryRank) {
  const TempDir dir;
  const Sample s = sample();
  const fs::path path = dir / "cells.h5ad";
  ASSERT_NO_FATAL_FAILURE(write_on_root(path, s));
  const auto read = read_h5ad_local<double>(path, world());
  EXPECT_EQ(read.rows.ids, s.var.ids);
  tessera::testing::expect_same_meta(read.rows, s.var);
  tessera::testing::expect_same_meta(read.cols, s.obs);
  ASSERT_EQ(read.values.rows(), kGenes);
  ASSERT_EQ(read.values.cols(), read.signatures.size());
  const Eigen::MatrixXd expected = s.dense.middleCols(read.signatures.begin, read.signatures.size());
  EXPECT_EQ(read.values, expected);  // exact: every value is a float32
  // The ranks' blocks tile all cells.
  std::int64_t cells = read.signatures.size();
  engine::allreduce_sum(world(), std::span<std::int64_t>(&cells, 1));
  EXPECT_EQ(cells, kCells);
}

TEST(H5adCsrWriter, AnndataOpensItAsACsrMatrixAndWritesItBackIdentically) {
  const TempDir dir;
  const Sample s = sample();
  const fs::path path = dir / "cells.h5ad";
  ASSERT_NO_FATAL_FAILURE(write_on_root(path, s));
  std::string why;
  if (world().is_root()) why = tessera::testing::why_no_anndata();
  engine::broadcast(world(), why);
  if (!why.empty()) GTEST_SKIP() << why;
  if (!world().is_root()) return;

  const auto seen = tessera::testing::read_with_anndata(TESSERA_H5AD_CSR_CHECK, path);
  double sum = 0;
  for (const float v : s.x.data) sum += v;
  const auto& x = seen.one("X");
  ASSERT_EQ(x.size(), 6u) << seen.report;
  EXPECT_EQ(std::vector<std::string>(x.begin(), x.begin() + 5),
            (std::vector<std::string>{"csr_matrix", "float32", std::to_string(kCells), std::to_string(kGenes),
                                      std::to_string(s.x.nonzeros())}));
  EXPECT_EQ(std::stod(x[5]), sum);  // small integers and quarters: exact in any order
  const auto rows = seen.lines.find("X_row");
  ASSERT_NE(rows, seen.lines.end()) << seen.report;
  ASSERT_EQ(rows->second.size(), std::size_t(kCells));
  for (int r = 0; r < kCells; ++r)
    for (int g = 0; g < kGenes; ++g)
      EXPECT_EQ(std::stoul(rows->second[std::size_t(r)][std::size_t(g)]),
                std::bit_cast<std::uint32_t>(float(s.dense(g, r))))
          << r << "," << g;
  EXPECT_EQ(seen.one("obs_index"), s.obs.ids);
  EXPECT_EQ(seen.one("obs_column:perturbation"), (std::vector<std::string>{"category", "int8", "False"}));
  EXPECT_EQ(seen.one("obs_categories:perturbation"),
            (std::vector<std::string>{"KLF1", "KLF1+MAP2K6", "ctrl", "\xce\xb2-catenin"}));
  EXPECT_EQ(seen.one("obs_values:perturbation"), s.obs.fields[0].text);
  EXPECT_EQ(seen.one("obs_categories:cell_type"), (std::vector<std::string>{"A549", "K562", "RPE1"}));
  EXPECT_EQ(seen.one("obs_values:cell_type"), s.obs.fields[1].text);
  EXPECT_EQ(seen.one("obs_column:n_genes"), std::vector<std::string>{"int64"});
  EXPECT_EQ(seen.one("obs_column:share"), std::vector<std::string>{"float64"});
  EXPECT_EQ(seen.one("var_index"), s.var.ids);
  EXPECT_EQ(seen.one("var_values:gene_name"), s.var.fields[0].text);
  EXPECT_EQ(seen.one("anndata_differences"), std::vector<std::string>{"0"}) << seen.report;
}

TEST(H5adCsrWriter, TheSameContentGivesTheSameBytes) {
  const TempDir dir;
  const Sample s = sample();
  ASSERT_NO_FATAL_FAILURE(write_on_root(dir / "a.h5ad", s));
  ASSERT_NO_FATAL_FAILURE(write_on_root(dir / "b.h5ad", s));
  if (!world().is_root()) return;
  const std::string a = bytes_of(dir / "a.h5ad");
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == bytes_of(dir / "b.h5ad"));
  // Another value changes the bytes (the comparison can fail).
  Sample other = s;
  other.x.data.back() += 1;
  write_h5ad_csr(dir / "c.h5ad", other.obs, other.var, other.x);
  EXPECT_FALSE(a == bytes_of(dir / "c.h5ad"));
}

TEST(H5adCsrWriter, BadMatricesAndTablesNameTheElementAndTheFixAndLeaveNoFile) {
  if (!world().is_root()) return;  // local: one rank is enough
  const fs::path dir = tessera::testing::scratch_dir("tessera_test_h5ad_csr_writer", "bad");
  const fs::path path = dir / "bad.h5ad";
  const std::string head = "cannot write h5ad file '" + path.string() + "'";
  const Sample good = sample();
  auto refusal = [&](const auto& change) {
    Sample s = good;
    change(s);
    return message_of([&] { write_h5ad_csr(path, s.obs, s.var, s.x); });
  };
  EXPECT_EQ(refusal([](Sample& s) { s.x.cols = kGenes + 1; }),
            head +
                ", /X: the matrix is 11 x 8 but obs has 11 rows and var 7; give one matrix row per obs row and "
                "one column per var row");
  EXPECT_EQ(refusal([](Sample& s) { s.x.indptr.pop_back(); }),
            head + ", /X/indptr: has 11 offsets (first 0) for 11 rows; give rows + 1 offsets starting at 0");
  EXPECT_EQ(refusal([](Sample& s) { s.x.data.pop_back(); }),
            head + ", /X: indptr ends at " + std::to_string(good.x.nonzeros()) + " with " +
                std::to_string(good.x.nonzeros()) + " indices and " + std::to_string(good.x.nonzeros() - 1) +
                " values; the three must agree on the number of stored values");
  EXPECT_EQ(refusal([](Sample& s) { s.x.indptr[3] = s.x.indptr[2] - 1; }),
            head + ", /X/indptr: offset 3 (" + std::to_string(good.x.indptr[2] - 1) + ") is below offset 2 (" +
                std::to_string(good.x.indptr[2]) + "); offsets must not decrease");
  // Row 1 stores every gene: columns 0..6 at positions 0..6.
  EXPECT_EQ(refusal([](Sample& s) { s.x.indices[1] = 7; }),
            head +
                ", /X/indices: row 1 stores column 7 at position 1; columns must be in [0, 7) and strictly "
                "increasing within a row (sum duplicates)");
  EXPECT_EQ(refusal([](Sample& s) { std::swap(s.x.indices[2], s.x.indices[3]); }),
            head +
                ", /X/indices: row 1 stores column 2 at position 3; columns must be in [0, 7) and strictly "
                "increasing within a row (sum duplicates)");
  EXPECT_EQ(refusal([](Sample& s) { s.x.data[4] = std::numeric_limits<float>::infinity(); }),
            head + ", /X/data: row 1, column 4 holds inf; every stored value must be finite");
  EXPECT_EQ(refusal([](Sample& s) { s.obs.ids[4] = s.obs.ids[2]; }),
            head + ", /obs/_index: duplicate id 'cell2' at positions 2 and 4; give every obs rows (cells) its own id");
  EXPECT_EQ(refusal([](Sample& s) { s.var.fields[0].text.pop_back(); }),
            head + ", /var/gene_name: has 6 values for 7 genes (var); give one value per id");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(has_temporary_files(dir));
  fs::remove_all(dir.parent_path());  // scratch_dir's per-process folder too
}

}  // namespace
}  // namespace tessera::io
