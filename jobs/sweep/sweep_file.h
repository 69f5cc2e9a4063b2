// The sweep file of `tessera sweep`: which command to run over which grid of parameters.
//
//   [sweep]
//   command = impute          # a tessera command (jobs::commands())
//   combine = product         # product: every combination (last parameter varies fastest) | zip: i-th with i-th
//   max_parallel = 4          # K of --array=0-(T-1)%K: at most K array tasks run at once
//   points_per_task = 1       # P: array task t runs points tP..tP+P-1 in turn (T = ceil(N/P) tasks); a task
//                             # stopped by a signal resumes after requeue at its first point not done
//   out = sweep-impute        # the sweep folder (points, status, results, logs)
//   [fixed]                   # options given to every point, as on the command line without --
//   method = cell_mean
//   per-cell = true           # true: the bare flag --per-cell; false: left out
//   [grid]                    # one option per line with its comma-separated values
//   folds = 3, 5
//   seed = 1, 2, 3
//
// `tessera sweep plan` also checks every [fixed] and [grid] key and value against the command's options
// (jobs/command_line.h, OptionCheck), so a typo is refused at plan time with the file, line and closest option.
// '#' and ';' start comments. An unknown section or [sweep] key, a key given twice, an empty value list or zip
// lists of different lengths is an Error naming the file, the line and the fix. Grid values cannot hold commas.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tessera::jobs::sweep {

using Option = std::pair<std::string, std::string>;  // name (without --), value

struct SweepFile {
  std::string command;
  std::string combine = "product";  // product | zip
  int max_parallel = 4;
  int points_per_task = 1;
  std::string out = "sweep";
  std::vector<Option> fixed;
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;  // in file order
  std::vector<int> fixed_lines, grid_lines;  // the line of each entry of fixed and grid, for messages

  // The parameter names of the grid, in file order (the extra columns of points.csv and results.csv).
  std::vector<std::string> parameter_names() const;
  // Every point: the grid values, one per parameter name. Product order: last parameter varies fastest.
  std::vector<std::vector<std::string>> points() const;
  // Number of array tasks for `num_points` points: ceil(num_points / points_per_task).
  int num_tasks(int num_points) const { return (num_points + points_per_task - 1) / points_per_task; }
};

// Reads and checks a sweep file (command must name a registered tessera command other than sweep).
SweepFile read_sweep_file(const std::filesystem::path& path);

// Appends "--name value" to args as point_arguments does: "true" is the bare flag, "false" leaves it out.
void append_option(std::vector<std::string>& args, const std::string& name, const std::string& value);

// The command line of one point: fixed options, then the point's grid values, as "--name value" pairs.
std::vector<std::string> point_arguments(const SweepFile& sweep, const std::vector<std::string>& values);

}  // namespace tessera::jobs::sweep
