// Damaged copies of real GCTX files, made byte by byte as a disk or a transfer damages them, for the tests of
// io/hdf5_checks.h (tests/io/test_gctx.cpp) and of the `tessera` command (tests/jobs/test_bad_input_gctx.cpp).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace tessera::testing {

inline std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

// Copies `source` to `target` with one bit flipped in the first gzip filter-pipeline message (cmapPy compresses
// each metadata dataset): the message's type, 0x0b, becomes 0x0a, a type HDF5 skips in a dataset's header, so
// the dataset seems to have no filters and its compressed chunk is read as if raw, past the end of HDF5's
// buffer. In a version-1 object header the message is "0b 00 | size 20 00 | flags | 3 reserved", then the
// pipeline "01 <count> 00*6", then the filter "01 00 | 08 00 | flags | 01 00 | deflate\0 | level".
// Returns false (and fails the test) when the file has no such message.
inline bool copy_with_filter_dropped(const std::filesystem::path& source, const std::filesystem::path& target) {
  std::string bytes = read_bytes(source);
  const std::string_view filter("\x01\x00\x08\x00", 4);
  for (std::size_t at = bytes.find("deflate", 0); at != std::string::npos; at = bytes.find("deflate", at + 1)) {
    if (at < 24 || std::string_view(bytes).substr(at - 8, 4) != filter || bytes[at - 16] != 1 || bytes[at - 24] != 0x0b)
      continue;
    bytes[at - 24] ^= 1;  // message type 0x0b (filter pipeline) -> 0x0a
    write_bytes(target, bytes);
    return true;
  }
  ADD_FAILURE() << source << " has no version-1 gzip pipeline message to damage";
  return false;
}

// Copies `source` to `target` with every occurrence of a 4-byte HDF5 signature ("TREE": v1 B-tree nodes, "HEAP":
// local heaps, "SNOD": symbol-table nodes) overwritten, as a damaged sector would. Returns how many.
inline int copy_with_signature_damaged(const std::filesystem::path& source, const std::filesystem::path& target,
                                       const std::string& signature) {
  std::string bytes = read_bytes(source);
  int damaged = 0;
  for (std::size_t at = bytes.find(signature); at != std::string::npos; at = bytes.find(signature, at + 1)) {
    bytes.replace(at, signature.size(), std::string(signature.size(), 'X'));
    ++damaged;
  }
  write_bytes(target, bytes);
  EXPECT_GT(damaged, 0) << source << " holds no '" << signature << "'";
  return damaged;
}

}  // namespace tessera::testing
