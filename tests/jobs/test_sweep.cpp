// `tessera sweep` without Slurm: plan a small impute sweep, run its array tasks by hand (one of them on 2 ranks),
// make one point fail and resubmit it, stop a task with SIGUSR2 and resume it, collect, and compare the collected
// results with the same points run directly with `tessera impute`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/fatal.h"
#include "io/csv.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::file_text;
using tessera::testing::mpirun;
using tessera::testing::quote;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

fs::path scratch(const std::string& name) { return tessera::testing::scratch_dir("tessera_sweep", name); }

fs::path write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string sweep_text(const fs::path& out, const std::string& extra = "") {
  return "# a small sweep: the fastest method, two fold counts, two seeds\n"
         "[sweep]\ncommand = impute\ncombine = product\nmax_parallel = 2\nout = " +
         out.string() + "\n" + extra +
         "[fixed]\nmethod = cell_mean\n"
         "[grid]\nfolds = 2, 3\nseed = 1, 2\n";
}

// Rows of a metrics table as text without the timing column, keyed for comparison.
std::vector<std::string> rows_without_seconds(const tessera::io::CsvTable& table, std::size_t first_column) {
  const auto seconds = table.column("seconds", "metrics");
  std::vector<std::string> rows;
  for (const auto& row : table.rows) {
    std::string text;
    for (std::size_t c = first_column; c < row.size(); ++c)
      if (c != seconds) text += row[c] + ",";
    rows.push_back(text);
  }
  return rows;
}

}  // namespace

TEST(Sweep, PlanWritesNumberedPointsAndTheArrayScript) {
  const auto dir = scratch("plan");
  const auto file = write_file(dir / "sweep.ini", sweep_text(dir / "out"));
  const auto result = run_command(kTessera + " sweep plan " + quote(file.string()), 60);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto points = tessera::io::read_csv(dir / "out" / "points.csv");
  ASSERT_EQ(points.header, (std::vector<std::string>{"index", "folds", "seed"}));
  const std::vector<std::vector<std::string>> expected{
      {"0", "2", "1"}, {"1", "2", "2"}, {"2", "3", "1"}, {"3", "3", "2"}};
  EXPECT_EQ(points.rows, expected) << "product order: the last parameter varies fastest";
  const auto script = file_text(dir / "out" / "array.sbatch");
  EXPECT_NE(script.find("#SBATCH --array=0-3%2\n"), std::string::npos) << script;
  EXPECT_NE(script.find("SWEEP_DIR=" + (dir / "out").string() + "\n"), std::string::npos) << script;
  EXPECT_EQ(script.find("@SWEEP_DIR@"), std::string::npos) << script;
  EXPECT_NE(file_text(dir / "out" / "collect.sbatch").find("sweep collect " + (dir / "out").string()),
            std::string::npos);
  EXPECT_NE(result.output.find("--dependency=afterany:"), std::string::npos) << result.output;
  // Planning the same sweep again is harmless; a different one into the same folder is refused.
  EXPECT_EQ(run_command(kTessera + " sweep plan " + quote(file.string()), 60).exit_code, 0);
  auto other = sweep_text(dir / "out");
  other.replace(other.find("seed = 1, 2"), 11, "seed = 1, 2, 3");
  write_file(file, other);
  const auto again = run_command(kTessera + " sweep plan " + quote(file.string()), 60);
  EXPECT_EQ(again.exit_code, tessera::engine::kExitError) << again.output;
  EXPECT_NE(again.output.find("already holds a different sweep"), std::string::npos) << again.output;
}

TEST(Sweep, ZipPairsValuesAndBadFilesNameTheLine) {
  const auto dir = scratch("zip");
  auto file = write_file(dir / "zip.ini", "[sweep]\ncommand = impute\ncombine = zip\nout = " + (dir / "z").string() +
                                              "\npoints_per_task = 2\n[grid]\nfolds = 2, 3, 4\nseed = 7, 8, 9\n");
  ASSERT_EQ(run_command(kTessera + " sweep plan " + quote(file.string()), 60).exit_code, 0);
  const auto points = tessera::io::read_csv(dir / "z" / "points.csv");
  EXPECT_EQ(points.rows.size(), 3u);
  EXPECT_EQ(points.rows[2], (std::vector<std::string>{"2", "4", "9"}));
  EXPECT_NE(file_text(dir / "z" / "array.sbatch").find("--array=0-1%4"), std::string::npos) << "3 points, 2 per task";

  const std::map<std::string, std::string> bad{
      {"[sweep]\ncommand = impute\ncombine = zip\n[grid]\nfolds = 2, 3\nseed = 1\n", "one length"},
      {"[sweep]\ncommand = impute\n[grid]\nfolds =\n", "line 4"},
      {"[sweep]\ncommand = impute\nparallel = 3\n", "unknown key 'parallel'"},
      {"[sweep]\ncommand = nonsense\n", "not a tessera command"},
      {"[sweeps]\ncommand = impute\n", "unknown section [sweeps]"},
      {"[sweep]\ncommand = impute\n[grid]\nout = a, b\n", "'out' cannot be swept"}};
  for (const auto& [text, message] : bad) {
    file = write_file(dir / "bad.ini", text);
    const auto result =
        run_command(kTessera + " sweep plan " + quote(file.string()) + " --out " + quote((dir / "b").string()), 60);
    EXPECT_EQ(result.exit_code, tessera::engine::kExitError) << text << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << text << "\n" << result.output;
  }
}

TEST(Sweep, RunFailResubmitCollectMatchesDirectRuns) {
  const auto dir = scratch("full");
  const auto out = dir / "out";
  const auto file = write_file(dir / "sweep.ini", sweep_text(out));
  ASSERT_EQ(run_command(kTessera + " sweep plan " + quote(file.string()), 60).exit_code, 0);
  // Point 2 is made to fail: its output folder is taken by a plain file.
  write_file(out / "point-2", "in the way\n");
  for (int task = 0; task < 4; ++task) {
    const std::string launcher = task == 1 ? mpirun(2) + " " : "";
    const auto result =
        run_command(launcher + kTessera + " sweep run " + quote(out.string()) + " --task " + std::to_string(task), 300);
    EXPECT_EQ(result.exit_code, task == 2 ? tessera::engine::kExitError : 0) << result.output;
  }
  EXPECT_EQ(file_text(out / "status" / "0").rfind("done ", 0), 0u);
  EXPECT_EQ(file_text(out / "status" / "2").rfind("failed ", 0), 0u) << file_text(out / "status" / "2");

  auto status = run_command(kTessera + " sweep status " + quote(out.string()), 60);
  EXPECT_NE(status.output.find("4 points: 3 done, 1 failed, 0 missing"), std::string::npos) << status.output;
  fs::remove(out / "status" / "3");  // as if task 3 never ran
  status = run_command(kTessera + " sweep status " + quote(out.string()), 60);
  EXPECT_NE(status.output.find("2 done, 1 failed, 1 missing"), std::string::npos) << status.output;
  const auto resubmit = run_command(kTessera + " sweep resubmit " + quote(out.string()) + " --failed", 60);
  EXPECT_EQ(resubmit.exit_code, 0) << resubmit.output;
  EXPECT_NE(resubmit.output.find("sbatch --parsable --array=2-3%2 " + (out / "array.sbatch").string()),
            std::string::npos)
      << resubmit.output;

  // Fix the fault and run the resubmitted tasks; a done task run again is skipped.
  fs::remove(out / "point-2");
  for (int task : {2, 3, 0}) {
    const auto result =
        run_command(kTessera + " sweep run " + quote(out.string()) + " --task " + std::to_string(task), 300);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    if (task == 0) {
      EXPECT_NE(result.output.find("already done: skipped"), std::string::npos) << result.output;
    }
  }
  EXPECT_NE(run_command(kTessera + " sweep resubmit " + quote(out.string()) + " --failed", 60)
                .output.find("nothing to resubmit"),
            std::string::npos);

  const auto collected = run_command(kTessera + " sweep collect " + quote(out.string()), 60);
  ASSERT_EQ(collected.exit_code, 0) << collected.output;
  const auto results = tessera::io::read_csv(out / "results.csv");
  ASSERT_GE(results.header.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(results.header.begin(), results.header.begin() + 3),
            (std::vector<std::string>{"point", "folds", "seed"}));

  // The same points run directly give the same metrics (timings aside), point by point.
  const std::vector<std::pair<int, int>> grid{{2, 1}, {2, 2}, {3, 1}, {3, 2}};
  std::size_t row = 0;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto direct_dir = dir / ("direct-" + std::to_string(i));
    const auto direct =
        run_command(kTessera + " impute --method cell_mean --folds " + std::to_string(grid[i].first) + " --seed " +
                        std::to_string(grid[i].second) + " --out " + quote(direct_dir.string()),
                    300);
    ASSERT_EQ(direct.exit_code, 0) << direct.output;
    const auto expected = rows_without_seconds(tessera::io::read_csv(direct_dir / "metrics.csv"), 0);
    tessera::io::CsvTable mine;
    mine.header = std::vector<std::string>(results.header.begin() + 3, results.header.end());
    for (std::size_t r = 0; r < expected.size(); ++r, ++row) {
      ASSERT_LT(row, results.rows.size());
      EXPECT_EQ(results.rows[row][0], std::to_string(i));
      EXPECT_EQ(results.rows[row][1], std::to_string(grid[i].first));
      EXPECT_EQ(results.rows[row][2], std::to_string(grid[i].second));
      mine.rows.emplace_back(results.rows[row].begin() + 3, results.rows[row].end());
    }
    EXPECT_EQ(rows_without_seconds(mine, 0), expected) << "point " << i;
  }
  EXPECT_EQ(row, results.rows.size());
  for (const auto& entry : fs::recursive_directory_iterator(out))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

TEST(Sweep, Usr2StopsBetweenPointsWithTheRequeueCodeAndTheRerunResumes) {
  const auto dir = scratch("stop");
  const auto out = dir / "out";
  const auto file = write_file(dir / "sweep.ini", sweep_text(out, "points_per_task = 4\n"));
  ASSERT_EQ(run_command(kTessera + " sweep plan " + quote(file.string()), 60).exit_code, 0);
  // SIGUSR2 as soon as point 0 is recorded: the task finishes the point it is on, then stops before the next.
  const std::string status0 = quote((out / "status" / "0").string());
  const auto stopped = run_command(
      kTessera + " sweep run " + quote(out.string()) + " --task 0 & job=$!; " + "i=0; while [ ! -f " + status0 +
          " ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; " + "kill -USR2 $job; wait $job",
      300);
  // The stop lands between two points (the sweep stops before the next) or inside point 1 (impute stops at its own
  // safe point); either way nothing is recorded as failed and the task exits with the requeue code.
  EXPECT_EQ(stopped.exit_code, tessera::engine::kExitRequeue) << stopped.output;
  EXPECT_NE(stopped.output.find("exiting with 75"), std::string::npos) << stopped.output;
  EXPECT_FALSE(fs::exists(out / "status" / "3")) << "the task must stop before its last point";
  const auto between = run_command(kTessera + " sweep status " + quote(out.string()), 60);
  EXPECT_NE(between.output.find(" 0 failed"), std::string::npos) << between.output;

  const auto resumed = run_command(kTessera + " sweep run " + quote(out.string()) + " --task 0", 300);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("point 0 is already done: skipped"), std::string::npos) << resumed.output;
  const auto status = run_command(kTessera + " sweep status " + quote(out.string()), 60);
  EXPECT_NE(status.output.find("4 points: 4 done, 0 failed, 0 missing"), std::string::npos) << status.output;
}
