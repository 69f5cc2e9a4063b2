#include "jobs/report/report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "jobs/report/pages.h"
#include "jobs/report/plotting_library.h"

namespace tessera::jobs::report {

namespace fs = std::filesystem;

namespace {

bool csv_starts_with(const fs::path& file, const std::string& first_columns) {
  std::ifstream in(file);
  std::string header;
  std::getline(in, header);
  return header.rfind(first_columns, 0) == 0;
}

}  // namespace

ReportKind report_kind(const fs::path& source) {
  TESSERA_CHECK(fs::exists(source), "'", source.string(), "' does not exist; give tessera report the --out folder ",
                "of impute, discover, train or a sweep folder, or the CSV table of rank or design");
  if (fs::is_directory(source)) {
    if (fs::exists(source / "metrics.csv") && csv_starts_with(source / "metrics.csv", "method,scope"))
      return ReportKind::kImpute;
    if (fs::exists(source / "dag_edges.csv")) return ReportKind::kDiscover;
    if (fs::exists(source / "loss.csv")) return ReportKind::kTrain;
    if (fs::exists(source / "points.csv") && fs::exists(source / "sweep.ini")) return ReportKind::kSweep;
    throw Error("'" + source.string() +
                "' is no output folder that a report is made from: expected metrics.csv (impute), dag_edges.csv "
                "(discover), loss.csv (train) or points.csv and sweep.ini (a sweep)");
  }
  if (csv_starts_with(source, "rank,candidate,")) return ReportKind::kRank;
  if (csv_starts_with(source, "round,")) return ReportKind::kDesign;
  throw Error("'" + source.string() +
              "' is not a table that a report is made from: expected the -o CSV of tessera rank (rank,candidate,...) "
              "or of tessera design (round,...), or an output folder");
}

const engine::NameTable<ReportKind>& name_table(ReportKind) {
  static const engine::NameTable<ReportKind> table{{ReportKind::kImpute, "impute"}, {ReportKind::kDiscover, "discover"},
                                                   {ReportKind::kTrain, "train"},   {ReportKind::kSweep, "sweep"},
                                                   {ReportKind::kRank, "rank"},     {ReportKind::kDesign, "design"}};
  return table;
}

fs::path report_path(const fs::path& source, const std::string& asked) {
  if (!asked.empty()) return asked;
  if (fs::is_directory(source)) return source / "report.html";
  return fs::path(source).replace_extension(".html");
}

fs::path side_file(const fs::path& table, const std::string& name) {
  fs::path path = table;
  return table.extension() == ".csv" ? path.replace_extension("." + name) : fs::path(table.string() + "." + name);
}

std::string display_name(const fs::path& folder) {
  const fs::path path = fs::absolute(folder).lexically_normal();
  return (path.has_filename() ? path.filename() : path.parent_path().filename()).string();
}

void add_options_section(ReportPage& page, const fs::path& options_file) {
  page.section("Options");
  if (!fs::exists(options_file)) {
    page.paragraph("No " + options_file.filename().string() +
                   " beside the outputs (written by tessera since the report command came in).");
    return;
  }
  // write_options_file's layout: "key = value" for a given option, "# key = value" for one at its default.
  std::ifstream in(options_file);
  io::CsvTable options{{"option", "value", "set by"}, {}, {}};
  for (std::string line; std::getline(in, line);) {
    const bool defaulted = line.rfind("# ", 0) == 0;
    const std::string entry = defaulted ? line.substr(2) : line;
    const auto equals = entry.find(" = ");
    if (entry.empty() || entry[0] == '#' || entry[0] == '[' || equals == std::string::npos) continue;
    options.rows.push_back({entry.substr(0, equals), entry.substr(equals + 3), defaulted ? "default" : "user"});
  }
  std::stable_partition(options.rows.begin(), options.rows.end(), [](const auto& row) { return row[2] == "user"; });
  page.paragraph("Every option of the run, those given first (" + options_file.filename().string() +
                 "; tessera <command> --config " + options_file.filename().string() + " runs it again).");
  page.table(options, options_file.filename().string(), options.rows.size());
}

void write_report(const fs::path& source, const fs::path& out, const engine::Context& alone) {
  TESSERA_CHECK(have_plotting_libraries(),
                "this tessera was built without the plotting libraries (Vega, Vega-Lite) that reports carry: run "
                "scripts/install_deps.sh (npm ci in jobs/report/web), then build again");
  const ReportKind kind = report_kind(source);
  const ReportPage page = [&] {
    switch (kind) {
      case ReportKind::kImpute:
        return impute_page(source, alone);
      case ReportKind::kDiscover:
        return discover_page(source);
      case ReportKind::kTrain:
        return train_page(source);
      case ReportKind::kSweep:
        return sweep_page(source);
      case ReportKind::kRank:
        return rank_page(source);
      case ReportKind::kDesign:
        break;
    }
    return design_page(source);
  }();
  io::write_bytes_atomically(out, page.html());
  std::printf("Wrote %s (%s report of %s)\n", out.c_str(), name_table(kind).name(kind), source.c_str());
}

}  // namespace tessera::jobs::report
