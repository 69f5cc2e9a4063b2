#include "jobs/run_record.h"

#include <cstdint>
#include <sstream>

#include "io/atomic_file.h"
#include "io/csv.h"
#include "jobs/report/report.h"

namespace tessera::jobs {

namespace fs = std::filesystem;

namespace {

// An option's value as the command line would spell it; "" for a type no option here has.
std::string value_text(const boost::any& value) {
  if (const auto* text = boost::any_cast<std::string>(&value)) return *text;
  if (const auto* flag = boost::any_cast<bool>(&value)) return *flag ? "true" : "false";
  if (const auto* number = boost::any_cast<double>(&value)) return io::shortest_text(*number);
  if (const auto* number = boost::any_cast<float>(&value)) return io::shortest_text(*number);
  if (const auto* number = boost::any_cast<int>(&value)) return std::to_string(*number);
  if (const auto* number = boost::any_cast<long>(&value)) return std::to_string(*number);
  if (const auto* number = boost::any_cast<long long>(&value)) return std::to_string(*number);
  if (const auto* number = boost::any_cast<unsigned>(&value)) return std::to_string(*number);
  if (const auto* number = boost::any_cast<unsigned long>(&value)) return std::to_string(*number);
  if (const auto* number = boost::any_cast<unsigned long long>(&value)) return std::to_string(*number);
  if (const auto* list = boost::any_cast<std::vector<std::string>>(&value)) {
    std::string joined;
    for (const auto& item : *list) joined += (joined.empty() ? "" : ",") + item;
    return joined;
  }
  return {};
}

}  // namespace

void write_options_file(const engine::Context& world, const CommandSpec& spec, const po::variables_map& vm,
                        const fs::path& path) {
  if (!world.is_root()) return;
  // Defaults as comments: some commands refuse an option that was given at all where it does not apply, even
  // at its default value, so only what the user gave may stand as a key.
  std::ostringstream given, defaults;
  for (const auto& [name, entry] : vm) {
    if (name == "config" || name == "help" || name == "log-level" || name == "report" || entry.empty()) continue;
    (entry.defaulted() ? defaults << "# " : given) << name << " = " << value_text(entry.value()) << "\n";
  }
  io::write_bytes_atomically(path, "# tessera " + spec.name + ": the options of this run\n[" + spec.name + "]\n" +
                                       given.str() + "# at their defaults:\n" + defaults.str());
}

void add_report_option(po::options_description& options) {
  options.add_options()("report", po::value<std::string>()->implicit_value(""),
                        "also write the run's HTML report (tessera report): to this file, or without a value to "
                        "report.html in the output folder (X.html beside a table X.csv)");
}

void write_report_if_asked(const engine::Context& world, const po::variables_map& vm, const fs::path& source) {
  if (!vm.count("report") || !world.is_root()) return;
  report::write_report(source, report::report_path(source, vm["report"].as<std::string>()), world.alone());
}

}  // namespace tessera::jobs
