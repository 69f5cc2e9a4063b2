// The experimental-design page: how far each acquisition's recommendation is from the target, round by round.
#include "engine/error.h"
#include "jobs/report/pages.h"
#include "jobs/report/report.h"

namespace tessera::jobs::report {

namespace fs = std::filesystem;

ReportPage design_page(const fs::path& table_file) {
  const std::string where = table_file.string();
  const io::CsvTable table = io::read_csv(table_file);
  const std::size_t round = table.column("round", where);
  ReportPage page("Intervention design: " + table_file.filename().string());
  page.paragraph(
      "Distance between the target mean and the mean the recommended intervention would reach, after "
      "each round of experiments, averaged over instances (" +
      where + "). Lower is better.");
  json long_rows = json::array();  // one row per (round, acquisition): the shape a line per acquisition needs
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    for (std::size_t c = 0; c < table.header.size(); ++c)
      if (c != round)
        long_rows.push_back({{"round", number_in(table, r, round, where)},
                             {"acquisition", table.header[c]},
                             {"distance", number_in(table, r, c, where)}});
  page.section("Target distance over rounds");
  page.chart(
      {{"data", {{"values", long_rows}}},
       {"mark", {{"type", "line"}, {"point", true}}},
       {"height", 260},
       {"encoding",
        {{"x", {{"field", "round"}, {"type", "quantitative"}, {"axis", {{"tickMinStep", 1}, {"format", "d"}}}}},
         {"y", {{"field", "distance"}, {"type", "quantitative"}, {"title", "distance to the target"}}},
         {"color", {{"field", "acquisition"}, {"type", "nominal"}}},
         {"tooltip", json::array({{{"field", "acquisition"}}, {{"field", "round"}}, {{"field", "distance"}}})}}}});
  page.table(table, table_file.filename().string(), 200);
  add_options_section(page, side_file(table_file, "options.ini"));
  return page;
}

}  // namespace tessera::jobs::report
