#include "jobs/sweep/sweep_file.h"

#include <algorithm>
#include <fstream>

#include "engine/error.h"
#include "jobs/command_line.h"

namespace tessera::jobs::sweep {

namespace {

// Drops a trailing comment (" #..." or " ;..."), so "folds = 3, 5   # small" works.
std::string strip_comment(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i)
    if ((text[i] == '#' || text[i] == ';') && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t'))
      return text.substr(0, i);
  return text;
}

}  // namespace

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
  // Odometer over the value lists, last digit fastest.
  std::vector<std::size_t> digit(grid.size(), 0);
  while (true) {
    std::vector<std::string> point;
    for (std::size_t p = 0; p < grid.size(); ++p) point.push_back(grid[p].second[digit[p]]);
    result.push_back(point);
    std::size_t p = grid.size();
    while (p > 0 && ++digit[p - 1] == grid[p - 1].second.size()) digit[--p] = 0;
    if (p == 0) return result;
  }
}

SweepFile read_sweep_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  TESSERA_CHECK(in, "sweep file '", path.string(), "' cannot be opened: check the path given to 'tessera sweep plan'");
  SweepFile sweep;
  std::string line, section;
  std::vector<std::string> seen;
  int number = 0;
  const auto where = [&] { return "sweep file '" + path.string() + "' line " + std::to_string(number) + ": "; };
  while (std::getline(in, line)) {
    ++number;
    const std::string text = trim(strip_comment(line));
    if (text.empty()) continue;
    if (text.front() == '[') {
      TESSERA_CHECK(text.back() == ']', where(), "'", text, "' is not a section header such as [grid]");
      section = trim(text.substr(1, text.size() - 2));
      TESSERA_CHECK(section == "sweep" || section == "fixed" || section == "grid", where(), "unknown section [",
                    section, "]; the sections are [sweep], [fixed] and [grid]");
      continue;
    }
    const auto equals = text.find('=');
    TESSERA_CHECK(equals != std::string::npos, where(), "'", text, "' is not 'key = value'");
    const std::string key = trim(text.substr(0, equals)), value = trim(text.substr(equals + 1));
    TESSERA_CHECK(!section.empty(), where(), "'", key,
                  "' stands before any section; put it under [sweep], [fixed] or [grid]");
    TESSERA_CHECK(!key.empty(), where(), "empty key");
    const std::string qualified = section + "." + key;
    TESSERA_CHECK(std::find(seen.begin(), seen.end(), qualified) == seen.end(), where(), "'", key,
                  "' is given twice in [", section, "]");
    seen.push_back(qualified);
    if (section == "sweep") {
      if (key == "command") {
        sweep.command = value;
      } else if (key == "combine") {
        TESSERA_CHECK(value == "product" || value == "zip", where(), "combine = '", value, "': write product or zip");
        sweep.combine = value;
      } else if (key == "max_parallel" || key == "points_per_task") {
        int number = 0;
        try {
          std::size_t used = 0;
          number = std::stoi(value, &used);
          if (used != value.size()) number = 0;
        } catch (const std::exception&) {
          number = 0;
        }
        TESSERA_CHECK(number >= 1, where(), key, " = '", value, "': write a whole number >= 1");
        (key == "max_parallel" ? sweep.max_parallel : sweep.points_per_task) = number;
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
