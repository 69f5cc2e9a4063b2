// libFuzzer target: io::read_gct (GCT 1.2 / 1.3 text). Seeds: heads of the real GCT plates (scripts/fuzz.sh).
#include "io/gct.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tessera::fuzz::read_bytes_as_file(data, size, ".gct",
                                    [](const auto& path) { (void)tessera::io::read_gct<float>(path); });
  return 0;
}
