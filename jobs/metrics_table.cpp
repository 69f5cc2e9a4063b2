#include "jobs/metrics_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tessera::jobs {

namespace {
std::string number(double value, int digits = 4) {
  if (std::isnan(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}
// An error on expression's scale can be far below 1e-4 or far above 1: significant digits, not decimals.
std::string significant(double value, int digits) {
  if (std::isnan(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}
// Named after the constant, so the column says how many genes it scores.
std::string pearson_de_column(const char* prefix) {
  return prefix + std::to_string(solvers::imputation::kTopChangedGenes);
}
}  // namespace

io::CsvTable metrics_csv(const std::vector<MetricsRow>& rows) {
  io::CsvTable csv;
  // New columns go after mean_cosine; readers find columns by name (CsvTable::column).
  csv.header = {"method",     "scope",       "pearson_r", "pearson_r_fold_sd",
                "mean_r2",    "mean_cosine", "mse",       pearson_de_column("mean_pearson_de"),
                "signatures", "values",      "seconds"};
  for (const auto& row : rows) {
    const auto& m = row.metrics;
    csv.rows.push_back({row.method, row.scope, number(m.pearson, 6), number(row.pearson_fold_sd, 6),
                        number(m.mean_r2, 6), number(m.mean_cosine, 6), significant(m.mse, 7),
                        number(m.mean_pearson_de, 6), std::to_string(m.num_signatures), std::to_string(m.num_values),
                        number(row.seconds, 3)});
  }
  return csv;
}

std::string format_metrics_table(const std::vector<MetricsRow>& rows, const std::string& title) {
  int width = 6;  // "method"
  for (const auto& row : rows) width = std::max(width, int(row.method.size()));
  std::string text = title + "\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-*s %10s %8s %9s %11s %10s %12s %11s %9s\n", width, "method", "pearson_r",
                "+-fold", "mean_R2", "mean_cosine", "mse", pearson_de_column("pearson_de").c_str(), "signatures",
                "seconds");
  text += line;
  for (const auto& row : rows) {
    if (row.scope != "all") continue;
    const auto& m = row.metrics;
    std::snprintf(line, sizeof line, "  %-*s %10s %8s %9s %11s %10s %12s %11lld %9s\n", width, row.method.c_str(),
                  number(m.pearson).c_str(), number(row.pearson_fold_sd, 3).c_str(), number(m.mean_r2).c_str(),
                  number(m.mean_cosine).c_str(), significant(m.mse, 4).c_str(), number(m.mean_pearson_de).c_str(),
                  (long long)m.num_signatures, number(row.seconds, 2).c_str());
    text += line;
  }
  return text;
}

}  // namespace tessera::jobs
