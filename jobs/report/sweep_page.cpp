// The sweep page: every point's status with its parameters, and the collected metric over the swept parameters.
#include <algorithm>
#include <cstdlib>
#include <map>

#include "engine/error.h"
#include "jobs/report/pages.h"
#include "jobs/sweep/sweep_state.h"

namespace tessera::jobs::report {

namespace fs = std::filesystem;

namespace {

// The metric a sweep is judged by: the first of these that results.csv has (impute's, then discover's).
std::string metric_of(const io::CsvTable& results) {
  for (const char* name : {"pearson_r", "shd", "sid", "score"})
    if (std::find(results.header.begin(), results.header.end(), name) != results.header.end()) return name;
  return {};
}

void add_results(ReportPage& page, const fs::path& results_file, const io::CsvTable& points) {
  const io::CsvTable results = io::read_csv(results_file);
  const std::string metric = metric_of(results);
  const std::string where = results_file.string();
  page.section("Collected metric");
  if (metric.empty() || points.header.size() < 2) {
    page.paragraph(
        "results.csv has none of pearson_r, shd, sid or score, or the sweep has no parameter to plot "
        "against; its rows are below.");
    page.table(results, "results.csv", 200);
    return;
  }
  const auto has = [&](const std::string& name) {
    return std::find(results.header.begin(), results.header.end(), name) != results.header.end();
  };
  // A numeric parameter on a numeric axis (2, 5, 10, not "10" < "2"); any other in the order of points.csv.
  bool numeric_parameter = true;
  for (const auto& row : points.rows) {
    char* end = nullptr;
    std::strtod(row[1].c_str(), &end);
    numeric_parameter = numeric_parameter && !row[1].empty() && *end == '\0';
  }
  json rows = json::array();
  const std::size_t metric_column = results.column(metric, where);
  const std::size_t x_column = results.column(points.header[1], where);
  for (std::size_t r = 0; r < results.rows.size(); ++r) {
    if (has("scope") && results.rows[r][results.column("scope", where)] != "all") continue;  // pooled rows only
    json row = {{"point", results.rows[r][0]}, {metric, number_in(results, r, metric_column, where)}};
    if (numeric_parameter)
      row[points.header[1]] = number_in(results, r, x_column, where);
    else
      row[points.header[1]] = results.rows[r][x_column];
    if (has("method")) row["method"] = results.rows[r][results.column("method", where)];
    rows.push_back(std::move(row));
  }
  page.paragraph(metric + " of every collected point (results.csv) against the swept parameter " + points.header[1] +
                 (has("method") ? ", one line per method." : "."));
  json order = json::array();
  for (const auto& row : points.rows) order.push_back(row[1]);
  json encoding = {{"x", numeric_parameter ? json{{"field", points.header[1]}, {"type", "quantitative"}}
                                           : json{{"field", points.header[1]}, {"type", "ordinal"}, {"sort", order}}},
                   {"y", {{"field", metric}, {"type", "quantitative"}, {"scale", {{"zero", false}}}}},
                   {"tooltip", json::array({{{"field", "point"}}, {{"field", metric}}})}};
  if (has("method")) encoding["color"] = {{"field", "method"}, {"type", "nominal"}};
  page.chart({{"data", {{"values", rows}}},
              {"mark", {{"type", "line"}, {"point", true}}},
              {"height", 260},
              {"encoding", encoding}});
  page.table(results, "results.csv", 200);
}

}  // namespace

ReportPage sweep_page(const fs::path& folder) {
  const fs::path points_file = folder / "points.csv";
  const io::CsvTable points = io::read_csv(points_file);
  io::CsvTable status = points;
  status.header.insert(status.header.end(), {"state", "detail"});
  using sweep::PointState;
  const auto& names = sweep::name_table(PointState{});
  std::map<PointState, int> counts;
  for (std::size_t i = 0; i < status.rows.size(); ++i) {
    const auto point = sweep::read_status(folder, static_cast<int>(i));
    ++counts[point.state];
    status.rows[i].insert(status.rows[i].end(), {names.name(point.state), point.detail});
  }
  ReportPage page("Sweep: " + display_name(folder));
  page.paragraph(std::to_string(points.rows.size()) + " points in " + fs::absolute(folder).lexically_normal().string() +
                 ": " + std::to_string(counts[PointState::kDone]) + " done, " +
                 std::to_string(counts[PointState::kFailed]) + " failed, " +
                 std::to_string(counts[PointState::kMissing]) + " not run or not finished.");
  page.section("Points");
  json state_rows = json::array();
  for (const auto state : {PointState::kDone, PointState::kFailed, PointState::kMissing})
    state_rows.push_back({{"state", names.name(state)}, {"points", counts[state]}});
  page.chart({{"data", {{"values", state_rows}}},
              {"mark", "bar"},
              {"height", 110},
              {"encoding",
               {{"y", {{"field", "state"}, {"type", "nominal"}, {"sort", {"done", "failed", "missing"}}}},
                {"x", {{"field", "points"}, {"type", "quantitative"}}},
                {"color",
                 {{"field", "state"},
                  {"type", "nominal"},
                  {"scale", {{"domain", {"done", "failed", "missing"}}, {"range", {"#54a24b", "#e45756", "#bab0ac"}}}},
                  {"legend", nullptr}}}}}});
  page.table(status, "points.csv with status/<i>", 500);
  if (fs::exists(folder / "results.csv"))
    add_results(page, folder / "results.csv", points);
  else
    page.paragraph("No results.csv yet: run 'tessera sweep collect " + folder.string() + "' when points are done.");
  return page;
}

}  // namespace tessera::jobs::report
