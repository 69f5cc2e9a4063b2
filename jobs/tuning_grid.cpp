#include "jobs/tuning_grid.h"

#include <algorithm>

#include "engine/error.h"
#include "jobs/command_line.h"
#include "jobs/ini_file.h"

namespace tessera::jobs {

solvers::TuningGrids read_tuning_grid(const std::filesystem::path& path, const solvers::MethodParams& params) {
  std::vector<std::string> methods = solvers::imputation_methods();
  methods.emplace_back(solvers::kStackMethod);
  std::string choices;
  for (const auto& method : methods) choices += (choices.empty() ? "" : " | ") + method;
  solvers::TuningGrids grids;
  for (const auto& entry : read_ini_entries(path, "tuning grid", {}, "check --autotune-grid")) {
    const std::string where = ini_where("tuning grid", path, entry.line);
    TESSERA_CHECK(std::find(methods.begin(), methods.end(), entry.section) != methods.end(), where, "[", entry.section,
                  "] is not an imputation method; the methods are ", choices);
    TESSERA_CHECK(entry.section != solvers::kStackMethod, where,
                  "stack has no knobs to tune: with --autotune its base methods are stacked over their own grids");
    const auto values = split_list({entry.value});
    TESSERA_CHECK(!values.empty(), where, "'", entry.key, "' has no values; write e.g. ", entry.key, " = 1, 2");
    for (const auto& value : values) {
      solvers::MethodParams probe = params;
      try {
        TESSERA_CHECK(engine::set_knob(probe, entry.key, value), "no method has a knob '", entry.key,
                      "' (see 'tessera impute --help')");
      } catch (const Error& error) {
        TESSERA_FAIL(where, error.what());
      }
    }
    grids[entry.section].emplace_back(entry.key, values);
  }
  return grids;
}

}  // namespace tessera::jobs
