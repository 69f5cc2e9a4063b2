// libFuzzer target: io::read_npy (NumPy .npy, as DCDI stores data and DAGs). Seeds: small arrays written by
// scripts/fuzz.sh from the real Sachs data.
#include "io/npy.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tessera::fuzz::read_bytes_as_file(data, size, ".npy", [](const auto& path) { (void)tessera::io::read_npy(path); });
  return 0;
}
