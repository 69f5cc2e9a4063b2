// Observational and interventional samples for causal discovery, and the CSV reader.
//
// Layout: samples is n x p (rows are samples, one column per variable; Eigen column-major). setting[r] says which
// experiment row r comes from: 0 is observational (all observational groups merged), 1..K the interventional
// settings in order of first appearance in the file. known_targets[k] lists the variables intervened on in
// setting k when they are known (empty for setting 0 and for settings with unknown targets).
// Every rank holds all rows; the statistics split the rows over ranks (stats/sufficient_stats.h).
#pragma once
#include <Eigen/Dense>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tessera::solvers::causal {

struct InterventionalData {
  std::vector<std::string> variables;
  Eigen::MatrixXd samples;                      // n x p
  std::vector<int> setting;                     // per row, 0 = observational
  std::vector<std::string> setting_names;       // per setting; [0] = "observational"
  std::vector<std::vector<int>> known_targets;  // per setting, sorted variable indices

  int num_variables() const { return int(variables.size()); }
  int num_settings() const { return int(setting_names.size()); }
  int variable_index(const std::string& name) const;  // -1 when absent
};

struct CausalCsvOptions {
  // Values of the setting column that are observational (merged into setting 0).
  std::vector<std::string> observational{"0", "obs", "observational"};
  // When non-empty, only rows whose setting value is listed are kept (e.g. Sachs groups 1-7).
  std::vector<std::string> keep_settings;
};

// Reads a CSV with one numeric column per variable plus `setting_column`. targets_spec is a comma-separated
// list of "setting:var1;var2" (e.g. "6:pmek,5:pip2"); settings not listed have unknown targets.
// Throws tessera::Error naming the file and the problem: a non-numeric cell (file, line, column), a constant or
// duplicated column, fewer rows than variables, a setting in the spec with no rows, an unknown target name.
InterventionalData read_causal_csv(const std::filesystem::path& path, const std::string& setting_column,
                                   const std::string& targets_spec, const CausalCsvOptions& options = {});

// The same from rows already parsed (the GCTX and DCDI readers): setting_values[r] is row r's setting value,
// `setting_label` names where it came from in messages (e.g. "column 'grp'").
InterventionalData interventional_data_from_rows(std::vector<std::string> variables, const Eigen::MatrixXd& samples,
                                                 const std::vector<std::string>& setting_values,
                                                 const std::string& targets_spec, const CausalCsvOptions& options,
                                                 const std::string& where, const std::string& setting_label);

// The data with every column whose largest |value| lies outside [2^-128, 2^128] (e.g. 1e300) multiplied by the
// power of two that brings it into [0.5, 1), or nothing when no column needs it (the usual case: no copy).
// Covariances of such columns overflow (or underflow) a double, and the column would be reported as of zero
// variance; every test of discovery is invariant to the scale of a variable, and a power of two is exact, so the
// result is what the scaled-down data give.
std::optional<InterventionalData> rescaled_for_statistics(const InterventionalData& data);

// The checks read_causal_csv applies, for data built in memory (`where` names the source in messages).
void validate(const InterventionalData& data, const std::string& where);

}  // namespace tessera::solvers::causal
