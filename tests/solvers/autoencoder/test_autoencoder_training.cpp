// Data-parallel autoencoder training at 1, 2 and 3 ranks:
//  - after every step every rank holds bit-identical parameters;
//  - P ranks with global batch B take the same steps as 1 rank with batch B (float tolerance stated below);
//  - a run stopped at a random step (the signal flag, engine/signals.h) and resumed from its checkpoint ends
//    bit-identical to an uninterrupted run on the same rank count;
//  - damaged, foreign or mismatched checkpoints give clear errors;
//  - the knobs' checkpoint text (params_as_text) is byte for byte what older builds wrote, enums by name.
// Determinism needs: one LibTorch thread (ae_threads = 1; BLAS splits sums by thread count) and a fixed rank
// count; nothing else (the permutations and initial weights come from engine::RandomStream, not torch's RNG).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/collectives.h"
#include "engine/random.h"
#include "engine/signals.h"
#include "io/hdf5_file.h"
#include "solvers/autoencoder/trainer.h"
#include "tests/support/test_helpers.h"

namespace ae = tessera::solvers::autoencoder;
namespace fs = std::filesystem;
using tessera::engine::Context;

namespace {

ae::AutoencoderParams small_params() {
  ae::AutoencoderParams p;
  p.width = 8;
  p.batch_size = 16;
  p.max_epochs = 3;
  p.learning_rate = 1e-2;
  p.threads = 1;
  p.seed = 5;
  return p;
}

// genes x n, identical on every rank.
Eigen::MatrixXf data(int genes, int n) {
  tessera::engine::RandomStream random(17, "test/ae/data");
  Eigen::MatrixXf x(genes, n);
  for (int i = 0; i < x.size(); ++i) x.data()[i] = float(random.normal());
  return x;
}

// A fresh folder under the system temp dir, the same path on every rank.
fs::path shared_folder(const Context& ctx, const std::string& name) {
  std::string path;
  if (ctx.is_root()) {
    path = (fs::temp_directory_path() / ("tessera-ae-" + name + "-" + std::to_string(::getpid()))).string();
    fs::remove_all(path);
    fs::create_directories(path);
  }
  tessera::engine::broadcast(ctx, path);
  return path;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

}  // namespace

TEST(AutoencoderTraining, RanksHoldIdenticalParametersAfterEveryStep) {
  const Context world;
  const auto x = data(10, 70);
  ae::Trainer trainer(world, small_params(), x.rows());
  int mismatches = 0;
  ae::TrainOptions options;
  options.after_step = [&](std::int64_t) {
    const auto mine = trainer.flat_parameters();
    std::vector<double> root(mine.begin(), mine.end());
    tessera::engine::broadcast(world, std::span<double>(root));
    for (std::size_t i = 0; i < mine.size(); ++i)
      if (double(mine[i]) != root[i]) ++mismatches;
  };
  const auto result = trainer.fit(x, options);
  EXPECT_EQ(result.steps, 3 * 5);  // 70 samples, batch 16: 5 steps per epoch, the last of 6 samples
  EXPECT_EQ(mismatches, 0);
  EXPECT_LT(result.epoch_losses.back(), result.epoch_losses.front());
}

TEST(AutoencoderTraining, ManyRanksMatchOneRankWithTheSameGlobalBatch) {
  const Context world;
  const Context self(MPI_COMM_SELF);
  const auto x = data(10, 70);
  ae::TrainOptions quiet;
  quiet.poll_signals = false;
  ae::Trainer distributed(world, small_params(), x.rows());
  const auto a = distributed.fit(x, quiet);
  ae::Trainer serial(self, small_params(), x.rows());
  const auto b = serial.fit(x, quiet);
  const auto p = distributed.flat_parameters(), q = serial.flat_parameters();
  ASSERT_EQ(p.size(), q.size());
  // Tolerance: only the order of float sums differs (per-rank partial gradients, then the allreduce). After 15
  // Adam steps that is a few float ulps of the parameters' scale, amplified by Adam's normalisation; we allow
  // 1e-4 relative to the largest parameter (single precision eps is 1.2e-7).
  double scale = 0, diff = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    scale = std::max(scale, double(std::abs(q[i])));
    diff = std::max(diff, double(std::abs(p[i] - q[i])));
  }
  EXPECT_LE(diff, 1e-4 * scale) << "max |difference| " << diff << " at scale " << scale;
  if (world.is_root())
    std::printf("[ ranks %d ] max |parameter difference| to 1 rank: %.3g (scale %.3g)\n", world.size(), diff, scale);
  if (world.size() == 1) {
    EXPECT_TRUE(same_bits(p, q)) << "one rank must be exactly the serial path";
  }
  ASSERT_EQ(a.epoch_losses.size(), b.epoch_losses.size());
  for (std::size_t e = 0; e < a.epoch_losses.size(); ++e) EXPECT_NEAR(a.epoch_losses[e], b.epoch_losses[e], 1e-5);
}

TEST(AutoencoderTraining, StopAtRandomStepAndResumeIsBitIdentical) {
  const Context world;
  const auto x = data(10, 70);
  const auto folder = shared_folder(world, "resume");
  ae::TrainOptions quiet;
  quiet.poll_signals = false;
  ae::Trainer reference(world, small_params(), x.rows());
  const auto full = reference.fit(x, quiet);

  // A "random" step (fixed seed) inside the run, not at an epoch end; signalled on one rank only.
  tessera::engine::RandomStream random(99, "test/ae/stop", std::uint64_t(world.size()));
  const std::int64_t stop_at = 1 + std::int64_t(random.uniform_int(std::uint64_t(full.steps - 2)));
  const int signalled_rank = int(stop_at % world.size());
  ae::TrainOptions options;
  options.checkpoint_folder = folder;
  options.after_step = [&](std::int64_t step) {
    if (step == stop_at && world.rank() == signalled_rank) tessera::engine::request_stop();
  };
  {
    ae::Trainer first(world, small_params(), x.rows());
    const auto stopped = first.fit(x, options);
    EXPECT_TRUE(stopped.stopped);
    EXPECT_EQ(stopped.steps, stop_at) << "every rank must stop at the same step";
  }
  tessera::engine::clear_stop();
  ASSERT_FALSE(ae::latest_checkpoint(folder).empty());

  options.after_step = nullptr;
  options.resume = true;
  ae::Trainer second(world, small_params(), x.rows());
  const auto resumed = second.fit(x, options);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_FALSE(resumed.stopped);
  EXPECT_EQ(resumed.steps, full.steps);
  EXPECT_TRUE(same_bits(second.flat_parameters(), reference.flat_parameters())) << "stopped at step " << stop_at;
  EXPECT_EQ(resumed.epoch_losses, full.epoch_losses);

  // The final checkpoint reloads into the same parameters.
  ae::Trainer reloaded(world, small_params(), x.rows());
  reloaded.load_state(ae::read_checkpoint(ae::latest_checkpoint(folder)));
  EXPECT_TRUE(same_bits(reloaded.flat_parameters(), reference.flat_parameters()));
  world.barrier();
  if (world.is_root()) fs::remove_all(folder);
}

TEST(AutoencoderTraining, ConvergesBelowThresholdBeforeTheEpochLimit) {
  const Context world;
  const auto x = data(6, 40);
  auto params = small_params();
  params.max_epochs = 200;
  params.loss_threshold = 0.5;  // unit-variance data: loss starts near 1
  ae::Trainer trainer(world, params, x.rows());
  ae::TrainOptions quiet;
  quiet.log_epochs = false;
  const auto result = trainer.fit(x, quiet);
  EXPECT_TRUE(result.converged);
  EXPECT_LT(result.epochs, 200);
  EXPECT_LT(result.final_loss, 0.5);
}

TEST(AutoencoderTraining, BadCheckpointsGiveClearErrors) {
  const Context world;
  const Context self(MPI_COMM_SELF);
  if (!world.is_root()) return;  // file checks are local
  const fs::path folder = fs::temp_directory_path() / ("tessera-ae-bad-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  using tessera::testing::error_of;
  using tessera::testing::expect_mentions;

  {  // not HDF5 at all
    std::ofstream(folder / "garbage.h5") << "this is not a checkpoint";
    expect_mentions(error_of([&] { ae::read_checkpoint(folder / "garbage.h5"); }), {"garbage.h5", "not an HDF5"});
  }
  {  // a foreign HDF5 file
    tessera::io::Hdf5Writer out(folder / "foreign.h5");
    out.write_vector("/truth/x", {1.0, 2.0});
  }
  expect_mentions(error_of([&] { ae::read_checkpoint(folder / "foreign.h5"); }),
                  {"foreign.h5", "not a Tessera autoencoder checkpoint"});
  {  // truncated: a real checkpoint cut in half
    ae::Trainer trainer(self, small_params(), 10);
    auto state = trainer.state();
    state.global_step = 1;
    const auto file = ae::write_checkpoint(folder, state);
    const auto size = fs::file_size(file);
    fs::resize_file(file, size / 2);
    expect_mentions(error_of([&] { ae::read_checkpoint(file); }), {"step-1.h5"});
  }
  {  // the pointer names a missing file
    std::ofstream(folder / "latest") << "step-77.h5\n";
    expect_mentions(error_of([&] { ae::latest_checkpoint(folder); }), {"step-77.h5", "does not exist"});
  }
  {  // another architecture
    ae::Trainer trainer(self, small_params(), 10);
    auto state = trainer.state();
    state.global_step = 2;
    ae::write_checkpoint(folder, state);
    auto wider = small_params();
    wider.width = 9;
    ae::Trainer other(self, wider, 10);
    ae::TrainOptions options;
    options.checkpoint_folder = folder;
    options.resume = true;
    expect_mentions(error_of([&] { other.fit(data(10, 20), options); }), {"ae_width=8", "ae_width=9"});
  }
  fs::remove_all(folder);
}

TEST(AutoencoderTraining, CudaDeviceNeedsACudaBuild) {
  const Context self(MPI_COMM_SELF);
  auto params = small_params();
  params.device = ae::Device::kCuda;
  tessera::testing::expect_mentions(tessera::testing::error_of([&] { ae::Trainer(self, params, 4); }),
                                    {"built without CUDA"});
}

// The knobs as a checkpoint stores them (/params, which resume compares): exactly the text Tessera wrote when
// ae_activation, ae_optimizer, ae_device and ae_transport were strings, so that old checkpoints still resume. An
// enum knob is its table name, never its number.
TEST(AutoencoderParams, CheckpointTextIsUnchangedAndNamesTheEnums) {
  using Text = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ae::params_as_text(ae::AutoencoderParams{}), (Text{{"ae_width", "1024"},
                                                               {"ae_depth", "1"},
                                                               {"ae_activation", "leaky_relu"},
                                                               {"ae_leaky_slope", "0.01"},
                                                               {"ae_bias", "false"},
                                                               {"ae_optimizer", "adam"},
                                                               {"ae_learning_rate", "0.0001"},
                                                               {"ae_adam_beta1", "0.90000000000000002"},
                                                               {"ae_adam_beta2", "0.999"},
                                                               {"ae_adam_eps", "1e-08"},
                                                               {"ae_batch_size", "128"},
                                                               {"ae_max_epochs", "100"},
                                                               {"ae_loss_threshold", "0"},
                                                               {"ae_seed", "1"},
                                                               {"ae_device", "cpu"},
                                                               {"ae_threads", "0"},
                                                               {"ae_transport", "mean"},
                                                               {"ae_transport_neighbours", "3"}}));
  ae::AutoencoderParams p;
  p.width = 8;
  p.depth = 2;
  p.activation = ae::Activation::kTanh;
  p.leaky_slope = 0.2;
  p.bias = true;
  p.optimizer = ae::OptimizerKind::kSgd;
  p.learning_rate = 0.1;
  p.batch_size = 5;
  p.max_epochs = 7;
  p.loss_threshold = 1e-3;
  p.seed = 42;
  p.device = ae::Device::kCuda;
  p.threads = 1;
  p.transport = ae::Transport::kNearest;
  p.transport_neighbours = 2;
  EXPECT_EQ(ae::params_as_text(p), (Text{{"ae_width", "8"},
                                         {"ae_depth", "2"},
                                         {"ae_activation", "tanh"},
                                         {"ae_leaky_slope", "0.20000000000000001"},
                                         {"ae_bias", "true"},
                                         {"ae_optimizer", "sgd"},
                                         {"ae_learning_rate", "0.10000000000000001"},
                                         {"ae_adam_beta1", "0.90000000000000002"},
                                         {"ae_adam_beta2", "0.999"},
                                         {"ae_adam_eps", "1e-08"},
                                         {"ae_batch_size", "5"},
                                         {"ae_max_epochs", "7"},
                                         {"ae_loss_threshold", "0.001"},
                                         {"ae_seed", "42"},
                                         {"ae_device", "cuda"},
                                         {"ae_threads", "1"},
                                         {"ae_transport", "nearest"},
                                         {"ae_transport_neighbours", "2"}}));
  p.activation = ae::Activation::kRelu;
  EXPECT_EQ(ae::params_as_text(p)[2].second, "relu");
  p.activation = ae::Activation::kLinear;
  EXPECT_EQ(ae::params_as_text(p)[2].second, "linear");
}

// A checkpoint trained with other choices refuses to resume, naming both by name.
TEST(AutoencoderTraining, ResumeWithAnotherActivationIsRefusedByName) {
  const Context world;
  const Context self(MPI_COMM_SELF);
  if (!world.is_root()) return;  // local
  const fs::path folder = fs::temp_directory_path() / ("tessera-ae-activation-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  ae::Trainer trainer(self, small_params(), 10);
  auto state = trainer.state();
  state.global_step = 2;
  ae::write_checkpoint(folder, state);
  auto tanh = small_params();
  tanh.activation = ae::Activation::kTanh;
  ae::Trainer other(self, tanh, 10);
  ae::TrainOptions options;
  options.checkpoint_folder = folder;
  options.resume = true;
  tessera::testing::expect_mentions(tessera::testing::error_of([&] { other.fit(data(10, 20), options); }),
                                    {"ae_activation=leaky_relu", "ae_activation=tanh"});
  fs::remove_all(folder);
}
