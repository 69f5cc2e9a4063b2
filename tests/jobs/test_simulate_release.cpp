// End-to-end: `tessera simulate --release beta` on 2 ranks at a small size. The outputs are read back
// independently: the counts and ids of the GCTX against the request and the side tables, and every value against
// the truth file's model (lincs_true_signature) within the noise bound. Bad mode combinations fail with the fix.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/context.h"
#include "io/gctx.h"
#include "solvers/simulation/lincs_release.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::expect_mentions;
using tessera::testing::mpirun;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

TEST(SimulateRelease, TwoRanksWriteTheRequestedRelease) {
  const fs::path dir = tessera::testing::scratch_dir("tessera_simulate_release", "two_ranks") / "release";
  // 11 cells x 90 compounds at 20%: 198 treated signatures and 3 DMSO per cell; slabs of 16 signatures.
  const auto result = run_command(mpirun(2) + " " + kTessera +
                                  " simulate --release beta --cells 11 --compounds 90 --observed 0.2 --genes 30 "
                                  "--factors 3 --noise 0.25 --dmso-per-cell 3 --write-chunk 16 --seed 5 --out " +
                                  dir.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_mentions(result.output, {"Simulated 231 signatures (198 treated", "on 2 ranks", "signatures/s"});

  const tessera::engine::Context self(MPI_COMM_SELF);
  const fs::path gctx = dir / "level5_beta_all_n231x30.gctx";
  ASSERT_TRUE(fs::exists(gctx)) << result.output;
  const auto m = tessera::io::read_gctx<float>(gctx, self);
  ASSERT_EQ(m.num_signatures(), 231);
  ASSERT_EQ(m.num_genes(), 30);
  EXPECT_TRUE(m.cols.fields.empty()) << "level 5 columns carry only id";

  auto siginfo = tessera::testing::read_tsv_columns(dir / "siginfo_beta.txt");
  EXPECT_EQ(siginfo["sig_id"], m.cols.ids);
  auto geneinfo = tessera::testing::read_tsv_columns(dir / "geneinfo_beta.txt");
  EXPECT_EQ(geneinfo["gene_id"], m.rows.ids);

  const auto model = tessera::solvers::simulation::read_lincs_truth(dir / "truth.h5");
  EXPECT_EQ(model.params.cells, 11);
  EXPECT_EQ(model.params.compounds, 90);
  EXPECT_EQ(model.params.seed, 5u);
  int treated = 0, controls = 0;
  for (Eigen::Index j = 0; j < m.num_signatures(); ++j) {
    const std::size_t i = std::size_t(j);
    const int cell = std::stoi(siginfo["cell_iname"][i].substr(4)) - 1;  // CELL007 -> 6
    Eigen::VectorXd truth = Eigen::VectorXd::Zero(30);
    if (siginfo["pert_type"][i] == "trt_cp") {
      ++treated;
      const int compound = std::stoi(siginfo["pert_id"][i].substr(5)) - 1;  // BRD-K00000012 -> 11
      truth = tessera::solvers::simulation::lincs_true_signature(model, cell, compound);
    } else {
      ++controls;
      EXPECT_EQ(siginfo["pert_type"][i], "ctl_vehicle");
    }
    // Noise sd 0.25 for gold signatures, 0.5 for the others: nothing beyond 6 sd.
    const double bound = 6 * (siginfo["is_gold"][i] == "1" ? 0.25 : 0.5);
    for (int g = 0; g < 30; ++g)
      ASSERT_LE(std::abs(double(m.values(g, j)) - truth[g]), bound) << m.cols.ids[i] << " gene " << g;
  }
  EXPECT_EQ(treated, 198);
  EXPECT_EQ(controls, 33);
  fs::remove_all(dir.parent_path());
}

TEST(SimulateRelease, OptionsOfTheOtherModeAndBadReleasesAreRefused) {
  auto result = run_command(kTessera + " simulate --release gamma --out /tmp/unused");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  expect_mentions(result.output, {"--release 'gamma'", "`beta`"});
  result = run_command(kTessera + " simulate --cells 4");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  expect_mentions(result.output, {"--cells is an option of the release mode", "--release beta"});
  result = run_command(kTessera + " simulate --release beta --compounds 10");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  expect_mentions(result.output, {"give the output folder with --out DIR"});
}

}  // namespace
