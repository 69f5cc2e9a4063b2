// libFuzzer target: the INI config files of --config (jobs/command_line.h: sections, `key = value` lines, then
// Boost.Program_options' parser and typed values). Seeds: configs written by scripts/fuzz.sh.
//
// The options are a fixed set of every value type the commands use (integers, bounded knobs, unsigned, doubles,
// strings, enum knobs, checked name lists, switches), declared the way the commands declare them
// (engine/parameters.h knobs, jobs/command_line.h), so a fuzzed value meets the same conversions and checks as in
// `tessera impute --config`.
#include <cstdint>
#include <string>
#include <vector>

#include "jobs/command_line.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_mpi.h"

namespace po = boost::program_options;

namespace {

enum class Protocol { kFull, kSparse };
const tessera::engine::NameTable<Protocol>& name_table(Protocol) {
  static const tessera::engine::NameTable<Protocol> table{{Protocol::kFull, "full"}, {Protocol::kSparse, "sparse"}};
  return table;
}

// Knobs of each kind a command declares: bounded integers and doubles, an enum, a switch.
struct FuzzedKnobs {
  int folds = 5;
  double two_way_weight = 0.5;
  Protocol protocol = Protocol::kFull;
  bool only_imputed = false;
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(tessera::engine::knob("folds", self.folds, "integer with a bound").at_least(2));
    declare(tessera::engine::knob("two_way_weight", self.two_way_weight, "double in a range").in(0.0, 1.0));
    declare(tessera::engine::knob("protocol", self.protocol, "enum"));
    declare(tessera::engine::knob("only_imputed", self.only_imputed, "switch").flag());
  }
};

po::options_description command_options(FuzzedKnobs& knobs) {
  po::options_description options("fuzzed command");
  options.add_options()("seed", po::value<std::uint64_t>()->default_value(1), "unsigned")(
      "num-cells", po::value<int>()->default_value(20), "integer")("max-rows", po::value<long>(), "integer")(
      "method", tessera::jobs::name_list("method", {"all", "cell_mean", "ntk"}), "checked comma list")(
      "input", po::value<std::string>(), "path");
  tessera::jobs::add_knob_options(options, knobs);
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)tessera::fuzz::one_rank();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& ctx = tessera::fuzz::one_rank();
  static const tessera::jobs::CommandSpec spec{"impute", "fuzzed", "fuzzed"};
  tessera::fuzz::read_bytes_as_file(data, size, ".ini", [&](const std::filesystem::path& path) {
    FuzzedKnobs knobs;
    const auto vm = tessera::jobs::parse_options(ctx, spec, command_options(knobs), {"--config", path.string()});
    if (vm)
      (void)tessera::jobs::split_list(vm->count("method") ? (*vm)["method"].as<std::vector<std::string>>()
                                                          : std::vector<std::string>{});
  });
  tessera::engine::set_log_level(tessera::engine::LogLevel::kQuiet);  // a fuzzed log-level must not stay
  return 0;
}
