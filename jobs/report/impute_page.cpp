// The imputation page: the method table with its spread over folds, metrics per cell type, predicted against
// measured values for a few held-out signatures, time per method, and the options.
#include <algorithm>
#include <map>

#include "engine/error.h"
#include "io/gctx.h"
#include "jobs/report/pages.h"

namespace tessera::jobs::report {

namespace fs = std::filesystem;

namespace {

constexpr int kShownSignatures = 3;

io::CsvTable rows_where(const io::CsvTable& table, std::size_t column, bool equal, const std::string& value) {
  io::CsvTable kept{table.header, {}, {}};
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    if ((table.rows[r][column] == value) == equal) {
      kept.rows.push_back(table.rows[r]);
      kept.line_numbers.push_back(table.line_numbers[r]);
    }
  return kept;
}

// The method with the highest pooled Pearson r.
std::string best_method(const io::CsvTable& overall, const std::string& where) {
  const std::size_t method = overall.column("method", where), r = overall.column("pearson_r", where);
  std::size_t best = 0;
  for (std::size_t i = 1; i < overall.rows.size(); ++i)
    if (number_in(overall, i, r, where) > number_in(overall, best, r, where)) best = i;
  return overall.rows[best][method];
}

// Predicted (heldout_<method>.gctx) against measured (the same signature's observed column in
// completed_<method>.gctx) for the first few held-out signatures, gene by gene.
void add_predicted_vs_measured(ReportPage& page, const fs::path& folder, const std::string& method,
                               const engine::Context& alone) {
  const fs::path heldout_file = folder / ("heldout_" + method + ".gctx");
  const fs::path completed_file = folder / ("completed_" + method + ".gctx");
  if (!fs::exists(heldout_file) || !fs::exists(completed_file)) {
    page.paragraph("No " + heldout_file.filename().string() + " and " + completed_file.filename().string() +
                   " in the folder, so no predicted-against-measured plot.");
    return;
  }
  // Only the plotted columns are read: at LINCS scale a completed table is tens of GB.
  const io::GctxReader heldout(heldout_file, alone);
  const io::GctxReader completed(completed_file, alone);
  const auto& h_cell = heldout.cols().require("cell_id", heldout_file.string());
  const auto& h_pert = heldout.cols().require("pert_id", heldout_file.string());
  const auto& c_cell = completed.cols().require("cell_id", completed_file.string());
  const auto& c_pert = completed.cols().require("pert_id", completed_file.string());
  std::map<std::pair<std::string, std::string>, std::int64_t> measured_column;
  for (std::size_t j = 0; j < completed.cols().size(); ++j)
    measured_column[{c_cell.as_string(j), c_pert.as_string(j)}] = static_cast<std::int64_t>(j);
  TESSERA_CHECK(heldout.rows().ids == completed.rows().ids, heldout_file.string(), " and ", completed_file.string(),
                " list different genes; were they written by the same tessera impute run?");

  json values = json::array();
  int shown = 0;
  for (std::size_t j = 0; j < heldout.cols().size() && shown < kShownSignatures; ++j) {
    const auto found = measured_column.find({h_cell.as_string(j), h_pert.as_string(j)});
    if (found == measured_column.end()) continue;
    const std::string signature = h_cell.as_string(j) + " : " + h_pert.as_string(j);
    const auto predicted = heldout.read_signatures<float>(std::int64_t(j), std::int64_t(j) + 1);
    const auto measured = completed.read_signatures<float>(found->second, found->second + 1);
    for (Eigen::Index g = 0; g < predicted.rows(); ++g)
      values.push_back({{"signature", signature},
                        {"gene", heldout.rows().ids[static_cast<std::size_t>(g)]},
                        {"measured", measured(g, 0)},
                        {"predicted", predicted(g, 0)}});
    ++shown;
  }
  page.section("Predicted against measured: " + method);
  page.paragraph("The first " + std::to_string(shown) + " held-out signatures of " + method +
                 " (the best pooled Pearson r): each point is a gene, its cross-validated prediction against the "
                 "measured value. The line is y = x.");
  page.chart(
      {{"data", {{"values", values}}},
       {"facet", {{"field", "signature"}, {"type", "nominal"}, {"title", nullptr}}},
       {"columns", kShownSignatures},
       {"spec",
        {{"width", 280},
         {"height", 260},
         {"layer",
          json::array(
              {{{"mark", {{"type", "point"}, {"size", 12}, {"opacity", 0.5}, {"filled", true}}},
                {"encoding",
                 {{"x", {{"field", "measured"}, {"type", "quantitative"}, {"title", "measured"}}},
                  {"y", {{"field", "predicted"}, {"type", "quantitative"}, {"title", "predicted"}}},
                  {"tooltip", json::array({{{"field", "gene"}}, {{"field", "measured"}}, {{"field", "predicted"}}})}}}},
               {{"mark", {{"type", "line"}, {"color", "#888"}, {"strokeDash", {4, 4}}}},
                {"transform",
                 json::array({{{"aggregate", json::array({{{"op", "min"}, {"field", "measured"}, {"as", "low"}},
                                                          {{"op", "max"}, {"field", "measured"}, {"as", "high"}}})}},
                              {{"fold", {"low", "high"}}}})},
                {"encoding",
                 {{"x", {{"field", "value"}, {"type", "quantitative"}, {"title", "measured"}}},
                  {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", "predicted"}}}}}}})}}}});
}

}  // namespace

ReportPage impute_page(const fs::path& folder, const engine::Context& alone) {
  const fs::path metrics_file = folder / "metrics.csv";
  const std::string where = metrics_file.string();
  const io::CsvTable metrics = io::read_csv(metrics_file);
  const std::size_t scope = metrics.column("scope", where);
  const io::CsvTable overall = rows_where(metrics, scope, true, "all");
  const io::CsvTable per_cell = rows_where(metrics, scope, false, "all");
  TESSERA_CHECK(!overall.rows.empty(), where, " has no row with scope 'all'; was it written by tessera impute?");

  ReportPage page("Imputation: " + display_name(folder));
  page.paragraph("Held-out signatures of " + fs::absolute(folder).lexically_normal().string() +
                 ", scored against their measured values (metrics.csv).");

  page.section("Methods");
  page.paragraph(
      "Pooled Pearson r of every method over all held-out values; the whisker spans ± one standard "
      "deviation of the per-fold r (pearson_r_fold_sd).");
  json overall_rows = records(overall,
                              {"pearson_r", "pearson_r_fold_sd", "mean_r2", "mean_cosine", "mse", "mean_pearson_de20",
                               "signatures", "values", "seconds"},
                              where);
  // Best method on top. The rows come sorted and the axis keeps their order: a sort by field would not reach
  // the error bar's layer, whose composite mark aggregates its own data.
  std::stable_sort(overall_rows.begin(), overall_rows.end(), [](const json& a, const json& b) {
    return a["pearson_r"].get<double>() > b["pearson_r"].get<double>();
  });
  const json data_order = nullptr;
  page.chart(
      {{"data", {{"values", overall_rows}}},
       {"height", 40 + 28 * static_cast<int>(overall.rows.size())},
       {"layer",
        json::array(
            {{{"mark", {{"type", "bar"}, {"color", "#4c78a8"}}},
              {"encoding",
               {{"y", {{"field", "method"}, {"type", "nominal"}, {"sort", data_order}}},
                {"x", {{"field", "pearson_r"}, {"type", "quantitative"}, {"title", "Pearson r"}}},
                {"tooltip",
                 json::array({{{"field", "method"}}, {{"field", "pearson_r"}}, {{"field", "pearson_r_fold_sd"}}})}}}},
             {{"mark", {{"type", "errorbar"}, {"ticks", true}}},
              {"encoding",
               {{"y", {{"field", "method"}, {"type", "nominal"}, {"sort", data_order}}},
                {"x", {{"field", "pearson_r"}, {"type", "quantitative"}, {"title", "Pearson r"}}},
                {"xError", {{"field", "pearson_r_fold_sd"}}}}}}})}});
  page.table(overall, "metrics.csv, scope all");

  if (!per_cell.rows.empty()) {
    page.section("Per cell type");
    page.paragraph("Pooled Pearson r of each method on each cell type's held-out signatures.");
    page.chart({{"data", {{"values", records(per_cell, {"pearson_r", "signatures"}, where)}}},
                {"mark", "rect"},
                {"height", 40 + 26 * static_cast<int>(overall.rows.size())},
                {"encoding",
                 {{"x", {{"field", "scope"}, {"type", "nominal"}, {"title", "cell type"}}},
                  {"y", {{"field", "method"}, {"type", "nominal"}}},
                  {"color", {{"field", "pearson_r"}, {"type", "quantitative"}, {"scale", {{"scheme", "viridis"}}}}},
                  {"tooltip", json::array({{{"field", "method"}},
                                           {{"field", "scope"}},
                                           {{"field", "pearson_r"}},
                                           {{"field", "signatures"}}})}}}});
    page.table(per_cell, "metrics.csv, per cell type", 200);
  }

  add_predicted_vs_measured(page, folder, best_method(overall, where), alone);

  if (fs::exists(folder / "metrics_vs_truth.csv")) {
    page.section("Against the simulator's truth");
    page.paragraph("The never-measured pairs of a simulated screen, scored against their true signatures.");
    page.table(io::read_csv(folder / "metrics_vs_truth.csv"), "metrics_vs_truth.csv");
  }

  page.section("Time per method");
  page.chart({{"data", {{"values", overall_rows}}},
              {"mark", "bar"},
              {"height", 40 + 28 * static_cast<int>(overall.rows.size())},
              {"encoding",
               {{"y", {{"field", "method"}, {"type", "nominal"}, {"sort", "-x"}}},
                {"x", {{"field", "seconds"}, {"type", "quantitative"}, {"title", "seconds (all folds)"}}}}}});

  add_options_section(page, folder / "options.ini");
  return page;
}

}  // namespace tessera::jobs::report
