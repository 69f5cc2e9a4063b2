// How n items are split into contiguous blocks over `parts` ranks: the first n % parts blocks get one extra
// item. Every sharded structure in Tessera uses this one rule, so that a rank can compute any rank's share.
#pragma once

#include <cstdint>

namespace tessera::engine {

struct BlockRange {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const { return end - begin; }
  bool contains(std::int64_t i) const { return i >= begin && i < end; }
};

inline BlockRange block_range(std::int64_t n, int parts, int index) {
  const std::int64_t base = n / parts;
  const std::int64_t extra = n % parts;
  const std::int64_t begin = index * base + (index < extra ? index : extra);
  return {begin, begin + base + (index < extra ? 1 : 0)};
}

// The rank whose block holds item i.
inline int block_owner(std::int64_t n, int parts, std::int64_t i) {
  const std::int64_t base = n / parts;
  const std::int64_t extra = n % parts;
  const std::int64_t big = extra * (base + 1);  // items held by the ranks with one extra
  if (i < big) return int(i / (base + 1));
  return int(extra + (i - big) / base);
}

}  // namespace tessera::engine
