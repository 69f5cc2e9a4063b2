// Pseudobulk (io/pseudobulk.h) of files written by anndata (tests/io/h5ad_fixtures.py) in every layout of X: the
// group means, with and without scaling each cell to a total and log1p, against a brute-force computation from
// scipy's dense copy of X (NAME.X.npy), to 1e-12 relative, at 1, 2 and 3 ranks. Cells left out (-1), a cell
// without counts, genes chosen and reordered, and the pieces of a file of more than 2^20 stored values are covered;
// a negative value under log1p is refused naming the cell and the gene.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "io/npy.h"
#include "io/pseudobulk.h"
#include "tests/support/python_fixture.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::expect_mentions;
using tessera::testing::message_of;

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

// The "good" files of tests/io/h5ad_fixtures.py, written once for this program (test_h5ad.cpp reads them too).
#define GOOD_FIXTURES_OR_SKIP(dir) TESSERA_SHARED_PYTHON_FIXTURE_OR_SKIP(dir, TESSERA_H5AD_FIXTURES, "good")

// The definition, cell by cell, from the dense cells x genes matrix.
Pseudobulk brute_force(const Eigen::MatrixXd& x, const std::vector<std::int64_t>& group_of_cell,
                       std::int64_t num_groups, const std::vector<std::int64_t>& genes,
                       const PseudobulkOptions& options) {
  Pseudobulk expected{Eigen::MatrixXd::Zero(Eigen::Index(genes.size()), Eigen::Index(num_groups)),
                      std::vector<std::int64_t>(std::size_t(num_groups), 0)};
  for (Eigen::Index c = 0; c < x.rows(); ++c) {
    const std::int64_t group = group_of_cell[std::size_t(c)];
    if (group < 0) continue;
    const double total = x.row(c).sum();
    const double scale = options.normalize_total > 0 && total > 0 ? options.normalize_total / total : 1.0;
    for (std::size_t r = 0; r < genes.size(); ++r) {
      const double value = x(c, Eigen::Index(genes[r])) * scale;
      expected.means(Eigen::Index(r), Eigen::Index(group)) += options.log1p ? std::log1p(value) : value;
    }
    ++expected.cells[std::size_t(group)];
  }
  for (std::int64_t g = 0; g < num_groups; ++g)
    if (expected.cells[std::size_t(g)] > 0)
      expected.means.col(Eigen::Index(g)) /= double(expected.cells[std::size_t(g)]);
  return expected;
}

void expect_close(const Pseudobulk& actual, const Pseudobulk& expected, const std::string& what) {
  EXPECT_EQ(actual.cells, expected.cells) << what;
  ASSERT_EQ(actual.means.rows(), expected.means.rows()) << what;
  ASSERT_EQ(actual.means.cols(), expected.means.cols()) << what;
  const double scale = std::max(1.0, expected.means.cwiseAbs().maxCoeff());
  EXPECT_LE((actual.means - expected.means).cwiseAbs().maxCoeff(), 1e-12 * scale) << what;
}

// Group = the cell's index mod 3, every fifth cell left out; genes: every other one, last first. As stored, scaled
// to a total, and scaled + log1p; a file with a negative value (cell 0 of the small ones) has log1p checked with
// that cell left out too.
void check_file(const std::filesystem::path& file, const std::filesystem::path& npy) {
  const Eigen::MatrixXd x = read_npy(npy);
  const H5adCells cells(file, world());
  ASSERT_EQ(cells.num_cells(), x.rows());
  std::vector<std::int64_t> group_of_cell;
  for (Eigen::Index c = 0; c < x.rows(); ++c) group_of_cell.push_back(c % 5 == 4 ? -1 : c % 3);
  std::vector<std::int64_t> genes;
  for (Eigen::Index g = x.cols() - 1; g >= 0; g -= 2) genes.push_back(g);
  for (const PseudobulkOptions options : {PseudobulkOptions{0, false}, {10.0, false}, {1e4, true}}) {
    std::vector<std::int64_t> groups = group_of_cell;
    if (options.log1p)
      for (Eigen::Index c = 0; c < x.rows(); ++c)
        if (x.row(c).minCoeff() < 0) groups[std::size_t(c)] = -1;
    const std::string what = file.filename().string() + " normalize_total " + std::to_string(options.normalize_total) +
                             (options.log1p ? " log1p" : "");
    expect_close(pseudobulk(world(), cells, groups, 3, genes, options), brute_force(x, groups, 3, genes, options),
                 what);
  }
}

TEST(Pseudobulk, EveryLayoutMatchesTheDefinition) {
  GOOD_FIXTURES_OR_SKIP(dir);
  // Cell 3 of the small files has no counts. csr_unsorted stores each row's genes in reverse order and its first
  // gene twice (summed before the transform); csr_pieces has more than 2^20 stored values, read by one rank in two
  // batches of whole cells.
  for (const char* name :
       {"dense_f32", "dense_i64", "csr_i32_f32", "csr_i64_f64", "csr_unsorted", "csc_f32", "csr_pieces", "csc_pieces"})
    check_file(dir / (std::string(name) + ".h5ad"), dir / (std::string(name) + ".X.npy"));
}

TEST(Pseudobulk, Log1pOfANegativeValueIsRefused) {
  GOOD_FIXTURES_OR_SKIP(dir);
  const auto file = dir / "csr_i32_f32.h5ad";
  // Alone on every rank, so every rank reads cell 0 and gets the full message.
  const H5adCells cells(file, world().alone());
  const std::vector<std::int64_t> group_of_cell(std::size_t(cells.num_cells()), 0);
  expect_mentions(message_of([&] {
                    pseudobulk(world().alone(), cells, group_of_cell, 1, {0, 4}, {0, true});
                  }),
                  {file.string(), "cell 0 (obs 'cell0')", "-2.5", "gene 'gene4'", "log1p", "leave it out"});
}

}  // namespace
}  // namespace tessera::io
