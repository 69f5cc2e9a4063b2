// `tessera report`: one self-contained HTML page from what a command wrote. The kind of page follows from the
// files: an impute, discover or train --out folder, a sweep folder, or the CSV table of rank or design.
#pragma once

#include <filesystem>
#include <string>

#include "engine/context.h"
#include "engine/parameters.h"

namespace tessera::jobs::report {

enum class ReportKind { kImpute, kDiscover, kTrain, kSweep, kRank, kDesign };

// What `source` holds, or an Error naming the files a report is made from.
ReportKind report_kind(const std::filesystem::path& source);
const engine::NameTable<ReportKind>& name_table(ReportKind);  // impute | discover | ...
// The page's file: `asked` when given, else <folder>/report.html for a folder and X.html beside a table X.csv.
std::filesystem::path report_path(const std::filesystem::path& source, const std::string& asked);
// A file a command writes beside its CSV table: X.csv -> X.<name> ("score_histogram.csv", "options.ini").
std::filesystem::path side_file(const std::filesystem::path& table, const std::string& name);
// Builds the page, writes it atomically (never half a page) and says so on stdout. Called by one rank.
void write_report(const std::filesystem::path& source, const std::filesystem::path& out, const engine::Context& alone);

}  // namespace tessera::jobs::report
