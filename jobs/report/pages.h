// One page builder per command whose output a report shows. Each reads only files the command writes, so a page
// can be made again later, from a copy of the folder or from a sweep point. Missing optional files leave their
// section out with a line saying what would have filled it.
#pragma once

#include <filesystem>
#include <string>

#include "engine/context.h"
#include "jobs/report/report_page.h"

namespace tessera::jobs::report {

// `tessera impute --out`: metrics.csv, folds.csv, heldout_<method>.gctx, completed_<method>.gctx, options.ini.
ReportPage impute_page(const std::filesystem::path& folder, const engine::Context& alone);
// `tessera discover -o`: dag_edges.csv, dag.dot, edge_stability.csv, targets.csv, metrics.csv (--truth), ...
ReportPage discover_page(const std::filesystem::path& folder);
// `tessera rank -o X.csv`: X.csv, X.score_histogram.csv, X.query_genes.csv.
ReportPage rank_page(const std::filesystem::path& table);
// `tessera design -o X.csv`: the target distance per round (rows) and acquisition (columns).
ReportPage design_page(const std::filesystem::path& table);
// `tessera train --out`: loss.csv, alignment.csv.
ReportPage train_page(const std::filesystem::path& folder);
// `tessera sweep plan` folder: points.csv, status/<i>, results.csv after `collect`.
ReportPage sweep_page(const std::filesystem::path& folder);

// The folder's own name for a title ("run" for "out/run/").
std::string display_name(const std::filesystem::path& folder);

// The options the command ran with (<folder>/options.ini, written by the command), as a table; a note when the
// folder predates that file.
void add_options_section(ReportPage& page, const std::filesystem::path& options_file);

}  // namespace tessera::jobs::report
