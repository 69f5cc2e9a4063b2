#include "jobs/command_line.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "engine/error.h"
#include "engine/log.h"

namespace tessera::jobs {

namespace {

// The OptionCheck alive on this thread, if any (see command_line.h).
thread_local OptionCheck* active_check = nullptr;

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "; did you mean --x?" for an unknown option name, or "" when nothing is close.
std::string suggestion_for(const po::options_description& options, const std::string& name) {
  const std::string closest = closest_option(options, name);
  return closest.empty() ? "" : "; did you mean --" + closest + "?";
}

// Keeps the top-level keys and those of this command's section; checks section names. Returns INI text for
// Boost's parser, with each line's number remembered in a comment-free form.
std::string config_for_command(const std::string& path, const std::string& command) {
  // An ifstream opens a folder without complaint and then reads nothing: it would pass as an empty config and
  // silently drop every option the user meant to give.
  TESSERA_CHECK(!std::filesystem::is_directory(path), "config file '", path,
                "' is a folder; give --config the INI file itself");
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
  // getline stops at end of file and on a read error alike; only the first is a whole config.
  TESSERA_CHECK(!in.bad(), "config file '", path, "' cannot be read (line ", number + 1,
                "): check that it is a readable text file");
  return kept.str();
}

// Boost formats an option error by replacing tokens such as "%value%" until none is left, so a value that holds
// such a token itself ("--seed 'x%value%'") makes what() loop forever. Every '%' in what the user typed is shown
// as the look-alike U+FF05 instead, which no token contains. The substitutions are protected members: a derived
// class may name them, and its member pointer reads them from the caught object.
std::string message_of(po::error& error) {
  struct Substitutions : po::error_with_option_name {
    static std::map<std::string, std::string>& of(po::error_with_option_name& e) {
      return e.*(&Substitutions::m_substitutions);
    }
  };
  if (auto* named = dynamic_cast<po::error_with_option_name*>(&error)) {
    std::vector<std::pair<std::string, std::string>> escaped;
    for (const auto& [token, text] : Substitutions::of(*named)) {
      if (text.find('%') == std::string::npos) continue;
      std::string safe;
      for (char c : text) safe += c == '%' ? std::string("\xEF\xBC\x85") : std::string(1, c);
      escaped.emplace_back(token, safe);
    }
    for (const auto& [token, safe] : escaped) named->set_substitute(token, safe);
  }
  return error.what();
}

}  // namespace

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

bool given(const po::variables_map& vm, const std::string& name) { return vm.count(name) > 0 && !vm[name].defaulted(); }

void forbid_together(const po::variables_map& vm, const std::string& a, const std::string& b, const std::string& why) {
  TESSERA_CHECK(!(given(vm, a) && given(vm, b)), "options --", a, " and --", b, " conflict: ", why,
                "; give only one of them");
}

std::string closest_option(const po::options_description& options, std::string name) {
  while (!name.empty() && name.front() == '-') name.erase(name.begin());
  std::string best;
  std::size_t best_distance = std::string::npos, best_edits = std::string::npos;
  for (const auto& option : options.options()) {
    const std::string candidate = option->long_name();
    if (candidate.empty()) continue;
    // A prefix ("fold" for "folds") or a few edits away; further than a third of the name is no suggestion.
    // Among equals the fewest edits win ("fold": folds, not fold-file), whatever the order of the options.
    const bool prefix = candidate.rfind(name, 0) == 0 || name.rfind(candidate, 0) == 0;
    const std::size_t edits = edit_distance(name, candidate);
    const std::size_t distance = prefix ? 1 : edits;
    if (distance < best_distance || (distance == best_distance && edits < best_edits))
      best = candidate, best_distance = distance, best_edits = edits;
  }
  return best_distance <= std::max<std::size_t>(2, name.size() / 3) ? best : "";
}

po::typed_value<std::vector<std::string>>* name_list(const std::string& option, std::vector<std::string> names) {
  return po::value<std::vector<std::string>>()->multitoken()->notifier(
      [option, names](const std::vector<std::string>& values) {
        for (const auto& value : split_list(values)) {
          if (std::find(names.begin(), names.end(), value) != names.end()) continue;
          std::string list;
          for (const auto& name : names) list += (list.empty() ? "" : " | ") + name;
          throw po::error("--" + option + " '" + value + "' is not one of " + list);
        }
      });
}

OptionCheck::OptionCheck() { active_check = this; }
OptionCheck::~OptionCheck() { active_check = nullptr; }

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
                                               po::options_description options, const std::vector<std::string>& args) {
  options.add_options()("config", po::value<std::string>(),
                        "INI file with options (keys as on the command line, without --)")(
      "log-level", po::value<std::string>()->default_value("info"), "debug | info | warn | error | quiet")(
      "help,h", "print this help");
  if (active_check != nullptr) active_check->options_.emplace(options);
  po::variables_map vm;
  const std::string where = "tessera " + spec.name;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::istringstream config(config_for_command(path, spec.name));
      try {
        po::store(po::parse_config_file(config, options, /*allow_unregistered=*/false), vm);
      } catch (po::unknown_option& e) {
        TESSERA_FAIL("config file '", path, "': ", message_of(e), suggestion_for(options, e.get_option_name()),
                     "; see 'tessera ", spec.name, " --help' for the valid keys");
      } catch (po::error& e) {
        TESSERA_FAIL("config file '", path, "': ", message_of(e), "; see 'tessera ", spec.name,
                     " --help' for the valid keys");
      }
    }
    if (vm.count("help")) {
      if (ctx.is_root()) std::cout << "Usage: " << where << " [options]\n\n" << spec.usage << "\n\n" << options;
      return std::nullopt;
    }
    po::notify(vm);
  } catch (po::unknown_option& e) {
    TESSERA_FAIL(where, ": ", message_of(e), suggestion_for(options, e.get_option_name()), "; run '", where,
                 " --help' for the options");
  } catch (po::error& e) {
    TESSERA_FAIL(where, ": ", message_of(e), "; run '", where, " --help' for the options");
  }
  const auto level = engine::parse_log_level(vm["log-level"].as<std::string>());
  if (active_check != nullptr) throw OptionsChecked{};
  engine::set_log_level(level);
  return vm;
}

}  // namespace tessera::jobs
