// libFuzzer target: the INI config files of --config (jobs/command_line.h: sections, `key = value` lines, then
// Boost.Program_options' parser and typed values). Seeds: configs written by scripts/fuzz.sh.
//
// The options are a fixed set of every value type the commands use (integers, bounded integers, unsigned,
// doubles, strings, choices, comma lists, switches), so a fuzzed value meets the same conversions and checks as
// in `tessera impute --config`.
#include <cstdint>
#include <string>
#include <vector>

#include "jobs/command_line.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_mpi.h"

namespace po = boost::program_options;

namespace {

po::options_description command_options() {
  po::options_description options("fuzzed command");
  options.add_options()("seed", po::value<std::uint64_t>()->default_value(1), "unsigned")(
      "num-cells", po::value<int>()->default_value(20), "integer")("folds", tessera::jobs::at_least<int>("folds", 2),
                                                                   "integer with a bound")(
      "protocol", tessera::jobs::one_of("protocol", {"full", "sparse"}), "one of a list")(
      "max-rows", po::value<long>(), "integer")("two-way-weight", po::value<double>()->default_value(0.5), "double")(
      "method", po::value<std::vector<std::string>>()->multitoken(), "comma list")(
      "input", po::value<std::string>(), "path")("only-imputed", po::bool_switch(), "switch");
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
    const auto vm = tessera::jobs::parse_options(ctx, spec, command_options(), {"--config", path.string()});
    if (vm)
      (void)tessera::jobs::split_list(vm->count("method") ? (*vm)["method"].as<std::vector<std::string>>()
                                                          : std::vector<std::string>{});
  });
  tessera::engine::set_log_level(tessera::engine::LogLevel::kQuiet);  // a fuzzed log-level must not stay
  return 0;
}
