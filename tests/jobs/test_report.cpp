// `tessera report` and --report, end to end: each page carries the numbers of the CSV and GCTX files it was made
// from (chart data and tables read back from the HTML and compared with the files), draws the DAG with every arc,
// is rebuilt byte for byte from the folder, needs nothing outside itself, and refuses what it cannot read with a
// message that names the file. Rendering in a browser: test_report_browser.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/context.h"
#include "io/csv.h"
#include "io/gctx.h"
#include "jobs/dag_file.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using nlohmann::json;
using tessera::testing::file_text;
using tessera::testing::mpirun;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

fs::path scratch(const std::string& name) { return tessera::testing::scratch_dir("tessera_report", name); }

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// The page's charts: the JSON block that ReportPage writes (id "tessera-charts").
json charts_of(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"tessera-charts\">";
  const auto begin = html.find(open);
  EXPECT_NE(begin, std::string::npos) << "no chart block in the page";
  const auto end = html.find("</script>", begin);
  return json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

// The data rows of the first chart whose rows have `field`, or null.
json chart_rows_with(const json& charts, const std::string& field) {
  for (const auto& chart : charts) {
    const auto& spec = chart["spec"];
    if (spec.contains("data") && !spec["data"]["values"].empty() && spec["data"]["values"][0].contains(field))
      return spec["data"]["values"];
  }
  return nullptr;
}

// A CSV row as the page's table shows it.
std::string table_row(const std::vector<std::string>& cells) {
  std::string row = "<tr>";
  for (const auto& cell : cells) row += "<td>" + cell + "</td>";
  return row + "</tr>";
}

double number(const std::string& text) { return std::stod(text); }

// Nothing in the page is fetched: no external script, style sheet, image or frame (the Vega-Lite "$schema" URL
// inside the chart JSON is a name, never loaded).
void expect_self_contained(const std::string& html) {
  for (const char* fetch : {"<script src", "<link", "<img", "<iframe", "@import", "url(http"})
    EXPECT_EQ(html.find(fetch), std::string::npos) << "the page loads something: " << fetch;
  EXPECT_NE(html.find("vegaLite"), std::string::npos) << "Vega-Lite is not inside the page";
}

}  // namespace

TEST(Report, ImputePageShowsTheMetricsHeldOutValuesAndOptionsOfTheRun) {
  const auto dir = scratch("impute");
  auto result = run_command(kTessera + " simulate --out " + (dir / "screen.gctx").string() +
                            " --num-cells 5 --num-drugs 40 --seed 3");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const fs::path out = dir / "run";
  result = run_command(mpirun(2) + " " + kTessera + " impute --input " + (dir / "screen.gctx").string() +
                       " --method cell_mean,two_way_mean --folds 3 --out " + out.string() + " --report");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string html = file_text(out / "report.html");
  expect_self_contained(html);
  const json charts = charts_of(html);

  // The method chart holds metrics.csv's pooled r and fold spread of each method, exactly.
  const auto metrics = tessera::io::read_csv(out / "metrics.csv");
  const json methods = chart_rows_with(charts, "pearson_r_fold_sd");
  ASSERT_TRUE(methods.is_array());
  int pooled = 0;
  for (const auto& row : metrics.rows) {
    EXPECT_NE(html.find(table_row(row)), std::string::npos) << "metrics.csv row missing from the tables";
    if (row[1] != "all") continue;
    ++pooled;
    bool found = false;
    for (const auto& point : methods)
      if (point["method"] == row[0]) {
        found = true;
        EXPECT_EQ(point["pearson_r"].get<double>(), number(row[2]));
        EXPECT_EQ(point["pearson_r_fold_sd"].get<double>(), number(row[3]));
      }
    EXPECT_TRUE(found) << row[0];
  }
  EXPECT_EQ(pooled, 2);
  EXPECT_EQ(methods.size(), 2u);

  // Predicted against measured: the values of heldout_<best>.gctx and of the same signature's measured column.
  const std::string best = methods[0]["method"];  // sorted best first
  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto heldout = tessera::io::read_gctx(out / ("heldout_" + best + ".gctx"), self);
  const json scatter = chart_rows_with(charts, "predicted");
  ASSERT_TRUE(scatter.is_array());
  ASSERT_EQ(scatter.size(), 3u * static_cast<std::size_t>(heldout.num_genes()));
  const std::string first =
      heldout.cols.require("cell_id", "").as_string(0) + " : " + heldout.cols.require("pert_id", "").as_string(0);
  for (Eigen::Index g = 0; g < heldout.num_genes(); ++g) {
    EXPECT_EQ(scatter[std::size_t(g)]["signature"], first);
    EXPECT_EQ(scatter[std::size_t(g)]["predicted"].get<double>(), double(heldout.values(g, 0)));
  }

  // options.ini: what the user gave as keys, the rest as comments; the page lists both; --config reruns it.
  const std::string options = file_text(out / "options.ini");
  EXPECT_NE(options.find("\nmethod = cell_mean,two_way_mean\n"), std::string::npos) << options;
  EXPECT_NE(options.find("\n# dnpp-k = 10\n"), std::string::npos) << options;
  EXPECT_NE(html.find(table_row({"folds", "3", "user"})), std::string::npos);
  EXPECT_NE(html.find(table_row({"dnpp-k", "10", "default"})), std::string::npos);
  result = run_command(mpirun(2) + " " + kTessera + " impute --config " + (out / "options.ini").string() + " --out " +
                       (dir / "again").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto again = tessera::io::read_csv(dir / "again" / "metrics.csv");
  for (std::size_t r = 0; r < metrics.rows.size(); ++r)  // every column but the seconds
    EXPECT_EQ(std::vector<std::string>(again.rows[r].begin(), again.rows[r].end() - 1),
              std::vector<std::string>(metrics.rows[r].begin(), metrics.rows[r].end() - 1));

  // `tessera report` on the folder later makes the same page, byte for byte.
  result = run_command(kTessera + " report " + out.string() + " --out " + (dir / "later.html").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(file_text(dir / "later.html"), html);
}

TEST(Report, DiscoverPageDrawsEveryArcColouredByItsStability) {
  const auto dir = scratch("discover");
  auto result = run_command(kTessera + " simulate-dag --nodes 8 --observational-samples 500 --settings 2 " +
                            "--samples-per-setting 300 --seed 5 --out " + (dir / "sim").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const fs::path out = dir / "dag";
  result = run_command(kTessera + " discover -i " + (dir / "sim" / "data.csv").string() + " --algorithm gsp " +
                       "--bootstrap 5 --truth " + (dir / "sim" / "truth_edges.csv").string() + " -o " + out.string() +
                       " --report");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string html = file_text(out / "report.html");
  expect_self_contained(html);

  // graphviz drew every arc (its SVG titles each edge "from->to") with the arc's bootstrap frequency as label.
  const auto edges = tessera::io::read_csv(out / "dag_edges.csv");
  const auto stability = tessera::io::read_csv(out / "edge_stability.csv");
  ASSERT_FALSE(edges.rows.empty());
  ASSERT_NE(html.find("<svg"), std::string::npos) << "the DAG is not drawn (is graphviz installed?)";
  for (const auto& arc : edges.rows) {
    EXPECT_NE(html.find("<title>" + arc[0] + "&#45;&gt;" + arc[1] + "</title>"), std::string::npos)
        << arc[0] << " -> " << arc[1] << " is not drawn";
    for (const auto& row : stability.rows) {
      if (row[0] == arc[0] && row[1] == arc[1]) {
        EXPECT_NE(html.find(">" + row[2] + "</text>"), std::string::npos) << "no stability label " << row[2];
      }
    }
  }
  // The stability chart holds edge_stability.csv's frequencies.
  const json bars = chart_rows_with(charts_of(html), "frequency");
  ASSERT_TRUE(bars.is_array());
  ASSERT_EQ(bars.size(), stability.rows.size());
  for (std::size_t r = 0; r < stability.rows.size(); ++r) {
    EXPECT_EQ(bars[r]["source"], stability.rows[r][0]);
    EXPECT_EQ(bars[r]["frequency"].get<double>(), number(stability.rows[r][2]));
  }
  // The metrics against the truth, as the file has them.
  for (const auto& row : tessera::io::read_csv(out / "metrics.csv").rows)
    EXPECT_NE(html.find(table_row(row)), std::string::npos);
}

TEST(Report, DotNodeNamesReadBackAsWritten) {
  // Names with a quote or a backslash are escaped in dag.dot; the page redraws the graph from the names read back.
  const auto dir = scratch("dot");
  const std::vector<std::string> names = {"plain", "a\"b", "c\\d", "e -> f"};
  std::string dot = "digraph causal {\n";
  for (const auto& name : names) dot += "  " + tessera::jobs::dot_quoted(name) + ";\n";
  dot += "  " + tessera::jobs::dot_quoted(names[1]) + " -> " + tessera::jobs::dot_quoted(names[2]) + ";\n}\n";
  write_text(dir / "dag.dot", dot);
  EXPECT_EQ(tessera::jobs::dot_quoted("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(tessera::jobs::read_dot_nodes(dir / "dag.dot"), names);
  EXPECT_TRUE(tessera::jobs::read_dot_nodes(dir / "missing.dot").empty());
}

TEST(Report, RankDesignTrainAndSweepPagesCarryTheirFilesNumbers) {
  const auto dir = scratch("tables");
  // rank: the table and its two side files, as tessera rank writes them.
  write_text(dir / "hits.csv",
             "rank,candidate,cell_id,pert_id,source,score,low,high,cosine,pearson,wtcs,es_up,es_down\n"
             "1,A:d1,A,d1,observed,0.5,n/a,n/a,0.2,0.21,-0.5,-0.4,0.6\n"
             "2,A:d2,A,d2,imputed:two_way_mean,0.25,0.125,0.375,0.1,0.11,-0.25,-0.2,0.3\n");
  write_text(dir / "hits.score_histogram.csv", "bin_low,bin_high,count\n-1,0,7\n0,1,3\n");
  write_text(dir / "hits.query_genes.csv", "gene,library_row,value,set\nG1,g1,2.5,up\nG2,g2,-1.5,down\n");
  auto result = run_command(kTessera + " report " + (dir / "hits.csv").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  json charts = charts_of(file_text(dir / "hits.html"));
  const json hits = chart_rows_with(charts, "candidate");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[1]["low"].get<double>(), 0.125);
  EXPECT_EQ(hits[1]["high"].get<double>(), 0.375);
  EXPECT_TRUE(hits[0]["low"].is_null()) << "n/a is no number";
  const json bins = chart_rows_with(charts, "count");
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0]["count"].get<double>(), 7);
  EXPECT_EQ(chart_rows_with(charts, "set")[1]["value"].get<double>(), -1.5);

  // design: one point per (round, acquisition).
  write_text(dir / "design.csv", "round,greedy,random\n0,1.5,1.5\n1,0.75,1.25\n");
  result = run_command(kTessera + " report " + (dir / "design.csv").string() + " -o " + (dir / "d.html").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const json curve = chart_rows_with(charts_of(file_text(dir / "d.html")), "distance");
  ASSERT_EQ(curve.size(), 4u);
  EXPECT_EQ(curve[2], json({{"round", 1}, {"acquisition", "greedy"}, {"distance", 0.75}}));

  // train: the loss per epoch and the alignment points.
  write_text(dir / "ae" / "loss.csv", "epoch,loss\n1,0.5\n2,0.25\n");
  write_text(dir / "ae" / "alignment.csv", "pert_id,input_cosine,latent_cosine\nd1,0.1,0.6\n");
  result = run_command(kTessera + " report " + (dir / "ae").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  charts = charts_of(file_text(dir / "ae" / "report.html"));
  EXPECT_EQ(chart_rows_with(charts, "loss")[1]["loss"].get<double>(), 0.25);
  EXPECT_EQ(chart_rows_with(charts, "latent_cosine")[0]["latent_cosine"].get<double>(), 0.6);

  // sweep: the state of every point from status/<i>, and the collected metric of the pooled rows.
  const fs::path sweep = dir / "sweep";
  write_text(sweep / "sweep.ini", "[sweep]\ncommand = impute\n");
  write_text(sweep / "points.csv", "index,folds\n0,3\n1,5\n2,10\n");
  write_text(sweep / "status" / "0", "done 1.5\n");
  write_text(sweep / "status" / "1", "failed out of memory\n");
  write_text(sweep / "results.csv",
             "point,folds,method,scope,pearson_r\n0,3,cell_mean,all,0.25\n0,3,cell_mean,C1,0.5\n");
  result = run_command(kTessera + " report " + sweep.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string html = file_text(sweep / "report.html");
  EXPECT_NE(html.find(table_row({"1", "5", "failed", "out of memory"})), std::string::npos);
  EXPECT_NE(html.find(table_row({"2", "10", "missing", ""})), std::string::npos);
  charts = charts_of(html);
  const json states = chart_rows_with(charts, "state");
  for (const auto& state : states) EXPECT_EQ(state["points"].get<int>(), 1) << state;
  const json collected = chart_rows_with(charts, "pearson_r");
  ASSERT_EQ(collected.size(), 1u) << "only the pooled row (scope all) is plotted";
  EXPECT_EQ(collected[0]["pearson_r"].get<double>(), 0.25);
}

TEST(Report, RefusesWhatItCannotReadAndWritesNothing) {
  const auto dir = scratch("bad");
  fs::create_directories(dir / "empty");
  auto result = run_command(kTessera + " report " + (dir / "empty").string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("expected metrics.csv (impute), dag_edges.csv (discover)"), std::string::npos)
      << result.output;

  result = run_command(kTessera + " report " + (dir / "nowhere").string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("does not exist"), std::string::npos) << result.output;

  write_text(dir / "other.csv", "a,b\n1,2\n");
  result = run_command(kTessera + " report " + (dir / "other.csv").string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("not a table that a report is made from"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(dir / "other.html"));

  // A damaged metrics.csv: the message names the file, the line and the column; no page is left behind.
  write_text(dir / "run" / "metrics.csv",
             "method,scope,pearson_r,pearson_r_fold_sd,mean_r2,mean_cosine,mse,mean_pearson_de20,signatures,values,"
             "seconds\ncell_mean,all,abc,0.01,0.1,0.2,0.3,0.4,10,100,0.5\n");
  result = run_command(kTessera + " report " + (dir / "run").string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("metrics.csv line 2, column 'pearson_r': 'abc' is not a number"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(dir / "run" / "report.html"));
}
