// `tessera train` end to end on 2 ranks: SIGUSR2 sent to mpirun (as Slurm's --signal does) checkpoints at the
// next step and exits with kExitRequeue; `--resume` then finishes the run, bit-identical to an uninterrupted one.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/fatal.h"
#include "engine/random.h"
#include "io/gctx.h"
#include "solvers/autoencoder/checkpoint.h"
#include "tests/support/run_command.h"

namespace ae = tessera::solvers::autoencoder;
namespace fs = std::filesystem;
using tessera::testing::mpirun;
using tessera::testing::quote;
using tessera::testing::run_command;

namespace {

fs::path write_input(const fs::path& dir) {
  tessera::io::GeneMatrix m;
  tessera::engine::RandomStream random(4, "test/train_command");
  m.values.resize(30, 400);
  for (Eigen::Index i = 0; i < m.values.size(); ++i) m.values.data()[i] = float(random.normal());
  for (int g = 0; g < 30; ++g) m.rows.ids.push_back(std::string("g").append(std::to_string(g)));
  for (int s = 0; s < 400; ++s) m.cols.ids.push_back(std::string("s").append(std::to_string(s)));
  const fs::path file = dir / "profiles.gctx";
  tessera::io::write_gctx(file, m);
  return file;
}

std::string train(const fs::path& input, const fs::path& out) {
  return std::string(TESSERA_BINARY) + " train --input " + quote(input.string()) + " --out " + quote(out.string()) +
         " --ae-width 16 --ae-batch-size 16 --ae-max-epochs 60 --ae-threads 1 --ae-learning-rate 1e-3 --zscore"
         " --log-level warn";
}

}  // namespace

TEST(TrainCommand, SignalCheckpointsAndResumeIsBitIdentical) {
  const fs::path dir = fs::temp_directory_path() / ("tessera-train-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto input = write_input(dir);

  const auto full = run_command(mpirun(2) + " " + train(input, dir / "full"), 280);
  ASSERT_EQ(full.exit_code, 0) << full.output;
  EXPECT_TRUE(fs::exists(dir / "full" / "latent.gctx"));

  // Signal once the first epoch's checkpoint exists, i.e. mid-run.
  const fs::path latest = dir / "cut" / "checkpoints" / "latest";
  const auto cut = run_command(mpirun(2) + " " + train(input, dir / "cut") + " & job=$!; i=0; while [ ! -s " +
                                   quote(latest.string()) + " ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; " +
                                   "kill -USR2 $job; wait $job",
                               280);
  if (cut.exit_code == 0) GTEST_SKIP() << "the run finished before the signal arrived";
  ASSERT_EQ(cut.exit_code, tessera::engine::kExitRequeue) << cut.output;
  const auto stopped = ae::read_checkpoint(ae::latest_checkpoint(dir / "cut" / "checkpoints"));

  const auto resumed = run_command(mpirun(2) + " " + train(input, dir / "cut") + " --resume", 280);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto a = ae::read_checkpoint(ae::latest_checkpoint(dir / "full" / "checkpoints"));
  const auto b = ae::read_checkpoint(ae::latest_checkpoint(dir / "cut" / "checkpoints"));
  EXPECT_LT(stopped.global_step, b.global_step);
  EXPECT_EQ(a.global_step, b.global_step);
  EXPECT_EQ(a.parameters, b.parameters) << "stopped at step " << stopped.global_step;
  EXPECT_EQ(a.adam_m, b.adam_m);
  EXPECT_EQ(a.epoch_losses, b.epoch_losses);
  fs::remove_all(dir);
}

TEST(TrainCommand, ForeignCheckpointIsRefused) {
  const fs::path dir = fs::temp_directory_path() / ("tessera-train-foreign-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "out" / "checkpoints");
  const auto input = write_input(dir);
  fs::copy_file(input, dir / "out" / "checkpoints" / "step-5.h5");  // a GCTX is HDF5, but not a checkpoint
  std::ofstream(dir / "out" / "checkpoints" / "latest") << "step-5.h5\n";
  const auto result = run_command(train(input, dir / "out") + " --resume", 120);
  EXPECT_EQ(result.exit_code, tessera::engine::kExitError) << result.output;
  EXPECT_NE(result.output.find("not a Tessera autoencoder checkpoint"), std::string::npos) << result.output;
  fs::remove_all(dir);
}
