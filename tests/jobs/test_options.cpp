// Options declared once (engine/parameters.h, jobs/command_line.h): a knob's declaration gives its command-line
// option, default, help, range check and config-file key; enum knobs take the names of their one table; the INI
// reader accepts a section for every command of the command table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/parameters.h"
#include "io/aggregate.h"
#include "jobs/command_line.h"
#include "jobs/commands.h"
#include "solvers/causal/dag_simulation.h"
#include "solvers/causal/discover.h"
#include "solvers/imputation/protocol.h"
#include "solvers/ntk/solve/nystrom_regression.h"
#include "solvers/registry.h"
#include "solvers/search/acquisition.h"
#include "solvers/search/design.h"
#include "solvers/search/query.h"
#include "solvers/search/rank.h"
#include "solvers/simulation/cmap_simulator.h"
#include "solvers/simulation/lincs_release.h"
#include "solvers/simulation/single_cell_screen.h"
#include "tests/support/test_helpers.h"

namespace tessera::jobs {
namespace {

enum class Level { kLow, kHigh };
const engine::NameTable<Level>& name_table(Level) {
  static const engine::NameTable<Level> table{{Level::kLow, "low"}, {Level::kHigh, "high"}};
  return table;
}

// One knob of every kind the mechanism handles.
struct ToyParams {
  int count = 10;
  double share = 0.5;
  Level level = Level::kLow;
  bool verbose = false;
  bool exact = true;
  std::uint64_t seed = 7;
  std::string label = "plain";

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("toy_count", self.count, "how many").at_least(1).letter('n'));
    declare(engine::knob("toy_share", self.share, "which share").above(0.0).below(1.0));
    declare(engine::knob("toy_level", self.level, "how loud"));
    declare(engine::knob("toy_verbose", self.verbose, "say more").flag());
    declare(engine::knob("toy_exact", self.exact, "be exact"));
    declare(engine::knob("toy_seed", self.seed, "seed"));
    declare(engine::knob("toy_label", self.label, "a name"));
  }
};

const CommandSpec kToySpec{"impute", "toy", "toy usage"};

// Parses `args` for the options of `params` under the impute command's name (so [impute] is its section).
std::optional<po::variables_map> parse_toy(ToyParams& params, const std::vector<std::string>& args) {
  po::options_description options("toy options");
  add_knob_options(options, params);
  return parse_options(engine::Context(), kToySpec, options, args);
}

std::string error_of_toy(const std::vector<std::string>& args) {
  ToyParams params;
  return testing::error_of([&] { parse_toy(params, args); });
}

std::string help_of(ToyParams& params) {
  po::options_description options("toy options");
  add_knob_options(options, params);
  std::ostringstream text;
  text << options;
  return text.str();
}

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  const auto path = testing::scratch_dir("tessera_options", "ini") / name;
  std::ofstream(path) << text;
  return path;
}

TEST(Knobs, AreVisitedInDeclarationOrderWithTheirHelp) {
  ToyParams params;
  std::vector<std::string> names;
  engine::for_each_knob(params, [&](const char* name, auto&, const char* help) {
    names.push_back(name);
    EXPECT_GT(std::string(help).size(), 0u) << name;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"toy_count", "toy_share", "toy_level", "toy_verbose", "toy_exact",
                                             "toy_seed", "toy_label"}));
  // The visitor writes the members themselves.
  engine::for_each_knob(params, [](const char* name, auto& value, const char*) {
    if constexpr (std::is_same_v<std::remove_reference_t<decltype(value)>, int>)
      if (std::string(name) == "toy_count") value = 3;
  });
  EXPECT_EQ(params.count, 3);
}

TEST(Knobs, ChecksRefuseValuesOutsideTheDeclaredRange) {
  ToyParams params;
  EXPECT_NO_THROW(engine::check_knobs(params));
  params.count = 0;
  testing::expect_mentions(testing::error_of([&] { engine::check_knobs(params); }),
                           {"--toy-count 0 is invalid: the allowed values of toy_count are at least 1"});
  params.count = 1;
  EXPECT_NO_THROW(engine::check_knobs(params));
  for (double bad : {0.0, 1.0, -0.5, std::nan(""), double(INFINITY)}) {
    params.share = bad;
    testing::expect_mentions(testing::error_of([&] { engine::check_knobs(params); }),
                             {"--toy-share", "the allowed values of toy_share are in (0, 1)"});
  }
  params.share = 0.999;
  EXPECT_NO_THROW(engine::check_knobs(params));
  params.level = static_cast<Level>(5);  // a cast outside the table
  EXPECT_THROW(engine::check_knobs(params), Error);
}

TEST(Knobs, SetFromTextByNameOrSpellingAndChecked) {
  ToyParams params;
  EXPECT_TRUE(engine::set_knob(params, "toy_count", "4"));
  EXPECT_TRUE(engine::set_knob(params, "toy-share", "0.25"));
  EXPECT_TRUE(engine::set_knob(params, "toy_level", "high"));
  EXPECT_TRUE(engine::set_knob(params, "toy_exact", "false"));
  EXPECT_TRUE(engine::set_knob(params, "toy_seed", "18446744073709551615"));
  EXPECT_TRUE(engine::set_knob(params, "toy_label", "a, b"));
  EXPECT_EQ(params.count, 4);
  EXPECT_EQ(params.share, 0.25);
  EXPECT_EQ(params.level, Level::kHigh);
  EXPECT_FALSE(params.exact);
  EXPECT_EQ(params.seed, UINT64_MAX);
  EXPECT_EQ(params.label, "a, b");
  EXPECT_FALSE(engine::set_knob(params, "toy_missing", "1"));
  const std::vector<std::pair<std::string, std::vector<std::string>>> refused{
      {"0", {"--toy-count 0 is invalid", "at least 1"}},
      {"4x", {"toy-count '4x' is not a number"}},
      {"", {"toy-count '' is not a number"}}};
  for (const auto& entry : refused)
    testing::expect_mentions(testing::error_of([&] { engine::set_knob(params, "toy_count", entry.first); }),
                             entry.second);
  testing::expect_mentions(testing::error_of([&] { engine::set_knob(params, "toy_level", "loud"); }),
                           {"'loud' is not one of low | high"});
  testing::expect_mentions(testing::error_of([&] { engine::set_knob(params, "toy_exact", "yes"); }),
                           {"'yes' is not true or false"});
  EXPECT_EQ(params.count, 4) << "a refused value leaves the knob as it was";
}

TEST(Knobs, ProductIndicesRunLikeAnOdometer) {
  EXPECT_EQ(engine::product_indices({2, 3}),
            (std::vector<std::vector<std::size_t>>{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}}));
  EXPECT_EQ(engine::product_indices({}), (std::vector<std::vector<std::size_t>>{{}}));
  EXPECT_TRUE(engine::product_indices({3, 0}).empty());
  EXPECT_EQ(engine::split_comma_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Knobs, DescribeWhatTheyAllow) {
  ToyParams params;
  std::vector<std::string> allowed;
  engine::declare_each(params, [&](const auto& knob) { allowed.push_back(knob.allowed()); });
  EXPECT_EQ(allowed, (std::vector<std::string>{"at least 1", "in (0, 1)", "one of low | high", "", "", "", ""}));
  int count = 0;
  double share = 0;
  EXPECT_EQ(engine::knob("a", count, "").at_most(5).allowed(), "at most 5");
  EXPECT_EQ(engine::knob("a", count, "").in(-2, 3).allowed(), "in [-2, 3]");
  EXPECT_EQ(engine::knob("a", share, "").at_least(0.0).below(0.1).allowed(), "in [0, 0.1)");
  EXPECT_EQ(engine::knob("a", share, "").above(1e-5).allowed(), "above 1e-05");
}

TEST(KnobOptions, WriteStraightIntoTheStruct) {
  ToyParams params;
  const auto vm =
      parse_toy(params, {"-n", "4", "--toy-share", "0.25", "--toy-level", "high", "--toy-verbose", "--toy-exact",
                         "false", "--toy-seed", "18446744073709551615", "--toy-label", "x y"});
  ASSERT_TRUE(vm.has_value());
  EXPECT_EQ(params.count, 4);
  EXPECT_EQ(params.share, 0.25);
  EXPECT_EQ(params.level, Level::kHigh);
  EXPECT_TRUE(params.verbose);
  EXPECT_FALSE(params.exact);
  EXPECT_EQ(params.seed, 18446744073709551615ull);
  EXPECT_EQ(params.label, "x y");
  EXPECT_TRUE(given(*vm, "toy-count"));
  // Unset options keep the struct's defaults.
  ToyParams untouched;
  ASSERT_TRUE(parse_toy(untouched, {}).has_value());
  EXPECT_EQ(untouched.count, 10);
  EXPECT_EQ(untouched.level, Level::kLow);
  EXPECT_FALSE(untouched.verbose);
  EXPECT_TRUE(untouched.exact);
}

TEST(KnobOptions, RefuseValuesOutsideTheRangeOrTheTable) {
  testing::expect_mentions(
      error_of_toy({"--toy-count", "0"}),
      {"tessera impute: --toy-count 0 is invalid: the allowed values of toy_count are at least 1", "--help"});
  testing::expect_mentions(error_of_toy({"--toy-share", "1"}),
                           {"--toy-share 1 is invalid: the allowed values of toy_share are in (0, 1)"});
  testing::expect_mentions(error_of_toy({"--toy-share", "nan"}),
                           {"--toy-share nan is invalid", "toy_share are in (0, 1)"});
  testing::expect_mentions(error_of_toy({"--toy-level", "loud"}), {"--toy-level 'loud' is not one of low | high"});
  testing::expect_mentions(error_of_toy({"--toy-count", "two"}), {"--toy-count"});
  testing::expect_mentions(error_of_toy({"--toy-cont", "2"}), {"did you mean --toy-count?"});
}

TEST(KnobOptions, HelpListsEveryOptionWithItsDefaultAndRange) {
  ToyParams params;
  const std::string help = help_of(params);
  for (const char* expected :
       {"-n [ --toy-count ] arg (=10)", "how many (at least 1)", "--toy-share arg (=0.5)", "which share (in (0, 1))",
        "--toy-level arg (=low)", "how loud (one of low | high)", "--toy-verbose", "--toy-exact arg (=true)",
        "--toy-seed arg (=7)", "--toy-label arg (=plain)"})
    EXPECT_NE(help.find(expected), std::string::npos) << expected << "\n" << help;
}

TEST(KnobOptions, ConfigFileKeysAreTheKnobsAndAreChecked) {
  ToyParams params;
  const auto good = write_file("good.ini", "toy-count = 3\n[impute]\ntoy-level = high\n");
  ASSERT_TRUE(parse_toy(params, {"--config", good.string()}).has_value());
  EXPECT_EQ(params.count, 3);
  EXPECT_EQ(params.level, Level::kHigh);
  const auto bad = write_file("bad.ini", "[impute]\ntoy-share = 2\n");
  testing::expect_mentions(error_of_toy({"--config", bad.string()}),
                           {"--toy-share 2 is invalid: the allowed values of toy_share are in (0, 1)"});
}

// Every command's [section] is accepted (the list comes from the command table; simulate-dag was once missing),
// its keys are read for that command and skipped for the others.
TEST(ConfigSections, EveryCommandOfTheTableHasItsSection) {
  std::set<std::string> names;
  for (const auto& command : commands()) {
    names.insert(command.spec.name);
    std::string every_section;
    for (const auto& other : commands())
      every_section +=
          "[" + other.spec.name + "]\ncount = " + (other.spec.name == command.spec.name ? "42" : "1") + "\n";
    const auto path = write_file("all.ini", every_section);
    po::options_description options("one knob");
    int count = 0;
    options.add_options()("count", po::value<int>(&count)->default_value(0), "a count");
    ASSERT_NO_THROW(parse_options(engine::Context(), command.spec, options, {"--config", path.string()}))
        << command.spec.name;
    EXPECT_EQ(count, 42) << command.spec.name;
  }
  for (const char* expected :
       {"simulate", "impute", "evaluate", "inspect", "sweep", "rank", "design", "train", "discover", "simulate-dag"})
    EXPECT_EQ(names.count(expected), 1u) << expected;
  EXPECT_EQ(command_names().size(), commands().size());
  const auto unknown = write_file("unknown.ini", "[simulate_dag]\nnodes = 4\n");
  testing::expect_mentions(testing::error_of([&] {
                             parse_options(engine::Context(), spec_of("simulate-dag"), po::options_description(),
                                           {"--config", unknown.string()});
                           }),
                           {"unknown section [simulate_dag]", "[simulate-dag]"});
}

// Round trip name -> value -> name for every table; an unknown name is refused with the valid ones.
template <typename Enum>
void expect_round_trip(const std::vector<std::string>& names, const std::string& what) {
  const auto& table = name_table(Enum{});
  EXPECT_EQ(table.names(), names) << what;
  std::set<Enum> values;
  for (const auto& name : names) {
    const Enum value = table.parse(name, what);
    EXPECT_EQ(table.name(value), name) << what;
    values.insert(value);
  }
  EXPECT_EQ(values.size(), names.size()) << what << ": two names for one value";
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : " | ") + name;
  testing::expect_mentions(testing::error_of([&] { table.parse("nonsense", what); }),
                           {what + " 'nonsense' is not one of " + list});
}

TEST(NameTables, RoundTripAndRefuseUnknownNames) {
  namespace causal = solvers::causal;
  namespace search = solvers::search;
  expect_round_trip<causal::Algorithm>({"gsp", "igsp", "utigsp"}, "--algorithm");
  expect_round_trip<causal::StartGraph>({"pooled", "observational"}, "--start-graph");
  expect_round_trip<causal::CiTestKind>({"gaussian", "hsic"}, "--ci-test");
  expect_round_trip<causal::RandomGraph>({"er", "scale-free"}, "--graph");
  expect_round_trip<causal::Intervention::Kind>({"perfect", "shift"}, "--intervention");
  expect_round_trip<search::Acquisition>({"greedy", "variance", "ucb", "mi", "random"}, "--acquisition");
  expect_round_trip<search::RankBy>({"connectivity", "cosine", "pearson", "ncs"}, "--rank-by");
  expect_round_trip<solvers::ntk::PriorKind>({"reference", "all_cells", "similarity"}, "--ntk-prior");
  expect_round_trip<solvers::ntk::KernelSolverRequest>({"auto", "exact", "matrix_free", "nystrom"}, "--ntk-solver");
  expect_round_trip<engine::DeviceRequest>({"cpu", "cuda", "auto"}, "--ntk-device");
  expect_round_trip<solvers::ntk::CentreSampling>({"uniform", "leverage"}, "--ntk-centre-sampling");
  expect_round_trip<solvers::imputation::Protocol>({"full", "sparse", "combo_seen0", "combo_seen1", "combo_seen2"},
                                                   "--protocol");
  expect_round_trip<solvers::autoencoder::Activation>({"leaky_relu", "relu", "tanh", "linear"}, "--ae-activation");
  expect_round_trip<solvers::autoencoder::OptimizerKind>({"adam", "sgd"}, "--ae-optimizer");
  expect_round_trip<solvers::autoencoder::Device>({"cpu", "cuda"}, "--ae-device");
  expect_round_trip<solvers::autoencoder::Transport>({"mean", "nearest"}, "--ae-transport");
  expect_round_trip<io::ControlCentering>({"auto", "none", "required"}, "--center");
  expect_round_trip<Level>({"low", "high"}, "--toy-level");
  EXPECT_EQ(search::all_acquisitions().size(), 5u);
}

// The real parameter structs: unique names, defaults that pass their own checks, and every knob an option of
// its command whose help shows the default.
template <typename Params>
std::vector<std::string> knob_names(Params& params) {
  std::vector<std::string> names;
  engine::for_each_knob(params, [&](const char* name, auto&, const char*) { names.push_back(name); });
  return names;
}

template <typename Params>
void expect_declared_well(const std::string& what) {
  Params params;
  const auto names = knob_names(params);
  EXPECT_FALSE(names.empty()) << what;
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size()) << what << ": a name twice";
  EXPECT_NO_THROW(engine::check_knobs(params)) << what << ": a default outside its own range";
  po::options_description options;
  add_knob_options(options, params);
  std::ostringstream help;
  help << options;
  for (const auto& name : names)
    EXPECT_NE(help.str().find("--" + engine::option_spelling(name) + " "), std::string::npos) << what << " " << name;
}

TEST(ParameterStructs, DeclareEveryKnobOnceWithAValidDefault) {
  expect_declared_well<solvers::MethodParams>("impute methods");
  expect_declared_well<solvers::imputation::ProtocolOptions>("impute protocol");
  expect_declared_well<solvers::simulation::SimulationParams>("simulate");
  expect_declared_well<solvers::simulation::LincsReleaseParams>("simulate release");
  expect_declared_well<solvers::simulation::SingleCellParams>("simulate single-cell");
  expect_declared_well<solvers::causal::DagSimulationParams>("simulate-dag");
  expect_declared_well<solvers::causal::DiscoveryParams>("discover");
  expect_declared_well<solvers::search::DesignParams>("design");
  expect_declared_well<solvers::search::RankOptions>("rank");
  expect_declared_well<solvers::search::QueryOptions>("rank query");
  solvers::MethodParams methods;
  EXPECT_NO_THROW(methods.validate());
  methods.falrtc.lipschitz_shrink = 1;
  testing::expect_mentions(testing::error_of([&] { methods.validate(); }),
                           {"--falrtc-lipschitz-shrink 1 is invalid", "falrtc_lipschitz_shrink are in (0, 1)"});
}

// `tessera <name> args` checked the way `tessera sweep plan` checks a point (OptionCheck): the error its options
// raise ("" when they parse) and its help text (the options with their defaults).
struct Checked {
  std::string error;
  std::string help;
};

Checked check_command(const std::string& name, const std::vector<std::string>& args) {
  Checked checked;
  OptionCheck check;
  const auto& table = commands();
  const auto command = std::find_if(table.begin(), table.end(), [&](const Command& c) { return c.spec.name == name; });
  EXPECT_NE(command, table.end()) << name;
  if (command == table.end()) return checked;
  try {
    command->run(engine::Context(), args);
    ADD_FAILURE() << "tessera " << name << " ran past its options";
  } catch (const OptionsChecked&) {
  } catch (const Error& e) {
    checked.error = e.what();
  }
  std::ostringstream help;
  if (check.options() != nullptr) help << *check.options();
  checked.help = help.str();
  return checked;
}

// The refusal of `args` by `tessera <name>`, as parse_options words it.
void expect_refused(const std::string& name, const std::vector<std::string>& args, const std::string& why) {
  testing::expect_mentions(check_command(name, args).error,
                           {"tessera " + name + ": " + why + "; run 'tessera " + name + " --help' for the options"});
}

// The help of `tessera <name>` holds each of `expected`, read with every run of spaces and line breaks as one
// space (Boost wraps long help lines).
void expect_help_shows(const std::string& name, const std::vector<std::string>& expected,
                       const std::vector<std::string>& required = {}) {
  auto checked = check_command(name, required);
  EXPECT_EQ(checked.error, "") << name;
  std::string help;
  for (const char c : checked.help)
    if (!(std::isspace(static_cast<unsigned char>(c)) && !help.empty() && help.back() == ' '))
      help += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
  checked.help = help;
  for (const auto& text : expected)
    EXPECT_NE(checked.help.find(text), std::string::npos) << text << "\n" << checked.help;
}

// The options that were checked by hand (or only when the command ran) are knobs or checked lists now: a bad
// value is refused while parsing, so at `tessera sweep plan` too, in the knob's words.
TEST(CommandOptions, RankQueryKnobsAndPairSpace) {
  expect_help_shows("rank", {"--min-genes arg (=50)", "--set-size arg (=100)", "--weight-power arg (=1)",
                             "--pair-space arg (=gene)", "one of gene | latent"});
  expect_refused("rank", {"--min-genes", "0"},
                 "--min-genes 0 is invalid: the allowed values of min_genes are at least 1");
  expect_refused("rank", {"--set-size", "0"}, "--set-size 0 is invalid: the allowed values of set_size are at least 1");
  expect_refused("rank", {"--weight-power", "-0.5"},
                 "--weight-power -0.5 is invalid: the allowed values of weight_power are at least 0");
  expect_refused("rank", {"--pair-space", "protein"}, "--pair-space 'protein' is not one of gene | latent");
  EXPECT_EQ(
      check_command("rank", {"--min-genes", "1", "--set-size", "1", "--weight-power", "0", "--pair-space", "latent"})
          .error,
      "");
}

TEST(CommandOptions, CenterTakesTheNamesOfControlCentering) {
  expect_help_shows("impute", {"--center arg (=auto)"});
  const std::vector<std::string> predictions{"--predictions", "p.gctx"};  // evaluate's required option
  expect_help_shows("evaluate", {"--center arg (=auto)"}, predictions);
  expect_refused("impute", {"--center", "sometimes"}, "--center 'sometimes' is not one of auto | none | required");
  expect_refused("evaluate", {"--predictions", "p.gctx", "--center", "sometimes"},
                 "--center 'sometimes' is not one of auto | none | required");
  for (const char* name : {"auto", "none", "required"})
    EXPECT_EQ(check_command("impute", {"--center", name}).error, "");
}

TEST(CommandOptions, CompoundInfoIsASideTableOfImputeAndEvaluate) {
  expect_help_shows("impute", {"--compound-info arg tab-separated compound table keyed by pert_id"});
  expect_help_shows("evaluate", {"--compound-info arg"}, {"--predictions", "p.gctx"});
  EXPECT_EQ(check_command("impute", {"--signature-info", "s.txt", "--compound-info", "c.txt"}).error, "");
}

TEST(CommandOptions, DiscoverBootstrapShrinkageAndFormat) {
  expect_help_shows("discover", {"--bootstrap arg (=0)", "--shrinkage arg (=auto)"});
  expect_refused("discover", {"--bootstrap", "-1"},
                 "--bootstrap -1 is invalid: the allowed values of bootstrap are at least 0");
  for (const char* bad : {"lots", "1.5", "-0.1", "0.5x"})
    expect_refused(
        "discover", {"--shrinkage", bad},
        "--shrinkage '" + std::string(bad) + "' is invalid: the allowed values of shrinkage are auto or in [0, 1]");
  expect_help_shows("discover", {"--format arg (=auto)"});
  expect_refused("discover", {"--format", "xml"}, "--format 'xml' is not one of auto | csv | dcdi | gctx");
  expect_refused("design", {"--format", "CSV"}, "--format 'CSV' is not one of auto | csv | dcdi | gctx");
  for (const char* good : {"auto", "0", "0.25", "1"})
    EXPECT_EQ(check_command("discover", {"--shrinkage", good}).error, "");
}

TEST(CommandOptions, ListsOfNamesAreCheckedAgainstTheirTable) {
  expect_help_shows("design", {"-a [ --acquisition ] arg", "greedy | variance | ucb | mi | random; default all"});
  expect_refused("design", {"--acquisition", "greedy,best"},
                 "--acquisition 'best' is not one of greedy | variance | ucb | mi | random");
  expect_refused("design", {"-a", "ucb", "-a", "Greedy"},
                 "--acquisition 'Greedy' is not one of greedy | variance | ucb | mi | random");
  EXPECT_EQ(check_command("design", {"--acquisition", "greedy, mi", "-a", "random"}).error, "");

  std::string methods = "all";
  for (const auto& name : solvers::imputation_methods()) methods += " | " + name;
  methods += std::string(" | ") + solvers::kStackMethod;
  expect_help_shows("impute", {"-m [ --method ] arg", "(comma list of " + methods + "); default all"});
  expect_refused("impute", {"--method", "two_way_mean,nosuch"}, "--method 'nosuch' is not one of " + methods);
  EXPECT_EQ(check_command("impute", {"--method", "all"}).error, "");
  EXPECT_EQ(check_command("impute", {"--method", "cell_mean,dnpp", "-m", "ntk"}).error, "");
}

}  // namespace
}  // namespace tessera::jobs
