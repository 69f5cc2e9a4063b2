#include "solvers/causal/data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <unordered_map>

#include "engine/error.h"
#include "engine/hash.h"
#include "io/csv.h"

namespace tessera::solvers::causal {

int InterventionalData::variable_index(const std::string& name) const {
  auto it = std::find(variables.begin(), variables.end(), name);
  return it == variables.end() ? -1 : int(it - variables.begin());
}

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  return out;
}

bool parse_double(const std::string& text, double& value) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  const char* end = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(t.data(), end, value);
  return ec == std::errc() && ptr == end && std::isfinite(value);
}

}  // namespace

std::optional<InterventionalData> rescaled_for_statistics(const InterventionalData& data) {
  constexpr int kLimit = 128;  // squares of |x| < 2^128 summed over any realistic row count stay finite
  std::optional<InterventionalData> out;
  for (Eigen::Index j = 0; j < data.samples.cols(); ++j) {
    const double largest = data.samples.col(j).cwiseAbs().maxCoeff();
    if (!(largest > 0) || !std::isfinite(largest)) continue;
    int exponent = 0;
    std::frexp(largest, &exponent);
    if (exponent > -kLimit && exponent <= kLimit) continue;
    if (!out) out = data;
    out->samples.col(j) = out->samples.col(j).unaryExpr([&](double x) { return std::ldexp(x, -exponent); });
  }
  return out;
}

void validate(const InterventionalData& data, const std::string& where) {
  const int p = data.num_variables();
  const auto n = data.samples.rows();
  TESSERA_CHECK(data.samples.cols() == p, where, ": ", data.samples.cols(), " sample columns but ", p,
                " variable names");
  TESSERA_CHECK(std::ssize(data.setting) == n, where, ": ", data.setting.size(), " setting labels for ", n, " rows");
  TESSERA_CHECK(n >= p, where, ": ", n, " rows but ", p, " variables; causal discovery needs at least as many ",
                "samples as variables (add rows or drop variables)");
  std::map<std::string, int> seen;
  for (int j = 0; j < p; ++j) {
    auto [it, fresh] = seen.emplace(data.variables[j], j);
    TESSERA_CHECK(fresh, where, ": column '", data.variables[j], "' appears twice; rename or drop one");
  }
  std::vector<std::int64_t> rows(data.num_settings(), 0);
  for (int s : data.setting) {
    TESSERA_CHECK(s >= 0 && s < data.num_settings(), where, ": setting index ", s, " out of range");
    ++rows[s];
  }
  for (int k = 0; k < data.num_settings(); ++k)
    TESSERA_CHECK(rows[k] > 0, where, ": setting '", data.setting_names[k], "' has no rows",
                  k == 0 ? " (no observational rows: name the observational setting values)" : "");
  // Constant columns, and columns that duplicate another one exactly (hash first, then compare).
  std::unordered_map<std::uint64_t, std::vector<int>> by_hash;
  for (int j = 0; j < p; ++j) {
    const auto col = data.samples.col(j);
    TESSERA_CHECK(n == 0 || (col.array() != col(0)).any(), where, ": column '", data.variables[j], "' is constant (",
                  n ? col(0) : 0.0, " in every row); drop it");
    std::uint64_t h = engine::kWordHashBasis;
    for (Eigen::Index r = 0; r < n; ++r) h = engine::mix_word(h, engine::double_bits(col(r)));
    for (int other : by_hash[h])
      TESSERA_CHECK(!(data.samples.col(other).array() == col.array()).all(), where, ": columns '",
                    data.variables[other], "' and '", data.variables[j], "' are identical; drop one");
    by_hash[h].push_back(j);
  }
}

namespace {

bool listed(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// "a, b, c" for names[first..], at most `most` of them, then ", ...".
std::string name_list(const std::vector<std::string>& names, std::size_t first, std::size_t most) {
  std::string text;
  for (std::size_t k = first; k < names.size() && k < first + most; ++k) text += (k > first ? ", " : "") + names[k];
  return names.size() > first + most ? text + ", ..." : text;
}

}  // namespace

InterventionalData interventional_data_from_rows(std::vector<std::string> variables, const Eigen::MatrixXd& samples,
                                                 const std::vector<std::string>& setting_values,
                                                 const std::string& targets_spec, const CausalCsvOptions& options,
                                                 const std::string& where, const std::string& setting_label) {
  TESSERA_CHECK(samples.rows() == std::ssize(setting_values), where, ": ", setting_values.size(),
                " setting values for ", samples.rows(), " rows");
  auto is_obs = [&](const std::string& v) { return listed(options.observational, v); };
  InterventionalData data;
  data.variables = std::move(variables);
  data.setting_names = {"observational"};
  std::map<std::string, int> index_of;
  std::vector<Eigen::Index> rows;
  for (std::size_t r = 0; r < setting_values.size(); ++r) {
    const std::string v = trim(setting_values[r]);
    if (!options.keep_settings.empty() && !listed(options.keep_settings, v)) continue;
    int s = 0;
    if (!is_obs(v)) {
      auto [it, fresh] = index_of.emplace(v, data.num_settings());
      if (fresh) data.setting_names.push_back(v);
      s = it->second;
    }
    rows.push_back(Eigen::Index(r));
    data.setting.push_back(s);
  }
  data.samples = samples(rows, Eigen::all);
  if (!rows.empty() && std::count(data.setting.begin(), data.setting.end(), 0) == 0)
    throw Error(where + ": no row is observational: no value of " + setting_label + " is one of " +
                name_list(options.observational, 0, options.observational.size()) +
                "; name the observational values with --observational (the values here: " +
                name_list(data.setting_names, 1, 8) + ")");
  // Settings named in keep_settings must have rows.
  for (const auto& v : options.keep_settings) {
    const bool present =
        is_obs(v) ? std::count(data.setting.begin(), data.setting.end(), 0) > 0 : index_of.count(v) > 0;
    TESSERA_CHECK(present, where, ": setting '", v, "' has no rows (", setting_label, ")");
  }
  data.known_targets.assign(data.num_settings(), {});
  if (!trim(targets_spec).empty()) {
    for (const auto& item : split(targets_spec, ',')) {
      if (item.empty()) continue;
      const auto colon = item.find(':');
      TESSERA_CHECK(colon != std::string::npos, "targets '", item, "' is not 'setting:var1;var2'");
      const std::string name = trim(item.substr(0, colon));
      auto it = index_of.find(name);
      TESSERA_CHECK(it != index_of.end(), where, ": targets name setting '", name, "', which has no rows",
                    is_obs(name) ? " (it is observational)" : "", " in ", setting_label);
      auto& targets = data.known_targets[it->second];
      for (const auto& var : split(item.substr(colon + 1), ';')) {
        if (var.empty()) continue;
        const int j = data.variable_index(var);
        TESSERA_CHECK(j >= 0, where, ": targets of setting '", name, "' name unknown variable '", var,
                      "'; the variables are the columns other than ", setting_label);
        targets.push_back(j);
      }
      std::sort(targets.begin(), targets.end());
      targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    }
  }
  validate(data, where);
  return data;
}

InterventionalData read_causal_csv(const std::filesystem::path& path, const std::string& setting_column,
                                   const std::string& targets_spec, const CausalCsvOptions& options) {
  const io::CsvTable table = io::read_csv(path);
  const std::string where = path.string();
  const std::size_t scol = table.column(setting_column, where);
  std::vector<std::string> variables;
  std::vector<std::size_t> var_cols;
  for (std::size_t c = 0; c < table.header.size(); ++c)
    if (c != scol) {
      variables.push_back(trim(table.header[c]));
      var_cols.push_back(c);
    }
  // Only the rows of kept settings are parsed: the others may hold anything.
  std::vector<std::size_t> rows;
  std::vector<std::string> setting_values;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const std::string v = trim(table.rows[r][scol]);
    if (!options.keep_settings.empty() && !listed(options.keep_settings, v)) continue;
    rows.push_back(r);
    setting_values.push_back(v);
  }
  Eigen::MatrixXd samples(Eigen::Index(rows.size()), Eigen::Index(var_cols.size()));
  for (std::size_t a = 0; a < rows.size(); ++a) {
    const auto& row = table.rows[rows[a]];
    for (std::size_t j = 0; j < var_cols.size(); ++j) {
      double v;
      TESSERA_CHECK(parse_double(row[var_cols[j]], v), where, " line ", table.line_numbers[rows[a]], " column '",
                    variables[j], "': '", row[var_cols[j]], "' is not a finite number");
      samples(Eigen::Index(a), Eigen::Index(j)) = v;
    }
  }
  return interventional_data_from_rows(std::move(variables), samples, setting_values, targets_spec, options, where,
                                       "column '" + setting_column + "'");
}

}  // namespace tessera::solvers::causal
