// Shared by the fuzz targets of tests/fuzz: Tessera's readers take a path, so each input is written to one
// scratch file per process and the reader runs on it.
//
// The contract being fuzzed: any bytes either read or throw tessera::Error (a refusal with a message). Anything
// else is a finding: a sanitizer report, a crash, a hang (libFuzzer's -timeout), an allocation past libFuzzer's
// -malloc_limit_mb, or any other exception (std::bad_alloc, std::out_of_range, ...), which leaves this function
// and ends the run through std::terminate.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "engine/error.h"

namespace tessera::fuzz {

// <TMPDIR or /tmp>/tessera_fuzz_<pid><suffix>; the suffix keeps the extension a reader may look at.
inline std::filesystem::path scratch_file(const char* suffix) {
  const char* tmp = std::getenv("TMPDIR");
  const std::filesystem::path dir = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  return dir / ("tessera_fuzz_" + std::to_string(::getpid()) + suffix);
}

// Writes the input to the scratch file and runs read(path) on it; a tessera::Error is the expected refusal.
// The scratch file, removed when the fuzzer exits normally.
struct ScratchFile {
  std::filesystem::path path;
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

template <typename Read>
void read_bytes_as_file(const std::uint8_t* data, std::size_t size, const char* suffix, Read&& read) {
  static const ScratchFile scratch{scratch_file(suffix)};
  const std::filesystem::path& path = scratch.path;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out.flush()) std::abort();  // the fuzzer's own scratch space is broken: nothing to learn
  }
  try {
    read(path);
  } catch (const tessera::Error&) {
    // A clear refusal is the right answer to most fuzzed inputs.
  }
}

}  // namespace tessera::fuzz
