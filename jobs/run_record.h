// What a run leaves beside its outputs so that `tessera report` can show it later: options.ini (every option the
// command ran with, defaults included, in the INI form --config reads), and the page itself when --report is given.
#pragma once

#include <boost/program_options.hpp>
#include <filesystem>

#include "engine/context.h"
#include "jobs/command_line.h"

namespace tessera::jobs {

// Rank 0 writes `path` atomically: "[<command>]", then "key = value" for each option given (on the command line
// or in a config file; lists comma-joined), then "# key = value" for each left at its default. Without --config,
// --help, --log-level and --report. `--config path` runs the same command again.
void write_options_file(const engine::Context& world, const CommandSpec& spec, const po::variables_map& vm,
                        const std::filesystem::path& path);

// --report [FILE]: after its outputs, the command writes their report page (default: report.html in the output
// folder, or X.html beside a table X.csv).
void add_report_option(po::options_description& options);
// When --report was given, rank 0 writes the page of `source` (the output folder or table) and says where; the
// other ranks return at once (rank and design end them early).
void write_report_if_asked(const engine::Context& world, const po::variables_map& vm,
                           const std::filesystem::path& source);

}  // namespace tessera::jobs
