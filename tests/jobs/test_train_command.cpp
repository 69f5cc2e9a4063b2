// `tessera train` end to end on 2 ranks: a SIGUSR2 checkpoints at the next step and exits with kExitRequeue;
// `--resume` then finishes the run, bit-identical to an uninterrupted one. The signal comes from the
// TESSERA_TEST_TRAIN_SIGNAL_AT_STEP hook (jobs/train_command.cpp) at a known step, not from a kill racing the
// training: the run cannot end before it. (tests/jobs/test_stop_signals.cpp sends real signals from outside.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/context.h"
#include "engine/fatal.h"
#include "engine/random.h"
#include "io/csv.h"
#include "io/gct.h"
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

std::string train(const fs::path& input, const fs::path& out, const std::string& log_level = "warn") {
  return std::string(TESSERA_BIN) + " train --input " + quote(input.string()) + " --out " + quote(out.string()) +
         " --ae-width 16 --ae-batch-size 16 --ae-max-epochs 60 --ae-threads 1 --ae-learning-rate 1e-3 --zscore"
         " --log-level " +
         log_level;
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

  // 400 profiles in batches of 16: 25 steps per epoch. Rank 0 is signalled after step 40 (mid-epoch 2, so the
  // resume must also restore the epoch's permutation and partial loss); both ranks stop there. Any other end
  // (finished, crashed, stopped elsewhere) fails here: the resume below would go unchecked.
  const auto cut =
      run_command("TESSERA_TEST_TRAIN_SIGNAL_AT_STEP=40 " + mpirun(2) + " " + train(input, dir / "cut", "info"), 280);
  ASSERT_EQ(cut.exit_code, tessera::engine::kExitRequeue) << "the run was not stopped by the signal\n" << cut.output;
  EXPECT_NE(cut.output.find("train: stopped on SIGUSR2 at step 40"), std::string::npos) << cut.output;
  const auto stopped = ae::read_checkpoint(ae::latest_checkpoint(dir / "cut" / "checkpoints"));
  ASSERT_EQ(stopped.global_step, 40);
  EXPECT_EQ(stopped.epoch, 1);
  EXPECT_EQ(stopped.step_in_epoch, 15);
  EXPECT_FALSE(fs::exists(dir / "cut" / "latent.gctx")) << "a stopped run writes no outputs";

  // A run that ignored the checkpoint and started over would end with the same parameters: the log must say it
  // resumed.
  const auto resumed = run_command(mpirun(2) + " " + train(input, dir / "cut", "info") + " --resume", 280);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("at epoch 1, step 40"), std::string::npos)
      << "the run did not resume from the step-40 checkpoint\n"
      << resumed.output;
  const auto a = ae::read_checkpoint(ae::latest_checkpoint(dir / "full" / "checkpoints"));
  const auto b = ae::read_checkpoint(ae::latest_checkpoint(dir / "cut" / "checkpoints"));
  EXPECT_EQ(a.global_step, 60 * 25);
  EXPECT_EQ(a.global_step, b.global_step);
  EXPECT_EQ(a.parameters, b.parameters) << "stopped at step " << stopped.global_step;
  EXPECT_EQ(a.adam_m, b.adam_m);
  EXPECT_EQ(a.epoch_losses, b.epoch_losses);
  fs::remove_all(dir);
}

// --alignment: one row per perturbation treated in both cell types, whose input cosine is recomputed here from
// the profiles (treated mean minus the cell's vehicle mean), and a latent cosine in [-1, 1].
TEST(TrainCommand, AlignmentReportFromTheInputProfiles) {
  const fs::path dir = fs::temp_directory_path() / ("tessera-align-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path screen = dir / "screen.gctx";
  auto result = run_command(std::string(TESSERA_BIN) + " simulate --num-cells 4 --num-drugs 40 --num-genes 100 " +
                            "--seed 2 --out " + quote(screen.string()) + " --truth " + quote((dir / "t.h5").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result = run_command(mpirun(2) + " " + train(screen, dir / "out") + " --alignment CELL01,CELL02", 280);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Alignment of CELL01 and CELL02"), std::string::npos) << result.output;

  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto m = tessera::io::read_gctx<double>(screen, self);
  const auto& cell = m.cols.require("cell_id", "screen");
  const auto& pert = m.cols.require("pert_id", "screen");
  const auto& type = m.cols.require("pert_type", "screen");
  auto mean_of = [&](const std::string& c, const std::string& p, bool control) {
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(m.values.rows());
    int n = 0;
    for (std::size_t s = 0; s < m.cols.size(); ++s)
      if (cell.text[s] == c &&
          (control ? type.text[s] == "ctl_vehicle" : type.text[s] == "trt_cp" && pert.text[s] == p))
        sum += m.values.col(Eigen::Index(s)), ++n;
    return std::make_pair(Eigen::VectorXd(sum / std::max(n, 1)), n);
  };
  const auto table = tessera::io::read_csv(dir / "out" / "alignment.csv");
  std::size_t shared = 0;
  for (int d = 1; d <= 40; ++d) {
    char name[16];
    std::snprintf(name, sizeof name, "DRUG%04d", d);
    if (mean_of("CELL01", name, false).second > 0 && mean_of("CELL02", name, false).second > 0) ++shared;
  }
  ASSERT_EQ(table.rows.size(), shared);
  ASSERT_GT(shared, 0u);
  for (const auto& row : table.rows) {
    const Eigen::VectorXd ya = mean_of("CELL01", row[0], false).first - mean_of("CELL01", "", true).first;
    const Eigen::VectorXd yb = mean_of("CELL02", row[0], false).first - mean_of("CELL02", "", true).first;
    EXPECT_NEAR(std::stod(row[1]), ya.dot(yb) / (ya.norm() * yb.norm()), 1e-5) << row[0];
    EXPECT_LE(std::abs(std::stod(row[2])), 1.0) << row[0];
  }
  result = run_command(std::string(TESSERA_BIN) + " train --input " + quote(screen.string()) +
                       " --log2 --alignment CELL01,CELL02 --out " + quote((dir / "bad").string()));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("drop --log2"), std::string::npos) << result.output;
  fs::remove_all(dir);
}

// GCT text input (real L1000 Level 2-4 plates come as GCT): the same profiles train the same model.
TEST(TrainCommand, GctInputTrainsLikeGctx) {
  const fs::path dir = fs::temp_directory_path() / ("tessera-gct-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto gctx = write_input(dir);
  const tessera::engine::Context self(MPI_COMM_SELF);
  tessera::io::write_gct(dir / "profiles.gct", tessera::io::read_gctx<float>(gctx, self));
  for (const auto* name : {"profiles.gctx", "profiles.gct"}) {
    const auto result = run_command(std::string(TESSERA_BIN) + " train --input " + quote((dir / name).string()) +
                                    " --out " + quote((dir / (std::string(name) + ".out")).string()) +
                                    " --ae-width 8 --ae-max-epochs 2 --ae-threads 1 --log-level warn");
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  // GCT text keeps about 7 significant digits, so the losses agree closely but not bit for bit.
  const auto a = tessera::io::read_csv(dir / "profiles.gctx.out" / "loss.csv");
  const auto b = tessera::io::read_csv(dir / "profiles.gct.out" / "loss.csv");
  ASSERT_EQ(a.rows.size(), 2u);
  ASSERT_EQ(b.rows.size(), 2u);
  EXPECT_NEAR(std::stod(a.rows[1][1]), std::stod(b.rows[1][1]), 1e-4);
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

TEST(TrainCommand, AMissingLibTorchModuleStopsTrainOnlyWithAClearError) {
  // LibTorch is a module loaded by the first autoencoder (solvers/autoencoder/network_backend.h): a broken path
  // fails `train` before it writes anything, and a command without an autoencoder never looks for it.
  const fs::path dir = fs::temp_directory_path() / ("tessera-train-module-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto input = write_input(dir);
  const std::string missing = (dir / "no-such-module.so").string();
  const auto result = run_command("TESSERA_TORCH_MODULE=" + quote(missing) + " " + train(input, dir / "out"), 120);
  EXPECT_EQ(result.exit_code, tessera::engine::kExitError) << result.output;
  EXPECT_NE(result.output.find(missing), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("TESSERA_TORCH_MODULE"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "loss.csv"));
  EXPECT_FALSE(fs::exists(dir / "out" / "checkpoints" / "latest"));

  const std::string not_a_library = input.string();  // a GCTX file: found, but no shared object
  const auto broken =
      run_command("TESSERA_TORCH_MODULE=" + quote(not_a_library) + " " + train(input, dir / "out"), 120);
  EXPECT_EQ(broken.exit_code, tessera::engine::kExitError) << broken.output;
  EXPECT_NE(broken.output.find("cannot be loaded"), std::string::npos) << broken.output;

  const auto inspect =
      run_command("TESSERA_TORCH_MODULE=" + quote(missing) + " " + TESSERA_BIN + " inspect " + quote(input.string()));
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  fs::remove_all(dir);
}
