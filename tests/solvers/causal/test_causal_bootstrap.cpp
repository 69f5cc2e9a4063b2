// Bootstrap edge stability, run at 1, 2 and 3 ranks: the frequencies equal a serial loop written out here, and a
// run stopped by a signal on one rank checkpoints, throws StopRequested on every rank and resumes to the
// bit-identical result. A checkpoint of another bootstrap, a damaged one or an old text one is refused with an Error
// naming the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "engine/signals.h"
#include "solvers/causal/bootstrap.h"
#include "solvers/causal/random_dag.h"

namespace tessera::solvers::causal {
namespace {

constexpr int kResamples = 9;  // 9 = 3 rounds at 3 ranks, 5 (last one partial) at 2, 9 at 1

InterventionalData problem() {
  engine::RandomStream rng(7, "test/sem");
  const LinearSem sem = random_linear_sem(random_er_dag(7, 1.5, rng), rng);
  std::vector<Intervention> ivs;
  for (int v : {1, 4}) ivs.push_back({{v}, Intervention::Kind::kPerfect});
  return simulate_interventional(sem, 300, ivs, 100, 7);
}

DiscoveryParams search() {
  DiscoveryParams params;
  params.algorithm = Algorithm::kUtIgsp;
  params.restarts = 2;
  params.seed = 3;
  return params;
}

// The definition, serially: resample b draws each setting's rows with replacement from
// RandomStream(seed, "gsp/bootstrap", b); the frequency of an arc is the share of resamples whose DAG has it.
Eigen::MatrixXd serial_frequencies(const InterventionalData& data, const DiscoveryParams& params) {
  const int p = data.num_variables();
  Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(p, p);
  for (int b = 0; b < kResamples; ++b) {
    engine::RandomStream rng(params.seed, "gsp/bootstrap", std::uint64_t(b));
    InterventionalData resampled = data;
    Eigen::Index at = 0;
    for (int s = 0; s < data.num_settings(); ++s) {
      std::vector<Eigen::Index> rows;
      for (Eigen::Index r = 0; r < data.samples.rows(); ++r)
        if (data.setting[r] == s) rows.push_back(r);
      for (std::size_t a = 0; a < rows.size(); ++a, ++at) {
        resampled.samples.row(at) = data.samples.row(rows[rng.uniform_int(rows.size())]);
        resampled.setting[at] = s;
      }
    }
    for (const auto& [i, j] : discover(engine::Context(MPI_COMM_SELF), resampled, params).dag.edges())
      counts(i, j) += 1;
  }
  return counts / kResamples;
}

// One path for all ranks of this test process (rank 0's pid), unique across the concurrent np1/np2/np3 tests.
std::filesystem::path checkpoint_path(const engine::Context& world, const std::string& name) {
  std::string dir = world.is_root() ? testing::TempDir() + "tessera_bootstrap_" + std::to_string(::getpid()) : "";
  engine::broadcast(world, dir);
  if (world.is_root()) std::filesystem::create_directories(dir);
  world.barrier();
  return std::filesystem::path(dir) / name;
}

// Runs with a checkpoint, with rank 0 alone requesting a stop after round `stop_round` (-1: before the run).
void run_until_stopped(const engine::Context& world, const InterventionalData& data, const DiscoveryParams& params,
                       const std::filesystem::path& checkpoint, int stop_round) {
  BootstrapOptions options;
  options.checkpoint = checkpoint;
  options.after_round = [&](int round) {
    if (round == stop_round && world.is_root()) engine::request_stop();
  };
  if (stop_round < 0 && world.is_root()) engine::request_stop();
  EXPECT_THROW(bootstrap_edges(world, data, params, kResamples, options), engine::StopRequested)
      << "ranks " << world.size() << ", stop after round " << stop_round;
  engine::clear_stop();
  world.barrier();
}

TEST(CausalBootstrap, EqualsTheSerialDefinition) {
  const engine::Context world;
  const auto data = problem();
  const auto freq = bootstrap_edges(world, data, search(), kResamples);
  EXPECT_EQ(freq.resamples, kResamples);
  EXPECT_EQ(freq.arc, serial_frequencies(data, search())) << "ranks " << world.size();  // exact, not near
  EXPECT_GT(freq.arc.maxCoeff(), 0.5);  // the test data has stable arcs: a vacuous all-zero match would fail
}

TEST(CausalBootstrap, StopOnOneRankCheckpointsAndResumesBitIdentical) {
  const engine::Context world;
  const auto data = problem();
  const auto uninterrupted = bootstrap_edges(world, data, search(), kResamples);
  const auto dir = checkpoint_path(world, "x").parent_path();
  for (int stop_round : {-1, 0, 1}) {
    const auto checkpoint = checkpoint_path(world, "stop" + std::to_string(stop_round + 1) + ".checkpoint");
    run_until_stopped(world, data, search(), checkpoint, stop_round);
    EXPECT_TRUE(std::filesystem::exists(checkpoint)) << checkpoint;
    BootstrapOptions options;
    options.checkpoint = checkpoint;
    int rounds_after_resume = 0;
    options.after_round = [&](int) { ++rounds_after_resume; };
    const auto resumed = bootstrap_edges(world, data, search(), kResamples, options);
    EXPECT_EQ(resumed.arc, uninterrupted.arc) << "ranks " << world.size() << ", stopped after round " << stop_round;
    // The resume only ran the rounds that were left.
    const int rounds = (kResamples + world.size() - 1) / world.size();
    const int done_rounds = stop_round < 0 ? 1 : stop_round + 1;  // a stop before the run still finishes round 0
    EXPECT_EQ(rounds_after_resume, rounds - done_rounds) << "ranks " << world.size();
  }
  world.barrier();
  if (world.is_root()) std::filesystem::remove_all(dir);
}

void expect_refused(const engine::Context& world, const InterventionalData& data, const DiscoveryParams& params,
                    int resamples, const std::filesystem::path& checkpoint, const std::string& says) {
  BootstrapOptions options;
  options.checkpoint = checkpoint;
  try {
    bootstrap_edges(world, data, params, resamples, options);
    ADD_FAILURE() << "a foreign checkpoint was resumed (" << says << ")";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(checkpoint.string()), std::string::npos) << what;
    EXPECT_NE(what.find(says), std::string::npos) << what;
    EXPECT_NE(what.find("delete it"), std::string::npos) << what;
  }
}

TEST(CausalBootstrap, ForeignCheckpointIsAnError) {
  const engine::Context world;
  const auto data = problem();
  const auto checkpoint = checkpoint_path(world, "foreign.checkpoint");
  run_until_stopped(world, data, search(), checkpoint, 0);

  auto other_seed = search();
  other_seed.seed = 4;
  expect_refused(world, data, other_seed, kResamples, checkpoint, "seed: 3 in the checkpoint, 4 in this run");
  expect_refused(world, data, search(), kResamples + 1, checkpoint, "resamples: 9 in the checkpoint, 10 in this run");
  auto other_alpha = search();
  other_alpha.alpha = 1e-3;
  expect_refused(world, data, other_alpha, kResamples, checkpoint, "search: ");
  // Every knob that changes the DAGs is in the search hash, including those added after the first checkpoints.
  auto other_start = search();
  other_start.start_graph = StartGraph::kObservational;
  expect_refused(world, data, other_start, kResamples, checkpoint, "search: ");
  auto other_candidates = search();
  other_candidates.start_candidates = 2;
  expect_refused(world, data, other_candidates, kResamples, checkpoint, "search: ");
  auto other_shrinkage = search();
  other_shrinkage.shrinkage = 0.1;
  expect_refused(world, data, other_shrinkage, kResamples, checkpoint, "search: ");
  auto other_data = data;
  other_data.samples(0, 0) += 1e-9;
  expect_refused(world, other_data, search(), kResamples, checkpoint, "data: ");

  world.barrier();
  if (world.is_root()) std::ofstream(checkpoint) << "not a checkpoint\n";
  world.barrier();
  expect_refused(world, data, search(), kResamples, checkpoint, "not an HDF5 file");
  // The text checkpoints of earlier versions are refused by name, not read.
  world.barrier();
  if (world.is_root())
    std::ofstream(checkpoint) << "# tessera bootstrap checkpoint: delete this file to start the bootstrap over\np 3\n";
  world.barrier();
  expect_refused(world, data, search(), kResamples, checkpoint, "text format of an older Tessera");
  // A damaged checkpoint (cut short) is refused too, on every rank.
  world.barrier();
  if (world.is_root()) std::filesystem::remove(checkpoint);
  run_until_stopped(world, data, search(), checkpoint, 0);
  if (world.is_root()) std::filesystem::resize_file(checkpoint, std::filesystem::file_size(checkpoint) / 2);
  world.barrier();
  expect_refused(world, data, search(), kResamples, checkpoint, "truncated");
  world.barrier();
  if (world.is_root()) std::filesystem::remove_all(checkpoint.parent_path());
}

}  // namespace
}  // namespace tessera::solvers::causal
