// libFuzzer target: io::read_csv (fold files, metrics, query signatures). Seeds: heads of the real CSV files.
#include "io/csv.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tessera::fuzz::read_bytes_as_file(data, size, ".csv", [](const auto& path) { (void)tessera::io::read_csv(path); });
  return 0;
}
