// HDF5 outputs on a full disk, through the real binary: `simulate` (GCTX and the ground-truth HDF5), `impute`
// (heldout/completed GCTX) and `train` (HDF5 checkpoints, latent GCTX) on one rank end with exit 1 and a message
// that names the file and says "No space left on device", leave nothing under the final HDF5 names and no
// temporary. Before, HDF5 met the full disk itself: the message was right, then H5Fclose failed, HDF5 kept the
// half-closed file's id, and its cleanup at MPI_Finalize crashed on it (exit 139). The text outputs of the same
// commands are tested in test_bad_input_files.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/full_disk.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

const std::string kTessera = TESSERA_BIN;
// Outputs of some 100 KiB, far more than the disk's few free pages.
const std::string kSimulate = kTessera + " simulate --num-genes 100 --target-pool-size 20 --num-cells 4 --num-drugs 30";

// No HDF5 output (.gctx, .h5) under its final name, and no temporary, anywhere below `dir`.
void expect_no_hdf5_outputs(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto extension = entry.path().extension();
    EXPECT_FALSE(entry.is_regular_file() && (extension == ".gctx" || extension == ".h5"))
        << entry.path() << " was left under its final name";
  }
  EXPECT_FALSE(has_temporary_files(dir)) << "a temporary is left in " << dir;
}

void expect_refused_for_space(const std::string& command, const fs::path& disk, const std::string& file) {
  SCOPED_TRACE(command);
  const auto result = run_command(command, 120);
  EXPECT_EQ(result.exit_code, 1) << result.output;  // 139 before: a crash in HDF5's cleanup at MPI_Finalize
  expect_mentions(result.output, {"cannot write", file, "No space left on device", "free space"});
  EXPECT_EQ(result.output.find("internal error"), std::string::npos) << result.output;
  expect_no_hdf5_outputs(disk);
}

// A small screen on the roomy disk, the input of impute and train.
fs::path simulated(const fs::path& dir) {
  const auto input = dir / "screen.gctx";
  const auto result =
      run_command(kSimulate + " --out " + quote(input.string()) + " --truth " + quote((dir / "truth.h5").string()));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return input;
}

TEST(DiskFull, SimulateGctxAndTruth) {
  const auto dir = scratch_dir("tessera_disk_full", "simulate");
  FullDisk disk(dir / "mnt", 256, 8);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  expect_refused_for_space(kSimulate + " --out " + quote((disk.path() / "x.gctx").string()) + " --truth " +
                               quote((dir / "truth.h5").string()),
                           disk.path(), (disk.path() / "x.gctx").string());
  // The truth alone on the full disk (the GCTX goes to the roomy one).
  expect_refused_for_space(kSimulate + " --out " + quote((dir / "x.gctx").string()) + " --truth " +
                               quote((disk.path() / "truth.h5").string()),
                           disk.path(), (disk.path() / "truth.h5").string());
}

TEST(DiskFull, ImputeGctxOutputs) {
  const auto dir = scratch_dir("tessera_disk_full", "impute");
  const auto input = simulated(dir);
  FullDisk disk(dir / "mnt", 256, 8);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  expect_refused_for_space(kTessera + " impute --input " + quote(input.string()) +
                               " --method cell_mean --folds 2 --out " + quote((disk.path() / "run").string()),
                           disk.path(), (disk.path() / "run").string());
}

TEST(DiskFull, TrainCheckpointOnOneRank) {
  const auto dir = scratch_dir("tessera_disk_full", "train");
  const auto input = simulated(dir);
  FullDisk disk(dir / "mnt", 256, 8);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  const std::string train = kTessera + " train --input " + quote(input.string()) +
                            " --ae-width 64 --ae-max-epochs 1 --out " + quote((disk.path() / "train").string());
  const auto probe = run_command(kTessera + " train --help");
  if (probe.output.find("LibTorch") != std::string::npos && probe.exit_code != 0)
    GTEST_SKIP() << "this build has no `tessera train`: " << probe.output;
  expect_refused_for_space(train, disk.path(), (disk.path() / "train").string());
}

}  // namespace
}  // namespace tessera::testing
