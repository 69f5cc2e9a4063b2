// The causal discovery page: the learned DAG drawn by graphviz with its arcs coloured by bootstrap stability, the
// intervention targets found, the metrics against a truth, and the restarts.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "engine/error.h"
#include "jobs/dag_file.h"
#include "jobs/report/pages.h"

namespace tessera::jobs::report {

namespace fs = std::filesystem;

namespace {

// From light to dark blue as the arc appears in more bootstrap samples.
std::string stability_colour(double frequency) {
  static const std::array<const char*, 5> blues = {"#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"};
  const auto step = static_cast<std::size_t>(std::min(4.0, std::max(0.0, frequency * 5.0)));
  return blues[step];
}

// graphviz's dot renders the graph to SVG; nothing when dot is not installed.
std::string svg_from_dot(const std::string& dot, std::string& problem) {
  const fs::path source = fs::temp_directory_path() / ("tessera-report-" + std::to_string(::getpid()) + ".dot");
  {
    std::ofstream out(source);
    out << dot;
  }
  const std::string command = "dot -Tsvg '" + source.string() + "' 2>&1";
  std::string svg;
  int status = -1;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    std::array<char, 8192> buffer{};
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) svg.append(buffer.data(), n);
    status = ::pclose(pipe);
  }
  fs::remove(source);
  if (status != 0 || svg.find("<svg") == std::string::npos) {
    problem = status == -1 || status == 127 * 256 || svg.find("not found") != std::string::npos
                  ? "graphviz's dot is not installed (Debian package graphviz, installed by scripts/install_deps.sh)"
                  : "dot failed: " + svg.substr(0, 300);
    return {};
  }
  return svg.substr(svg.find("<svg"));  // without the XML prolog and DOCTYPE, which do not belong inside HTML
}

}  // namespace

ReportPage discover_page(const fs::path& folder) {
  const fs::path edges_file = folder / "dag_edges.csv";
  const io::CsvTable edges = io::read_csv(edges_file);
  const std::size_t from = edges.column("from", edges_file.string()), to = edges.column("to", edges_file.string());

  const fs::path stability_file = folder / "edge_stability.csv";
  std::map<std::pair<std::string, std::string>, double> frequency;
  io::CsvTable stability;
  if (fs::exists(stability_file)) {
    stability = io::read_csv(stability_file);
    const std::string where = stability_file.string();
    const std::size_t s = stability.column("source", where), t = stability.column("target", where),
                      f = stability.column("frequency", where);
    for (std::size_t r = 0; r < stability.rows.size(); ++r)
      frequency[{stability.rows[r][s], stability.rows[r][t]}] = number_in(stability, r, f, where);
  }

  ReportPage page("Causal discovery: " + display_name(folder));
  page.paragraph("The DAG learned in " + fs::absolute(folder).lexically_normal().string() + ": " +
                 std::to_string(edges.rows.size()) + " arcs.");

  page.section("Learned DAG");
  std::string dot =
      "digraph causal {\n  graph [rankdir=TB, fontname=\"Helvetica\"];\n"
      "  node [shape=ellipse, fontname=\"Helvetica\", fontsize=11];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (const auto& node : read_dot_nodes(folder / "dag.dot")) dot += "  " + dot_quoted(node) + ";\n";
  for (const auto& row : edges.rows) {
    dot += "  " + dot_quoted(row[from]) + " -> " + dot_quoted(row[to]);
    const auto found = frequency.find({row[from], row[to]});
    if (found != frequency.end())
      dot += " [color=\"" + stability_colour(found->second) +
             "\", penwidth=" + std::to_string(1.0 + 2.5 * found->second) + ", label=\"" +
             io::shortest_text(found->second) + "\"]";
    dot += ";\n";
  }
  dot += "}\n";
  std::string problem;
  const std::string svg = svg_from_dot(dot, problem);
  if (svg.empty())
    page.paragraph("The DAG is not drawn: " + problem + ". Its arcs are in the table below.");
  else
    page.raw_svg(svg, frequency.empty()
                          ? "Arcs of dag_edges.csv (run with --bootstrap to see each arc's stability)."
                          : "Arcs of dag_edges.csv, coloured and labelled by the fraction of bootstrap samples "
                            "whose DAG has them (edge_stability.csv): darker is more stable.");
  page.table(edges, "dag_edges.csv", 400);

  if (!stability.rows.empty()) {
    page.section("Bootstrap stability");
    page.paragraph("Every arc found in at least one bootstrap sample, by the fraction of samples that found it.");
    json rows = records(stability, {"frequency"}, stability_file.string());
    for (auto& row : rows) row["arc"] = row["source"].get<std::string>() + " → " + row["target"].get<std::string>();
    page.chart({{"data", {{"values", rows}}},
                {"mark", "bar"},
                {"height", 40 + 16 * static_cast<int>(stability.rows.size())},
                {"encoding",
                 {{"y", {{"field", "arc"}, {"type", "nominal"}, {"sort", "-x"}, {"title", nullptr}}},
                  {"x", {{"field", "frequency"}, {"type", "quantitative"}, {"scale", {{"domain", {0, 1}}}}}},
                  {"color",
                   {{"field", "frequency"},
                    {"type", "quantitative"},
                    {"scale", {{"scheme", "blues"}}},
                    {"legend", nullptr}}}}}});
  }

  const fs::path targets_file = folder / "targets.csv";
  if (fs::exists(targets_file)) {
    const io::CsvTable targets = io::read_csv(targets_file);
    page.section("Intervention targets");
    page.paragraph(targets.rows.empty() ? "No setting has a target (or none was learned)."
                                        : "The variables each interventional setting acts on (targets.csv).");
    if (!targets.rows.empty()) {
      std::set<std::string> settings;
      for (const auto& row : targets.rows) settings.insert(row[0]);
      page.chart({{"data", {{"values", records(targets, {}, targets_file.string())}}},
                  {"mark", "rect"},
                  {"height", 24 * static_cast<int>(settings.size())},
                  {"encoding",
                   {{"x", {{"field", "target"}, {"type", "nominal"}}},
                    {"y", {{"field", "setting"}, {"type", "nominal"}}},
                    {"color", {{"value", "#e45756"}}}}}});
      page.table(targets, "targets.csv", 400);
    }
  }

  const fs::path truth_file = folder / "metrics.csv";  // written with --truth
  if (fs::exists(truth_file)) {
    page.section("Against the true DAG");
    page.table(io::read_csv(truth_file), "metrics.csv (--truth)");
  }

  const fs::path restarts_file = folder / "restarts.csv";
  if (fs::exists(restarts_file)) {
    const io::CsvTable restarts = io::read_csv(restarts_file);
    page.section("Restarts");
    page.paragraph("The score (arcs, then the algorithm's tie-breaker) each restart reached; the lowest wins.");
    page.chart(
        {{"data",
          {{"values",
            records(restarts, {"restart", "arcs", "score", "dags_visited", "seconds"}, restarts_file.string())}}},
         {"mark", {{"type", "point"}, {"filled", true}}},
         {"height", 180},
         {"encoding",
          {{"x", {{"field", "restart"}, {"type", "quantitative"}}},
           {"y", {{"field", "score"}, {"type", "quantitative"}, {"scale", {{"zero", false}}}}},
           {"tooltip",
            json::array(
                {{{"field", "restart"}}, {{"field", "arcs"}}, {{"field", "score"}}, {{"field", "dags_visited"}}})}}}});
    page.table(restarts, "restarts.csv", 30);
  }
  add_options_section(page, folder / "options.ini");
  return page;
}

}  // namespace tessera::jobs::report
