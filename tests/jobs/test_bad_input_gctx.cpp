// Bad GCTX inputs through the real binary (tests/support/bad_input.h): a real cmapPy file with one bit of a
// filter-pipeline message flipped (read before as raw compressed bytes, past HDF5's buffer), damaged HDF5
// internals (reported before as "data matrix not found"), a matrix with 0 signatures or 0 genes (reported as
// "addr overflow"), metadata longer than the matrix (an "internal error: std::bad_alloc"), a folder named x.gctx
// ("not an HDF5 file"). And Latin-1 metadata, which must be shown and matched as UTF-8.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "io/gctx.h"
#include "io/hdf5_file.h"
#include "tests/io/gctx_damage.h"
#include "tests/support/bad_input.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

const std::string kTessera = TESSERA_BIN;

fs::path real_level5() { return data_dir() / "l1000/modzs_n272x978.gctx"; }

// A GCTX of `genes` x `signatures` with cell_id and pert_id fields, written by the library.
std::string small_gctx(const fs::path& path, int genes, int signatures) {
  io::GeneMatrix m;
  m.values = Eigen::MatrixXf::Ones(genes, signatures);
  for (int g = 0; g < genes; ++g) m.rows.ids.push_back("g" + std::to_string(g));
  std::vector<std::string> cells, perts;
  for (int s = 0; s < signatures; ++s) {
    m.cols.ids.push_back("s" + std::to_string(s));
    cells.push_back("A375");
    perts.push_back("BRD-" + std::to_string(s));
  }
  m.cols.set_text("cell_id", cells);
  m.cols.set_text("pert_id", perts);
  io::write_gctx(path, m);
  return quote(path.string());
}

// Damaged copies of the real cmapPy file.
std::vector<BadInput> real_file_rows() {
  return {
      {"a cmapPy file with one bit of a gzip filter-pipeline message flipped",
       [](const fs::path& dir) {
         copy_with_filter_dropped(real_level5(), dir / "flipped.gctx");
         return kTessera + " inspect " + quote((dir / "flipped.gctx").string());
       },
       1,
       {"flipped.gctx", "/0/META/", "unfiltered chunks", "damaged", "h5dump"}},
      {"a cmapPy file whose group heaps are damaged",
       [](const fs::path& dir) {
         copy_with_signature_damaged(real_level5(), dir / "heap.gctx", "HEAP");
         return kTessera + " inspect " + quote((dir / "heap.gctx").string());
       },
       1,
       {"heap.gctx", "HDF5 cannot read", "damaged", "download or copy it again", "h5dump"}},
  };
}

// Bad files written here.
std::vector<BadInput> rows() {
  return {
      {"a GCTX with 0 signatures",
       [](const fs::path& dir) {
         return kTessera + " impute --method cell_mean --input " + small_gctx(dir / "empty.gctx", 5, 0) + " --out " +
                quote((dir / "run").string());
       },
       1,
       {"empty.gctx", "holds 0 signatures x 5 genes", "nothing to read"},
       {"run/metrics.csv"}},
      {"a GCTX with 0 genes",
       [](const fs::path& dir) { return kTessera + " inspect " + small_gctx(dir / "nogenes.gctx", 0, 4); },
       1,
       {"nogenes.gctx", "holds 4 signatures x 0 genes", "nothing to read"}},
      {"a metadata field longer than the matrix",
       [](const fs::path& dir) {
         {
           io::Hdf5Writer out(dir / "long.gctx");
           out.write_matrix("/0/DATA/0/matrix", Eigen::MatrixXd::Zero(3, 2));
           out.write_strings("/0/META/ROW/id", {"a", "b", "c"});
           out.write_strings("/0/META/COL/id", {"s1", "s2"});
           out.write_strings("/0/META/COL/cell_id", {"A375", "PC3", "MCF7", "VCAP", "A549"});
         }
         return kTessera + " inspect " + quote((dir / "long.gctx").string());
       },
       1,
       {"long.gctx", "/0/META/COL/cell_id: has 5 values but /0/DATA/0/matrix has 2 signatures"}},
      {"a folder named x.gctx",
       [](const fs::path& dir) {
         fs::create_directories(dir / "x.gctx");
         return kTessera + " inspect " + quote((dir / "x.gctx").string());
       },
       1,
       {"x.gctx", "is a folder, not a file"}},
  };
}

TEST(BadInputGctx, RefusedWithFileFieldAndFix) { expect_refusals("tessera_bad_gctx", rows()); }

TEST(BadInputGctxRealData, DamagedRealFileRefusedWithFileFieldAndFix) {
  TESSERA_REQUIRE_REAL_DATA(real_level5());
  expect_refusals("tessera_bad_gctx_real", real_file_rows());
}

// The real Level 5 file stores pert_idose in Latin-1 ("10 \xb5M"): shown as UTF-8, and `--dose "10 µM"` typed in
// UTF-8 selects it. Written here with half the signatures at another dose, so that the filter has work to do.
TEST(BadInputGctx, Latin1DoseIsShownAndMatchedAsUtf8) {
  const auto dir = scratch_dir("tessera_bad_gctx", "latin1");
  const auto screen = dir / "screen.gctx";
  auto result = run_command(kTessera + " simulate --num-genes 20 --target-pool-size 10 --num-cells 3 --num-drugs 8" +
                            " --out " + quote(screen.string()) + " --truth " + quote((dir / "t.h5").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const engine::Context world(MPI_COMM_WORLD);
  auto m = io::read_gctx<float>(screen, world);
  std::vector<std::string> doses;
  for (std::size_t s = 0; s < m.cols.size(); ++s) doses.push_back(s % 2 ? "10 \xb5M" : "1 \xb5M");
  m.cols.set_text("pert_idose", doses);
  io::write_gctx(dir / "latin1.gctx", m);
  const std::string input = quote((dir / "latin1.gctx").string());

  result = run_command(kTessera + " inspect " + input);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  expect_mentions(result.output, {"pert_idose", "2 distinct", "'1 \xc2\xb5M'"});
  EXPECT_EQ(result.output.find("1 \xb5M"), std::string::npos) << result.output;

  const std::string impute =
      kTessera + " impute --method cell_mean --folds 2 --min-drugs 2 --input " + input + " --out ";
  result = run_command(impute + quote((dir / "run").string()) + " --dose '10 \xc2\xb5M'");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  // A dose that no signature has lists the ones present, in UTF-8.
  result = run_command(impute + quote((dir / "none").string()) + " --dose '5 \xc2\xb5M'");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  expect_mentions(result.output, {"5 \xc2\xb5M", "10 \xc2\xb5M", "1 \xc2\xb5M"});
}

}  // namespace
}  // namespace tessera::testing
