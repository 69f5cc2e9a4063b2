// The one non-cryptographic hash of Tessera: 64-bit FNV-1a. It names checkpoint files, fingerprints the problem a
// checkpoint belongs to, seeds random streams (engine/random.h) and keys in-memory tables, so its values are part
// of what a run writes: they must never change (tests/engine/test_hash.cpp pins them).
//
// Two ways to feed it:
// - hash_bytes / stable_hash: the standard FNV-1a, one byte per step. Use it for anything that is stored or that
//   seeds random numbers; its values match every other FNV-1a implementation.
// - mix_word: one step per 64-bit word, h = (h ^ word) * prime. Eight times fewer multiplications, for in-memory
//   keys (memo tables, duplicate detection) and Dag::hash. The causal code has always started it from
//   kWordHashBasis, which is the FNV offset basis with its last decimal digit lost; kept so its values stay put.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tessera::engine {

inline constexpr std::uint64_t kFnvOffsetBasis = 14695981039346656037ULL;  // 0xcbf29ce484222325
inline constexpr std::uint64_t kFnvPrime = 1099511628211ULL;               // 0x100000001b3
inline constexpr std::uint64_t kWordHashBasis = 1469598103934665603ULL;

// FNV-1a of `bytes` bytes at `data`, continuing from `hash` (chain calls to hash several buffers as one).
inline std::uint64_t hash_bytes(const void* data, std::size_t bytes, std::uint64_t hash = kFnvOffsetBasis) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * kFnvPrime;
  return hash;
}

// FNV-1a of a string's bytes, stable across platforms.
inline std::uint64_t stable_hash(std::string_view text, std::uint64_t hash = kFnvOffsetBasis) {
  return hash_bytes(text.data(), text.size(), hash);
}

// One word-wide FNV-1a step (see the top of this file): not the same value as hashing the word's bytes.
constexpr std::uint64_t mix_word(std::uint64_t hash, std::uint64_t word) { return (hash ^ word) * kFnvPrime; }

// The bit pattern of a double, for mix_word: equal doubles (other than 0.0 and -0.0) give equal words.
inline std::uint64_t double_bits(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

}  // namespace tessera::engine
