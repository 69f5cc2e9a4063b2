// Hardening (issue 22), stop signals and runs that did nothing. A SIGTERM (Slurm's time limit, scancel) sent to a
// running `tessera` must end it at a safe point within seconds, with exit 75 (engine/fatal.h kExitRequeue), a log
// line saying where it stopped and what is written, and no half-written output; a signal in the first 0.1 s, before
// the command has parsed its options, must be honoured the same way. Each run is made long enough (iterations or
// epochs by the million) that it can only end because of the signal, and the test checks in its log that it was
// mid-run when the signal came. Options that leave nothing to evaluate are refused (exit 1) before any output.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "engine/fatal.h"
#include "tests/support/bad_input.h"

namespace fs = std::filesystem;
using tessera::testing::BadInput;
using tessera::testing::CommandResult;
using tessera::testing::expect_mentions;
using tessera::testing::has_temporary_files;
using tessera::testing::mpirun;
using tessera::testing::quote;
using tessera::testing::run_command;
using tessera::testing::scratch_dir;

namespace {

const std::string kTessera = TESSERA_BIN;
constexpr int kRequeue = tessera::engine::kExitRequeue;
// From the signal to the end of the process: a safe point comes at least once per FaLRTC iteration, 64 queries or
// training step, each well under a second here, plus MPI's shutdown. Generous for a loaded 2-core machine.
constexpr double kPromptSeconds = 15.0;

struct StoppedRun {
  CommandResult result;     // the exit code is the command's; the output is its log
  double stop_seconds = 0;  // from the signal to the end of the process
};

// Runs `command` in the background with its output in dir/log, waits until the log shows `marker` (the run is
// under way), sends SIGTERM to `target` (a shell expression naming the pid; $job is the command's), and waits.
// marker empty: sends the signal as soon as MPI_Init has forked the singleton's orted, i.e. while MPI starts and
// before the options are parsed (earlier than any command used to install its handlers). Before main() no program
// can catch a signal: the dynamic loader and the static constructors of ~300 libraries, LibTorch among them, take
// 0.1-2 s here, so "within the first 0.1 s" cannot be honoured by any code of ours.
StoppedRun stop_run(const std::string& command, const fs::path& dir, const std::string& marker,
                    const std::string& target = "$job") {
  const std::string log = quote((dir / "log").string());
  const std::string ready =
      marker.empty() ? "pgrep -x -P $job orted > /dev/null" : "grep -qF " + quote(marker) + " " + log;
  const std::string script = command + " > " + log + " 2>&1 & job=$!; i=0; " + "while ! { " + ready +
                             "; } && kill -0 $job 2>/dev/null && [ $i -lt 2400 ]; do sleep 0.025; i=$((i+1)); done; " +
                             "{ " + ready + "; } || { kill -9 $job; cat " + log +
                             "; echo 'NEVER READY TO SIGNAL'; exit 99; }; " + "t0=$(date +%s.%N); kill -TERM " +
                             target + "; wait $job; code=$?; t1=$(date +%s.%N); cat " + log +
                             "; echo \"stop took $(awk \"BEGIN { print $t1 - $t0 }\") s\"; exit $code";
  StoppedRun run;
  run.result = run_command(script, 120);
  std::smatch match;
  if (std::regex_search(run.result.output, match, std::regex(R"(stop took ([0-9.]+) s)")))
    run.stop_seconds = std::stod(match[1]);
  else
    ADD_FAILURE() << "no stop time in:\n" << run.result.output;
  return run;
}

// Exit 75, promptly, with `words` in the log and neither a temporary nor any of `absent` left in dir.
void expect_clean_stop(const StoppedRun& run, const fs::path& dir, const std::vector<std::string>& words,
                       const std::vector<std::string>& absent) {
  EXPECT_EQ(run.result.exit_code, kRequeue) << run.result.output;
  EXPECT_LT(run.stop_seconds, kPromptSeconds) << run.result.output;
  expect_mentions(run.result.output, words);
  EXPECT_EQ(run.result.output.find("internal error"), std::string::npos) << run.result.output;
  EXPECT_FALSE(has_temporary_files(dir)) << "a temporary file was left in " << dir;
  for (const auto& name : absent)
    EXPECT_FALSE(fs::exists(dir / name)) << name << " was written:\n" << run.result.output;
}

std::string impute(const fs::path& dir, const std::string& arguments) {
  return kTessera + " impute " + arguments + " --out " + quote((dir / "out").string());
}

// A GCT 1.3 file of `genes` genes x one signature per (cell type, drug) pair listed in `drugs_per_cell` (cell types
// C0, C1, ... observing drugs D0, D1, ...), with smooth values that differ between cell types and drugs.
fs::path write_screen(const fs::path& path, int genes, const std::vector<int>& drugs_per_cell) {
  std::vector<std::string> ids, cell_ids, pert_ids;
  for (std::size_t c = 0; c < drugs_per_cell.size(); ++c)
    for (int d = 0; d < drugs_per_cell[c]; ++d) {
      // append(), not "C" + ...: GCC 12 warns falsely (-Wrestrict) on a literal + a temporary string.
      cell_ids.push_back(std::string("C").append(std::to_string(c)));
      pert_ids.push_back(std::string("D").append(std::to_string(d)));
      ids.push_back(cell_ids.back() + "_" + pert_ids.back());
    }
  std::ostringstream out;
  out << "#1.3\n" << genes << "\t" << ids.size() << "\t0\t3\nid";
  for (const auto& id : ids) out << "\t" << id;
  const auto field = [&](const char* name, const std::vector<std::string>& values) {
    out << "\n" << name;
    for (const auto& v : values) out << "\t" << v;
  };
  field("cell_id", cell_ids);
  field("pert_id", pert_ids);
  field("pert_type", std::vector<std::string>(ids.size(), "trt_cp"));
  for (int g = 0; g < genes; ++g) {
    out << "\nG" << g;
    for (std::size_t s = 0; s < ids.size(); ++s)
      out << "\t" << std::sin(0.37 * double(g + 1) * double(s % 101) + 0.11 * double(s / 101)) + 0.01 * double(g);
  }
  out << "\n";
  std::ofstream(path) << out.str();
  return path;
}

// Cell types C0, C1, C2 observing 3, 6 and 5 drugs, 4 genes: for the refusals.
fs::path small_screen(const fs::path& dir) { return write_screen(dir / "screen.gct", 4, {3, 6, 5}); }

}  // namespace

// The issue's case: FaLRTC ignored SIGTERM. Here it runs a million iterations, so only the signal can end it; the
// first method's tables are complete and named in the log, FaLRTC's and metrics.csv are not written.
TEST(StopSignals, FalrtcStopsBetweenIterationsAndSaysWhatIsWritten) {
  const auto dir = scratch_dir("tessera_stop", "falrtc");
  const auto screen = write_screen(dir / "screen.gct", 20, std::vector<int>(8, 40));
  const auto run = stop_run(impute(dir, "--input " + quote(screen.string()) +
                                            " --method two_way_mean,falrtc "
                                            "--falrtc-iterations 1000000 --falrtc-tolerance 0"),
                            dir, "falrtc iteration 2/1000000");
  expect_clean_stop(run, dir,
                    {"stopped on SIGTERM", "method falrtc", "falrtc: stopped in iteration", "of 1000000",
                     "complete in " + (dir / "out").string() +
                         ": folds.csv and the heldout_/completed_ tables of "
                         "two_way_mean",
                     "not written: metrics.csv and the tables of falrtc", "exiting with 75"},
                    {"out/metrics.csv", "out/heldout_falrtc.gctx", "out/completed_falrtc.gctx"});
  EXPECT_TRUE(fs::exists(dir / "out" / "completed_two_way_mean.gctx")) << run.result.output;
  EXPECT_EQ(run.result.output.find("Wrote"), std::string::npos) << "the run ended on its own:\n" << run.result.output;
  std::printf("falrtc: exit %d %.2f s after SIGTERM\n", run.result.exit_code, run.stop_seconds);
}

// Synthetic interventions on 2 ranks, the signal sent to one rank only (as a node-local kill would): both ranks stop
// at the same safe point (they agree at the end of each block of queries) and the job exits 75. With 200 donors a
// target costs ~0.05 s, so the 6,000 targets of this dense screen keep it busy for minutes.
TEST(StopSignals, SyntheticInterventionsOnTwoRanksStopWhenOneRankIsSignalled) {
  const auto dir = scratch_dir("tessera_stop", "si");
  const auto screen = write_screen(dir / "screen.gct", 20, std::vector<int>(30, 200));
  const auto run = stop_run(
      mpirun(2) + " " +
          impute(dir, "--input " + quote(screen.string()) + " --method synthetic_interventions --si-num-donors 200"),
      dir, "method synthetic_interventions: cross-validating", "$(pgrep -n -P $job)");
  expect_clean_stop(run, dir,
                    {"stopped on SIGTERM", "method synthetic_interventions",
                     "cross-validation of "
                     "synthetic_interventions stopped after",
                     "of 5 folds", "not written: metrics.csv"},
                    {"out/metrics.csv", "out/heldout_synthetic_interventions.gctx"});
  EXPECT_EQ(run.result.output.find("Wrote"), std::string::npos) << "the run ended on its own:\n" << run.result.output;
  std::printf("synthetic interventions, 2 ranks: exit %d %.2f s after SIGTERM\n", run.result.exit_code,
              run.stop_seconds);
}

// A signal during MPI start-up (before the options are parsed) is kept and honoured at the first safe point: after
// the input is read, before anything is written. It used to kill the process (exit 143).
TEST(StopSignals, ImputeSignalledAtOnceStopsBeforeWritingAnything) {
  const auto dir = scratch_dir("tessera_stop", "impute_at_once");
  const auto screen = write_screen(dir / "screen.gct", 20, std::vector<int>(8, 40));
  const auto run = stop_run(impute(dir, "--input " + quote(screen.string()) + " --method falrtc"), dir, "");
  expect_clean_stop(run, dir, {"stopped on SIGTERM", "impute stopped after reading", "nothing written"},
                    {"out/folds.csv", "out/metrics.csv"});
}

// train checkpoints on the signal (solvers/autoencoder/trainer.h): mid-run, and when the signal came during MPI
// start-up, before the command had even parsed its options (it used to die with 143/140 and no checkpoint).
TEST(StopSignals, TrainWritesItsCheckpointAndExits75) {
  for (const bool at_once : {false, true}) {
    SCOPED_TRACE(at_once ? "signal at once" : "signal mid-run");
    const auto dir = scratch_dir("tessera_stop", at_once ? "train_at_once" : "train");
    // 240 profiles of 50 genes: two steps per epoch of 128.
    const auto input = quote(write_screen(dir / "profiles.gct", 50, std::vector<int>(4, 60)).string());
    const auto run = stop_run(kTessera + " train --input " + input + " --ae-width 64 --ae-max-epochs 1000000 --out " +
                                  quote((dir / "out").string()),
                              dir, at_once ? "" : "autoencoder epoch 2/1000000");
    expect_clean_stop(run, dir, {"train: stopped on SIGTERM at step", "checkpoint in", "--resume"},
                      {"out/loss.csv", "out/latent.gctx"});
    // `latest` names a complete checkpoint, from which --resume continues.
    std::ifstream latest(dir / "out" / "checkpoints" / "latest");
    std::string name;
    ASSERT_TRUE(std::getline(latest, name)) << run.result.output;
    EXPECT_TRUE(fs::exists(dir / "out" / "checkpoints" / name)) << name;
    std::printf("train (%s): exit %d %.2f s after SIGTERM\n", at_once ? "at once" : "mid-run", run.result.exit_code,
                run.stop_seconds);
  }
}

// A command with no safe point (simulate) ends at once on SIGTERM, mid-run or during MPI start-up, says so, and
// leaves no output under its name (this screen takes ~7 s to simulate here; its files are written at the end).
TEST(StopSignals, CommandWithoutSafePointEndsAtOnceAndSaysSo) {
  for (const bool at_once : {false, true}) {
    SCOPED_TRACE(at_once ? "signal at once" : "signal mid-run");
    const auto dir = scratch_dir("tessera_stop", at_once ? "simulate_at_once" : "simulate");
    const auto run = stop_run(kTessera + " simulate --num-drugs 1000 --out " + quote((dir / "s.gctx").string()) +
                                  " --truth " + quote((dir / "t.h5").string()),
                              dir, at_once ? "" : "simulating:");
    EXPECT_EQ(run.result.exit_code, kRequeue) << run.result.output;
    EXPECT_LT(run.stop_seconds, 5.0) << run.result.output;
    expect_mentions(run.result.output, {"stopped on SIGTERM: tessera simulate has no safe point", "exiting with 75"});
    EXPECT_EQ(run.result.output.find("Simulated"), std::string::npos) << "the run ended on its own";
    EXPECT_FALSE(fs::exists(dir / "s.gctx"));
    EXPECT_FALSE(fs::exists(dir / "t.h5"));
  }
}

// Options that leave nothing to evaluate used to print a warning and exit 0 with empty metrics and 0-column tables.
TEST(NothingToDo, OptionsThatLeaveNoCellTypeAreRefused) {
  const std::vector<BadInput> rows = {
      {"--min-drugs above every cell type's count",
       [](const fs::path& dir) {
         return impute(dir, "--input " + quote(small_screen(dir).string()) + " --min-drugs 7");
       },
       1,
       {"--min-drugs 7 leaves no cell type to evaluate", "the most observed drugs of any cell type is 6 (C1)",
        "use --min-drugs 6 or lower"},
       {"out/folds.csv", "out/metrics.csv"}},
      {"--sparse-train-drugs at every cell type's count",
       [](const fs::path& dir) {
         return impute(dir, "--input " + quote(small_screen(dir).string()) +
                                " --protocol sparse --sparse-train-drugs 6 --min-drugs 2");
       },
       1,
       {"--sparse-train-drugs 6 leaves no cell type to evaluate", "the most any cell type has is 6 (C1)",
        "use --sparse-train-drugs 5 or lower"},
       {"out/folds.csv", "out/metrics.csv"}},
      {"a fold file that holds nothing out",
       [](const fs::path& dir) {
         std::ofstream(dir / "folds.csv") << "cell_id,pert_id,fold\nC0,D0,train\nC1,D1,train\n";
         return impute(dir, "--input " + quote(small_screen(dir).string()) + " --fold-file " +
                                quote((dir / "folds.csv").string()));
       },
       1,
       {"folds.csv", "holds no held-out entry", "give the entries to hold out a fold number"},
       {"out/metrics.csv"}},
      {"an empty --method list",
       [](const fs::path& dir) { return impute(dir, "--method ,"); },
       1,
       {"--method names no method", "--method all"},
       {"out/folds.csv"}},
  };
  tessera::testing::expect_refusals("tessera_nothing_to_do", rows);
}
