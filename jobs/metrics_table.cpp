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
}  // namespace

io::CsvTable metrics_csv(const std::vector<MetricsRow>& rows) {
  io::CsvTable csv;
  csv.header = {"method",     "scope",  "pearson_r", "pearson_r_fold_sd", "mean_r2", "mean_cosine",
                "signatures", "values", "seconds"};
  for (const auto& row : rows) {
    const auto& m = row.metrics;
    csv.rows.push_back({row.method, row.scope, number(m.pearson, 6), number(row.pearson_fold_sd, 6),
                        number(m.mean_r2, 6), number(m.mean_cosine, 6), std::to_string(m.num_signatures),
                        std::to_string(m.num_values), number(row.seconds, 3)});
  }
  return csv;
}

std::string format_metrics_table(const std::vector<MetricsRow>& rows, const std::string& title) {
  int width = 6;  // "method"
  for (const auto& row : rows) width = std::max(width, int(row.method.size()));
  std::string text = title + "\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-*s %10s %8s %9s %11s %11s %9s\n", width, "method", "pearson_r", "+-fold",
                "mean_R2", "mean_cosine", "signatures", "seconds");
  text += line;
  for (const auto& row : rows) {
    if (row.scope != "all") continue;
    const auto& m = row.metrics;
    std::snprintf(line, sizeof line, "  %-*s %10s %8s %9s %11s %11lld %9s\n", width, row.method.c_str(),
                  number(m.pearson).c_str(), number(row.pearson_fold_sd, 3).c_str(), number(m.mean_r2).c_str(),
                  number(m.mean_cosine).c_str(), (long long)m.num_signatures, number(row.seconds, 2).c_str());
    text += line;
  }
  return text;
}

}  // namespace tessera::jobs
