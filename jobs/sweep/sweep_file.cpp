#include "jobs/sweep/sweep_file.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/parameters.h"
#include "jobs/command_line.h"
#include "jobs/ini_file.h"

namespace tessera::jobs::sweep {

std::vector<std::string> SweepFile::parameter_names() const {
  std::vector<std::string> names;
  for (const auto& [name, values] : grid) names.push_back(name);
  return names;
}

std::vector<std::vector<std::string>> SweepFile::points() const {
  std::vector<std::vector<std::string>> result;
  if (grid.empty()) return {{}};  // one point: the fixed options alone
  if (combine == "zip") {
    for (std::size_t i = 0; i < grid.front().second.size(); ++i) {
      std::vector<std::string> point;
      for (const auto& [name, values] : grid) point.push_back(values[i]);
      result.push_back(point);
    }
    return result;
  }
  std::vector<std::size_t> sizes;
  for (const auto& [name, values] : grid) sizes.push_back(values.size());
  for (const auto& digits : engine::product_indices(sizes)) {
    std::vector<std::string> point;
    for (std::size_t p = 0; p < grid.size(); ++p) point.push_back(grid[p].second[digits[p]]);
    result.push_back(point);
  }
  return result;
}

SweepFile read_sweep_file(const std::filesystem::path& path) {
  SweepFile sweep;
  for (const auto& entry : read_ini_entries(path, "sweep file", {"sweep", "fixed", "grid"},
                                            "check the path given to 'tessera sweep plan'")) {
    const auto& [section, key, value, number] = entry;
    const auto where = [&, number = number] { return ini_where("sweep file", path, number); };
    if (section == "sweep") {
      if (key == "command") {
        sweep.command = value;
      } else if (key == "combine") {
        TESSERA_CHECK(value == "product" || value == "zip", where(), "combine = '", value, "': write product or zip");
        sweep.combine = value;
      } else if (key == "max_parallel" || key == "points_per_task") {
        int whole = 0;
        try {
          std::size_t used = 0;
          whole = std::stoi(value, &used);
          if (used != value.size()) whole = 0;
        } catch (const std::exception&) {
          whole = 0;
        }
        TESSERA_CHECK(whole >= 1, where(), key, " = '", value, "': write a whole number >= 1");
        (key == "max_parallel" ? sweep.max_parallel : sweep.points_per_task) = whole;
      } else if (key == "out") {
        TESSERA_CHECK(!value.empty(), where(), "out is empty: name the sweep folder");
        sweep.out = value;
      } else {
        TESSERA_FAIL(where(), "unknown key '", key,
                     "' in [sweep]; the keys are command, combine, max_parallel, points_per_task, out");
      }
    } else if (section == "fixed") {
      TESSERA_CHECK(key != "out", where(), "'out' cannot be fixed: each point writes to <sweep out>/point-<i>");
      sweep.fixed.emplace_back(key, value);
      sweep.fixed_lines.push_back(number);
    } else {
      TESSERA_CHECK(key != "out", where(), "'out' cannot be swept: each point writes to <sweep out>/point-<i>");
      const auto values = split_list({value});
      TESSERA_CHECK(!values.empty(), where(), "'", key, "' has no values; write e.g. ", key, " = 1, 2, 3");
      sweep.grid.emplace_back(key, values);
      sweep.grid_lines.push_back(number);
    }
  }
  TESSERA_CHECK(!sweep.command.empty(), "sweep file '", path.string(),
                "' has no 'command = <tessera command>' in [sweep]");
  bool known = false;
  for (const auto& name : command_names()) known = known || name == sweep.command;
  TESSERA_CHECK(known && sweep.command != "sweep", "sweep file '", path.string(), "': command = '", sweep.command,
                "' is not a tessera command a sweep can run (e.g. impute)");
  if (sweep.combine == "zip") {
    for (const auto& [name, values] : sweep.grid)
      TESSERA_CHECK(values.size() == sweep.grid.front().second.size(), "sweep file '", path.string(),
                    "': combine = zip needs value lists of one length, but '", sweep.grid.front().first, "' has ",
                    sweep.grid.front().second.size(), " values and '", name, "' has ", values.size());
  }
  return sweep;
}

void append_option(std::vector<std::string>& args, const std::string& name, const std::string& value) {
  if (value == "false") return;  // a switch left off
  args.push_back("--" + name);
  if (value != "true" && !value.empty()) args.push_back(value);
}

std::vector<std::string> point_arguments(const SweepFile& sweep, const std::vector<std::string>& values) {
  std::vector<std::string> args;
  for (const auto& [name, value] : sweep.fixed) append_option(args, name, value);
  for (std::size_t p = 0; p < sweep.grid.size(); ++p) append_option(args, sweep.grid[p].first, values.at(p));
  return args;
}

}  // namespace tessera::jobs::sweep
