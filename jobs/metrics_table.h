// The results table of `impute` and `evaluate`: one row per (method, scope), printed aligned and written as CSV.
#pragma once

#include <string>
#include <vector>

#include "io/csv.h"
#include "solvers/imputation/metrics.h"

namespace tessera::jobs {

struct MetricsRow {
  std::string method;
  std::string scope;  // "all", or a cell type id
  solvers::imputation::Metrics metrics;
  double pearson_fold_sd = NAN;  // spread of the per-fold Pearson r (NaN when there is one fold)
  double seconds = NAN;          // wall time of the method (cross-validation and completion)
};

io::CsvTable metrics_csv(const std::vector<MetricsRow>& rows);
// Only the "all" rows, aligned for a terminal.
std::string format_metrics_table(const std::vector<MetricsRow>& rows, const std::string& title);

}  // namespace tessera::jobs
