// One self-contained HTML page: headings, text, tables, Vega-Lite charts and inline SVG, with the styles, the
// plotting libraries and every chart's data inside the file. The page builders (impute_page.cpp, ...) fill it;
// html() writes it. Charts are drawn by Vega in the browser as SVG; the chart specs, with their data, sit in one
// JSON block (id "tessera-charts") that tests read back to compare with the CSV files.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "io/csv.h"

namespace tessera::jobs::report {

using nlohmann::json;

class ReportPage {
 public:
  explicit ReportPage(std::string title);

  void section(const std::string& heading);
  void paragraph(const std::string& text);
  // The table's cells as the CSV holds them (no reformatting, so the page shows the file's numbers); at most
  // max_rows rows, with a line saying how many were left out.
  void table(const io::CsvTable& table, const std::string& caption, std::size_t max_rows = 60);
  // A Vega-Lite spec with its data inline ("data": {"values": [...]}); width "container" fits the page.
  void chart(json spec);
  // Markup made by a trusted program (graphviz's SVG), placed as it is.
  void raw_svg(const std::string& svg, const std::string& caption);

  std::size_t chart_count() const { return charts_.size(); }
  std::string html() const;

 private:
  std::string title_;
  std::string body_;
  json charts_ = json::array();
};

// The CSV's rows as JSON objects for a chart's data. Columns listed in `numeric` become numbers (an empty cell or
// "n/a" becomes null); the others stay strings.
json records(const io::CsvTable& table, const std::vector<std::string>& numeric, const std::string& where);

// A number read from a CSV cell, or an Error naming the file, line and column.
double number_in(const io::CsvTable& table, std::size_t row, std::size_t column, const std::string& where);

std::string escape_html(const std::string& text);

}  // namespace tessera::jobs::report
