#include "jobs/command_line.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/error.h"
#include "engine/log.h"

namespace tessera::jobs {

namespace {

// Keeps the top-level keys and those of this command's section; checks section names. Returns INI text for
// Boost's parser, with each line's number remembered in a comment-free form.
std::string config_for_command(const std::string& path, const std::string& command) {
  std::ifstream in(path);
  TESSERA_CHECK(in, "config file '", path, "' cannot be opened: check the path given to --config");
  std::ostringstream kept;
  std::string line;
  std::string section;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[') {
      TESSERA_CHECK(text.back() == ']', "config file '", path, "' line ", number, ": '", text,
                    "' is not a section header; write [", command, "]");
      section = trim(text.substr(1, text.size() - 2));
      bool known = false;
      for (const auto& name : command_names()) known = known || name == section;
      TESSERA_CHECK(known, "config file '", path, "' line ", number, ": unknown section [", section,
                    "]; sections are named after commands (e.g. [", command, "])");
      continue;
    }
    TESSERA_CHECK(text.find('=') != std::string::npos, "config file '", path, "' line ", number, ": '", text,
                  "' is not 'key = value'");
    if (section.empty() || section == command) kept << text << "\n";
  }
  return kept.str();
}

}  // namespace

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names{"simulate", "impute", "evaluate", "inspect", "sweep", "rank", "discover", "design", "train"};
  return names;
}

bool given(const po::variables_map& vm, const std::string& name) {
  return vm.count(name) > 0 && !vm[name].defaulted();
}

void forbid_together(const po::variables_map& vm, const std::string& a, const std::string& b,
                     const std::string& why) {
  TESSERA_CHECK(!(given(vm, a) && given(vm, b)), "options --", a, " and --", b, " conflict: ", why,
                "; give only one of them");
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> items;
  for (const auto& value : values) {
    std::stringstream stream(value);
    std::string item;
    while (std::getline(stream, item, ',')) {
      item = trim(item);
      if (!item.empty()) items.push_back(item);
    }
  }
  return items;
}

std::optional<po::variables_map> parse_options(const engine::Context& ctx, const CommandSpec& spec,
                                               po::options_description options,
                                               const std::vector<std::string>& args) {
  options.add_options()
      ("config", po::value<std::string>(), "INI file with options (keys as on the command line, without --)")
      ("log-level", po::value<std::string>()->default_value("info"), "debug | info | warn | error | quiet")
      ("help,h", "print this help");
  po::variables_map vm;
  const std::string where = "tessera " + spec.name;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::istringstream config(config_for_command(path, spec.name));
      try {
        po::store(po::parse_config_file(config, options, /*allow_unregistered=*/false), vm);
      } catch (const po::error& e) {
        TESSERA_FAIL("config file '", path, "': ", e.what(), "; see 'tessera ", spec.name,
                     " --help' for the valid keys");
      }
    }
    if (vm.count("help")) {
      if (ctx.is_root()) std::cout << "Usage: " << where << " [options]\n\n" << spec.usage << "\n\n" << options;
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    TESSERA_FAIL(where, ": ", e.what(), "; run '", where, " --help' for the options");
  }
  engine::set_log_level(engine::parse_log_level(vm["log-level"].as<std::string>()));
  return vm;
}

}  // namespace tessera::jobs
