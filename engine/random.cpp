#include "engine/random.h"

#include <cmath>

namespace tessera::engine {

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

RandomStream::RandomStream(std::uint64_t seed, std::string_view purpose, std::uint64_t index) {
  // Mix the three parts through splitmix64 so that nearby seeds or indices give unrelated states.
  std::uint64_t x = seed;
  std::uint64_t mixed = splitmix64(x) ^ stable_hash(purpose);
  mixed = splitmix64(mixed) ^ (index * 0xD1B54A32D192ED03ULL);
  for (auto& word : state_) word = splitmix64(mixed);
}

std::uint64_t RandomStream::next_u64() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double RandomStream::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

double RandomStream::uniform(double low, double high) { return low + (high - low) * uniform(); }

double RandomStream::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * M_PI * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_ = true;
  return radius * std::cos(angle);
}

std::uint64_t RandomStream::uniform_int(std::uint64_t n) {
  if (n <= 1) return 0;
  // Rejection sampling removes the modulo bias.
  const std::uint64_t limit = (~std::uint64_t(0)) - (~std::uint64_t(0)) % n;
  std::uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return x % n;
}

}  // namespace tessera::engine
