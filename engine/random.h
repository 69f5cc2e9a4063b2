// Deterministic random streams.
//
// A stream is named by (seed, purpose, index): the user's seed, a string saying what the numbers are for
// ("folds", "simulate/dag", ...) and an integer (a rank, a cell type, a restart). Two different names give
// independent streams; the same name gives the same numbers on every machine and every run, because the
// generator (xoshiro256**) and the transforms (uniform, Box-Muller normal) are written here rather than taken
// from <random>, whose distributions differ between standard libraries.
//
// To make a result identical for any rank count, index streams by the unit of work (cell type, restart), not by
// the rank that happens to run it.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/hash.h"  // stable_hash, which names streams

namespace tessera::engine {

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::string_view purpose, std::uint64_t index = 0);

  std::uint64_t next_u64();
  double uniform();                            // [0, 1), 53 random bits
  double uniform(double low, double high);     // [low, high)
  double normal();                             // standard normal
  std::uint64_t uniform_int(std::uint64_t n);  // [0, n), unbiased
  bool bernoulli(double p) { return uniform() < p; }

  // Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[uniform_int(i)]);
  }

 private:
  std::uint64_t state_[4];
  double spare_normal_ = 0;
  bool has_spare_ = false;
};

}  // namespace tessera::engine
