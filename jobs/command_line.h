// Option parsing shared by every `tessera <command>`: Boost.Program_options for the command line and for INI
// config files (--config), with errors that name the option or the file and key, and the fix.
//
// Config files: `key = value` lines, '#' or ';' comments. Keys may stand at the top or in a section named after
// the command ([impute], [simulate], ...); sections of other commands are skipped, so one file can configure
// a whole pipeline. An unknown key or section is an error. Values given on the command line win over the file.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"

namespace tessera::jobs {

namespace po = boost::program_options;

struct CommandSpec {
  std::string name;     // "impute"
  std::string summary;  // one line for `tessera --help`
  std::string usage;    // the paragraph printed above the options by `tessera <name> --help`
};

// Parses `args` (everything after the command name) plus the --config file. Adds --help, --config and
// --log-level, applies the log level, and returns nothing when --help was printed (rank 0 prints).
// Throws tessera::Error for an unknown option, a bad value, a missing config file or an unknown key.
std::optional<po::variables_map> parse_options(const engine::Context& ctx, const CommandSpec& spec,
                                               po::options_description options, const std::vector<std::string>& args);

// Checking a command line without running the command: `tessera sweep plan` checks its points this way, so a
// typo fails at plan time and not in every array task. While an OptionCheck lives on this thread, parse_options
// records the command's options in it, parses, converts and validates as usual (an Error for a bad option or
// value) and then throws OptionsChecked instead of returning: the command stops before it reads or writes
// anything. OptionsChecked is no tessera::Error; only the checker catches it.
struct OptionsChecked {};
class OptionCheck {
 public:
  OptionCheck();
  ~OptionCheck();
  OptionCheck(const OptionCheck&) = delete;
  OptionCheck& operator=(const OptionCheck&) = delete;
  // The options parse_options was given (with --config, --log-level and --help); null when it was not reached.
  const po::options_description* options() const { return options_ ? &*options_ : nullptr; }

 private:
  friend std::optional<po::variables_map> parse_options(const engine::Context&, const CommandSpec&,
                                                        po::options_description, const std::vector<std::string>&);
  std::optional<po::options_description> options_;
};

// The option of `options` whose long name is closest to `name` (leading dashes ignored): a prefix or a few edits
// away; "" when none is close. parse_options adds it to the message of an unknown option.
std::string closest_option(const po::options_description& options, std::string name);

// "a,b, c" -> {"a", "b", "c"}; also accepts the option repeated.
std::vector<std::string> split_list(const std::vector<std::string>& values);

// A string option whose value must be a name of the enum's table (engine::NameTable, found by
// name_table(Enum)), checked while parsing (so also by OptionCheck, i.e. at `tessera sweep plan`): "--center
// 'x' is not one of auto | none | required". Its default is the name of `initial`; `target`, when given,
// receives the value. Enum knobs (add_knob_option) are made this way.
template <typename Enum>
po::typed_value<std::string>* enum_value(const std::string& option, Enum initial, Enum* target = nullptr) {
  const auto& names = name_table(Enum{});
  return po::value<std::string>()
      ->default_value(names.name(initial))
      ->notifier([option, target, &names](const std::string& text) {
        const auto value = names.find(text);
        if (!value) throw po::error("--" + option + " '" + text + "' is not one of " + names.choices());
        if (target != nullptr) *target = *value;
      });
}

// A list option (a comma list or the option repeated; read it with split_list) each of whose names must be one
// of `names`, checked while parsing like enum_value: "--method 'x' is not one of all | cell_mean | ...".
po::typed_value<std::vector<std::string>>* name_list(const std::string& option, std::vector<std::string> names);

// name_list of the names of the enum's table: --acquisition greedy,ucb.
template <typename Enum>
po::typed_value<std::vector<std::string>>* enum_list(const std::string& option) {
  return name_list(option, name_table(Enum{}).names());
}

// The values of an enum_list option, in the order given; every name was checked while parsing.
template <typename Enum>
std::vector<Enum> enum_values(const po::variables_map& vm, const std::string& option) {
  std::vector<Enum> values;
  if (vm.count(option))
    for (const auto& name : split_list(vm[option].as<std::vector<std::string>>()))
      values.push_back(name_table(Enum{}).parse(name, "--" + option));
  return values;
}

// True when the user gave `name` (on the command line or in the config file), not just its default.
bool given(const po::variables_map& vm, const std::string& name);

// Error when both options were given: they ask for different things.
void forbid_together(const po::variables_map& vm, const std::string& a, const std::string& b, const std::string& why);

// The text without leading and trailing spaces, tabs and carriage returns.
std::string trim(const std::string& text);

// The option of one declared knob (engine/parameters.h): --name-with-dashes writes straight into the member,
// whose value is the default; its help ends with what the knob allows. Values are checked while parsing (so also
// by OptionCheck, i.e. at `tessera sweep plan`): "--dnpp-k 0 is invalid: the allowed values of dnpp_k are at
// least 1"; an enum knob takes the names of its table: "--algorithm 'pc' is not one of gsp | igsp | utigsp".
template <typename T>
void add_knob_option(po::options_description& options, const engine::Knob<T>& knob) {
  using Value = typename engine::Knob<T>::Value;
  const std::string name = knob.option();
  const std::string spelling = knob.letter() ? name + "," + knob.letter() : name;
  const std::string allowed = knob.allowed();
  const std::string help = allowed.empty() ? knob.help() : std::string(knob.help()) + " (" + allowed + ")";
  Value* target = &knob.value();
  if constexpr (std::is_enum_v<Value>) {
    options.add_options()(spelling.c_str(), enum_value(name, *target, target), help.c_str());
  } else if constexpr (std::is_same_v<Value, bool>) {
    if (knob.is_flag())
      options.add_options()(spelling.c_str(), po::bool_switch(target)->default_value(*target), help.c_str());
    else
      options.add_options()(spelling.c_str(),
                            po::value<bool>(target)->default_value(*target, engine::value_text(*target)), help.c_str());
  } else {
    options.add_options()(spelling.c_str(),
                          po::value<Value>(target)
                              ->default_value(*target, engine::value_text(*target))
                              ->notifier([knob](const Value& value) {
                                if (!knob.allows(value)) throw po::error(knob.refusal(value));
                              }),
                          help.c_str());
  }
}

// One option per knob that Params::declare_knobs declares (engine/parameters.h), in declaration order.
template <typename Params>
void add_knob_options(po::options_description& options, Params& params) {
  engine::declare_each(params, [&](const auto& knob) { add_knob_option(options, knob); });
}

// The names of every command, for the config-file section check: derived from the command table
// (jobs/commands.cpp), so a new command's [section] is accepted without a second list to keep in step.
const std::vector<std::string>& command_names();

}  // namespace tessera::jobs
