// End-to-end: `tessera simulate --single-cell` on 1 and 2 ranks writes the same .h5ad and truth bytes (rank 0 writes
// alone), the screen the library simulates for the same options, and a truth file that read_ground_truth (what
// `tessera evaluate --ground-truth` reads) accepts; options of the other modes and bad names are refused with the
// fix.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "engine/context.h"
#include "io/csv.h"
#include "io/h5ad.h"
#include "solvers/simulation/single_cell_screen.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::expect_mentions;
using tessera::testing::mpirun;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;
const std::string kOptions =
    " simulate --single-cell --num-genes 60 --target-pool-size 30 --cell-types 2 --singles 5 --pairs 4 "
    "--cells-per-group 12 --control-cells 20 --interaction-sd 0.2 --seed 9";

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(SimulateSingleCell, OneAndTwoRanksWriteTheSameScreenAsTheLibrary) {
  const fs::path dir = tessera::testing::scratch_dir("tessera_simulate_single_cell", "ranks");
  for (const int ranks : {1, 2}) {
    const std::string name = std::to_string(ranks);
    const auto result =
        run_command(mpirun(ranks) + " " + kTessera + kOptions + " --out " + (dir / (name + ".h5ad")).string() +
                    " --truth " + (dir / (name + "_truth.h5")).string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_mentions(result.output, {" cells x 60 genes: 2 cell types x 9 perturbations (5 singles, 4 pairs)",
                                    name + ".h5ad (counts)", name + "_truth.h5 (ground truth)"});
  }
  const std::string one = bytes_of(dir / "1.h5ad");
  ASSERT_FALSE(one.empty());
  EXPECT_TRUE(one == bytes_of(dir / "2.h5ad")) << "the screen depends on the rank count";
  // The truth too (io::Hdf5Writer stores no modification times).
  EXPECT_TRUE(bytes_of(dir / "1_truth.h5") == bytes_of(dir / "2_truth.h5")) << "the truth depends on the rank count";

  // The library's screen for the same options.
  tessera::solvers::simulation::SimulationParams network;
  network.seed = 9, network.num_genes = 60, network.target_pool_size = 30;
  tessera::solvers::simulation::SingleCellParams params;
  params.cell_types = 2, params.singles = 5, params.pairs = 4, params.cells_per_group = 12, params.control_cells = 20;
  params.interaction_sd = 0.2;
  const auto screen = tessera::solvers::simulation::simulate_single_cell(network, params);
  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto read = tessera::io::read_h5ad_local<double>(dir / "1.h5ad", self);
  EXPECT_EQ(read.cols.ids, screen.obs.ids);
  ASSERT_EQ(read.values.cols(), screen.counts.rows);
  double file_total = read.values.sum(), simulated_total = 0;
  for (const float v : screen.counts.data) simulated_total += v;
  EXPECT_EQ(file_total, simulated_total);
  const auto truth = tessera::solvers::simulation::read_ground_truth(dir / "1_truth.h5");
  EXPECT_EQ(truth.drugs, screen.truth.drugs);
  EXPECT_EQ(truth.signatures, screen.truth.signatures);
  EXPECT_EQ(truth.observed, screen.truth.observed);
  fs::remove_all(dir.parent_path());  // scratch_dir's per-process folder too
}

// The whole path with the truth known: simulate, impute the never-measured pairs (singles and combinations) on the
// pseudobulk, score them against the truth. Without interaction a combination is additive in log rates, so the
// additive baseline must recover the unmeasured entries far better than the cell mean, which knows nothing of the
// perturbation. The run is deterministic (seed 5, 2 ranks): measured r 0.777 for additive, 0.484 for cell_mean.
TEST(SimulateSingleCell, AdditiveRecoversUnmeasuredPairsFromTheTruth) {
  const fs::path dir = tessera::testing::scratch_dir("tessera_simulate_single_cell", "path");
  const auto simulate = run_command(kTessera +
                                    " simulate --single-cell --cell-types 3 --singles 6 --pairs 8 --cells-per-group 60 "
                                    "--control-cells 200 --seed 5 --out " +
                                    (dir / "screen.h5ad").string() + " --truth " + (dir / "truth.h5").string());
  ASSERT_EQ(simulate.exit_code, 0) << simulate.output;
  const auto impute = run_command(mpirun(2) + " " + kTessera + " impute --input " + (dir / "screen.h5ad").string() +
                                  " --preset gears --normalize-total 10000 --method additive,cell_mean --folds 2 "
                                  "--min-drugs 2 --out " +
                                  (dir / "out").string());
  ASSERT_EQ(impute.exit_code, 0) << impute.output;
  std::map<std::string, double> r;
  for (const char* method : {"additive", "cell_mean"}) {
    const auto evaluate =
        run_command(kTessera + " evaluate --ground-truth " + (dir / "truth.h5").string() + " --predictions " +
                    (dir / "out" / ("completed_" + std::string(method) + ".h5ad")).string() + " --only-imputed --out " +
                    (dir / (std::string(method) + ".csv")).string());
    ASSERT_EQ(evaluate.exit_code, 0) << evaluate.output;
    const auto metrics = tessera::io::read_csv(dir / (std::string(method) + ".csv"));
    ASSERT_EQ(metrics.rows.at(0).at(1), "all");
    r[method] = std::stod(metrics.rows[0][metrics.column("pearson_r", "metrics")]);
  }
  EXPECT_GT(r["additive"], 0.7);
  EXPECT_GT(r["additive"], r["cell_mean"] + 0.2);
  fs::remove_all(dir.parent_path());
}

TEST(SimulateSingleCell, OptionsOfOtherModesAndBadNamesAreRefused) {
  const fs::path dir = tessera::testing::scratch_dir("tessera_simulate_single_cell", "refused");
  const std::string out = " --out " + (dir / "s.h5ad").string() + " --truth " + (dir / "t.h5").string();
  auto refused = [&](const std::string& options, const std::string& message) {
    const auto result = run_command(kTessera + " simulate " + options);
    EXPECT_EQ(result.exit_code, 1) << options << "\n" << result.output;
    expect_mentions(result.output, {message});
  };
  refused("--single-cell --num-cells 4" + out,
          "simulate --single-cell: --num-cells is an option of the bulk screen; the single-cell screen is sized by "
          "--cell-types, --singles, --pairs, --cells-per-group, --control-cells and --measured-share");
  refused("--pairs 3" + out, "simulate: --pairs is an option of the single-cell screen; add --single-cell, or drop it");
  refused("--release beta --cell-types 2 --out " + dir.string(),
          "simulate: --cell-types is an option of the single-cell screen; drop it, or drop --release for "
          "--single-cell");
  refused("--single-cell --release beta --out " + dir.string(),
          "simulate: --single-cell and --release are two different modes; give one of them");
  refused("--single-cell --cells 5" + out,
          "simulate: --cells is an option of the release mode; drop it, or drop --single-cell for --release beta");
  refused("--single-cell --out " + (dir / "s.gctx").string(),
          "simulate --single-cell: --out '" + (dir / "s.gctx").string() +
              "' must name an .h5ad file (the screen is written as AnnData); name it FILE.h5ad");
  refused("--single-cell --singles 3 --pairs 4" + out,
          "single-cell simulation parameter pairs = 4 exceeds the 3 distinct pairs of 3 singles; lower --pairs or "
          "raise --singles");
  EXPECT_FALSE(fs::exists(dir / "s.h5ad"));
  EXPECT_FALSE(fs::exists(dir / "t.h5"));
  fs::remove_all(dir.parent_path());  // scratch_dir's per-process folder too
}

}  // namespace
