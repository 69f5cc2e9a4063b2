#include "jobs/report/report_page.h"

#include <cerrno>
#include <cstdlib>

#include "engine/error.h"
#include "jobs/report/plotting_library.h"

namespace tessera::jobs::report {

namespace {

// Laptop screen and print: one readable column, tables that scroll sideways rather than overflow, and no plot
// split across printed pages.
constexpr const char* kStyle = R"(
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 0 auto;
       max-width: 1100px; padding: 1.5rem 2rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
     border-bottom: 1px solid #d5d9e0; padding-bottom: .2rem; }
.subtitle { color: #5b6475; margin-top: 0; }
.chart { width: 100%; margin: .8rem 0 1.4rem; break-inside: avoid; }
.figure svg { max-width: 100%; height: auto; }
.table-wrap { overflow-x: auto; margin: .6rem 0 1.2rem; }
table { border-collapse: collapse; font-size: .86rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border-bottom: 1px solid #e3e6eb; padding: .25rem .6rem; text-align: left; white-space: nowrap; }
th { background: #f3f5f8; }
.note { color: #5b6475; font-size: .85rem; }
.error { color: #b00020; }
footer { margin-top: 3rem; color: #5b6475; font-size: .8rem; }
@media print { body { max-width: none; padding: 0; } .table-wrap { overflow: visible; } h2 { break-after: avoid; } }
)";

// Draws every chart of the page as SVG. A chart that fails says so in its place and on the console, which the
// browser tests watch.
constexpr const char* kDrawCharts = R"(
(function () {
  var charts = JSON.parse(document.getElementById('tessera-charts').textContent);
  charts.forEach(function (chart) {
    var box = document.getElementById(chart.id);
    function fail(error) {
      box.className += ' error';
      box.textContent = 'This plot could not be drawn: ' + error;
      console.error('tessera report: ' + chart.id + ': ' + error);
    }
    try {
      var compiled = vegaLite.compile(chart.spec).spec;
      new vega.View(vega.parse(compiled), { renderer: 'svg', container: box, hover: true })
        .runAsync().then(function () { box.setAttribute('data-drawn', 'yes'); }, fail);
    } catch (error) { fail(error); }
  });
})();
)";

// JSON inside <script>: "</" would end the element early; "<\/" is the same string to a JSON reader.
std::string json_for_script(const json& value) {
  std::string text = value.dump();
  std::string safe;
  safe.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    safe += text[i];
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') safe += '\\';
  }
  return safe;
}

// The bundles are trusted, but "</script" inside one would end its element; none has it, and this keeps it so.
std::string script_element(std::string_view code) {
  TESSERA_CHECK(code.find("</script") == std::string_view::npos, "a plotting library contains '</script'");
  return "<script>" + std::string(code) + "</script>\n";
}

}  // namespace

std::string escape_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

ReportPage::ReportPage(std::string title) : title_(std::move(title)) {}

void ReportPage::section(const std::string& heading) { body_ += "<h2>" + escape_html(heading) + "</h2>\n"; }

void ReportPage::paragraph(const std::string& text) { body_ += "<p>" + escape_html(text) + "</p>\n"; }

void ReportPage::table(const io::CsvTable& table, const std::string& caption, std::size_t max_rows) {
  body_ += "<div class=\"table-wrap\"><table>\n<caption>" + escape_html(caption) + "</caption>\n<thead><tr>";
  for (const auto& name : table.header) body_ += "<th>" + escape_html(name) + "</th>";
  body_ += "</tr></thead>\n<tbody>\n";
  const std::size_t shown = std::min(max_rows, table.rows.size());
  for (std::size_t r = 0; r < shown; ++r) {
    body_ += "<tr>";
    for (const auto& cell : table.rows[r]) body_ += "<td>" + escape_html(cell) + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</tbody></table></div>\n";
  if (shown < table.rows.size())
    body_ += "<p class=\"note\">First " + std::to_string(shown) + " of " + std::to_string(table.rows.size()) +
             " rows; the file has them all.</p>\n";
}

void ReportPage::chart(json spec) {
  const std::string id = "chart-" + std::to_string(charts_.size() + 1);
  spec["$schema"] = "https://vega.github.io/schema/vega-lite/v6.json";
  // One view fills the page's width; a faceted or concatenated chart sizes its own panels.
  const bool single_view = !spec.contains("facet") && !spec.contains("hconcat") && !spec.contains("vconcat");
  if (single_view && !spec.contains("width")) {
    spec["width"] = "container";
    spec["autosize"] = {{"type", "fit-x"}, {"contains", "padding"}};
  }
  body_ += "<div class=\"chart\" id=\"" + id + "\"></div>\n";
  charts_.push_back({{"id", id}, {"spec", std::move(spec)}});
}

void ReportPage::raw_svg(const std::string& svg, const std::string& caption) {
  body_ += "<figure class=\"figure\">" + svg + "<figcaption class=\"note\">" + escape_html(caption) +
           "</figcaption></figure>\n";
}

std::string ReportPage::html() const {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      escape_html(title_) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + escape_html(title_) +
      "</h1>\n" + body_;
  page += "<footer>Made by tessera report; plots drawn by " + std::string(plotting_versions()) +
          ", carried inside this file.</footer>\n";
  page += "<script type=\"application/json\" id=\"tessera-charts\">" + json_for_script(charts_) + "</script>\n";
  page += script_element(vega_script());
  page += script_element(vega_lite_script());
  page += "<script>" + std::string(kDrawCharts) + "</script>\n</body>\n</html>\n";
  return page;
}

double number_in(const io::CsvTable& table, std::size_t row, std::size_t column, const std::string& where) {
  const std::string& cell = table.rows[row][column];
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(cell.c_str(), &end);
  TESSERA_CHECK(!cell.empty() && end == cell.c_str() + cell.size() && errno == 0, where, " line ",
                table.line_numbers[row], ", column '", table.header[column], "': '", cell,
                "' is not a number; was the file written by tessera?");
  return value;
}

json records(const io::CsvTable& table, const std::vector<std::string>& numeric, const std::string& where) {
  std::vector<bool> is_numeric(table.header.size(), false);
  for (const auto& name : numeric) is_numeric[table.column(name, where)] = true;
  json rows = json::array();
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    json row = json::object();
    for (std::size_t c = 0; c < table.header.size(); ++c) {
      const std::string& cell = table.rows[r][c];
      if (!is_numeric[c])
        row[table.header[c]] = cell;
      else if (cell.empty() || cell == "n/a")
        row[table.header[c]] = nullptr;
      else
        row[table.header[c]] = number_in(table, r, c, where);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace tessera::jobs::report
