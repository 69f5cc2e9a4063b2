// A bounded top-k of (score, candidate index) pairs, for streaming millions of candidates in O(k) memory.
//
// Order: a larger score first; equal scores by the smaller index, so the result is a total order and does not
// depend on which rank saw which candidate, or in what order. NaN scores are never kept. offer() is O(log k).
// merge_over_ranks() is collective: every rank sends its k pairs, every rank returns the same global top k.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/collectives.h"
#include "engine/context.h"

namespace tessera::solvers::search {

struct Ranked {
  double score = 0;
  std::int64_t index = 0;
};

// True when a ranks before b.
inline bool better(const Ranked& a, const Ranked& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k); }

  std::size_t capacity() const { return k_; }
  std::size_t size() const { return heap_.size(); }
  // The worst kept score, or -inf while fewer than k are kept: a cheap pre-filter for callers.
  double threshold() const { return heap_.size() < k_ ? -INFINITY : heap_.front().score; }

  void offer(double score, std::int64_t index) {
    if (k_ == 0 || std::isnan(score)) return;
    const Ranked item{score, index};
    if (heap_.size() < k_) {
      heap_.push_back(item);
      std::push_heap(heap_.begin(), heap_.end(), better);  // the worst sits at front()
    } else if (better(item, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = item;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  // The kept pairs, best first.
  std::vector<Ranked> sorted() const {
    std::vector<Ranked> out = heap_;
    std::sort(out.begin(), out.end(), better);
    return out;
  }

  // Collective: the global top k of every rank's pairs, best first, on every rank.
  std::vector<Ranked> merge_over_ranks(const engine::Context& ctx) const {
    std::vector<double> scores;
    std::vector<std::int64_t> indices;
    for (const auto& r : heap_) scores.push_back(r.score), indices.push_back(r.index);
    const auto all_scores = engine::allgatherv(ctx, std::span<const double>(scores));
    const auto all_indices = engine::allgatherv(ctx, std::span<const std::int64_t>(indices));
    TopK merged(k_);
    for (std::size_t i = 0; i < all_scores.size(); ++i) merged.offer(all_scores[i], all_indices[i]);
    return merged.sorted();
  }

 private:
  std::size_t k_;
  std::vector<Ranked> heap_;
};

}  // namespace tessera::solvers::search
