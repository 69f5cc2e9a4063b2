// Conditional-independence and invariance tests behind small interfaces, so the searches (search/) never see how
// a p-value is computed. Tests are local (no communication) and memoised per instance: each rank keeps its own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/hash.h"

namespace tessera::solvers::causal {

// Hash of an int vector, for memo keys.
struct IntVectorHash {
  std::size_t operator()(const std::vector<int>& v) const {
    std::uint64_t h = engine::kWordHashBasis;
    for (int x : v) h = engine::mix_word(h, std::uint32_t(x));
    return std::size_t(h);
  }
};
using PValueMemo = std::unordered_map<std::vector<int>, double, IntVectorHash>;

// Tests i _||_ j | cond. cond need not be sorted and must not contain i or j.
class CiTest {
 public:
  virtual ~CiTest() = default;
  virtual double p_value(int i, int j, const std::vector<int>& cond) = 0;
  virtual double alpha() const = 0;
  bool independent(int i, int j, const std::vector<int>& cond) { return p_value(i, j, cond) > alpha(); }
  virtual std::size_t num_tests() const = 0;  // distinct tests computed (memo misses)
};

// Tests whether the conditional distribution of `node` given `cond` is the same in the observational setting
// and in setting k (k >= 1).
class InvarianceTest {
 public:
  virtual ~InvarianceTest() = default;
  virtual double p_value(int node, const std::vector<int>& cond, int setting) = 0;
  virtual double alpha() const = 0;
  bool invariant(int node, const std::vector<int>& cond, int setting) { return p_value(node, cond, setting) > alpha(); }
  virtual int num_settings() const = 0;       // including the observational one
  virtual std::size_t num_tests() const = 0;  // distinct tests computed (memo misses)
};

}  // namespace tessera::solvers::causal
