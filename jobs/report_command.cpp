// `tessera report <output folder or table> [--out page.html]`: one self-contained HTML page of a run, made from
// the files the command wrote (jobs/report/).
#include "jobs/commands.h"
#include "jobs/report/report.h"

namespace tessera::jobs {

int run_report(const engine::Context& world, const std::vector<std::string>& args) {
  po::options_description options("report options");
  options.add_options()("source", po::value<std::string>()->required(),
                        "the --out folder of impute, discover or train, a sweep folder, or the -o CSV of rank or "
                        "design (also positional)")(
      "out,o", po::value<std::string>()->default_value(""),
      "the HTML file (default: <folder>/report.html, or X.html beside X.csv)");
  std::vector<std::string> all = args;
  if (!all.empty() && all[0].rfind("-", 0) != 0) all.insert(all.begin(), "--source");
  const auto vm = parse_options(world, spec_of("report"), options, all);
  if (!vm) return 0;
  const std::filesystem::path source = (*vm)["source"].as<std::string>();
  if (world.is_root())
    report::write_report(source, report::report_path(source, (*vm)["out"].as<std::string>()), world.alone());
  world.barrier();
  return 0;
}

}  // namespace tessera::jobs
