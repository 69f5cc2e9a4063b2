#include "solvers/search/permutation_test.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <utility>

#include "engine/error.h"
#include "engine/random.h"
#include "solvers/search/scores.h"

namespace tessera::solvers::search {

RandomQueryDraws draw_random_queries(int num_genes, int up_size, int down_size, int draws, std::uint64_t seed) {
  TESSERA_CHECK(up_size >= 1 && down_size >= 1 && up_size + down_size < num_genes, "random queries of ", up_size,
                " up and ", down_size, " down genes need more than ", up_size + down_size, " library genes (have ",
                num_genes, ")");
  TESSERA_CHECK(draws >= 0, "--permutations must be at least 0");
  RandomQueryDraws out;
  out.num_genes = num_genes, out.up_size = up_size, out.down_size = down_size, out.draws = draws;
  const std::size_t m = out.set_size();
  out.positions.resize(std::size_t(draws) * m);
  std::vector<std::int32_t> deck(static_cast<std::size_t>(num_genes));
  for (int b = 0; b < draws; ++b) {
    engine::RandomStream random(seed, "rank/permutation", std::uint64_t(b));
    std::iota(deck.begin(), deck.end(), 0);
    // The first m steps of a Fisher-Yates shuffle: m distinct positions, the first up_size of them up.
    for (std::size_t t = 0; t < m; ++t) std::swap(deck[t], deck[t + random.uniform_int(deck.size() - t)]);
    std::sort(deck.begin(), deck.begin() + up_size);
    std::sort(deck.begin() + up_size, deck.begin() + std::ptrdiff_t(m));
    std::copy(deck.begin(), deck.begin() + std::ptrdiff_t(m),
              out.positions.begin() + std::ptrdiff_t(std::size_t(b) * m));
  }
  return out;
}

namespace {
// ES of one set in `lanes` random queries at once, from each one's ascending positions: the weighted KS running
// sum of enrichment_scores (solvers/search/scores.h) with each weight scaled by 1 / total as it is added (no
// division per hit; equal to enrichment_scores' value to rounding, which the tester's tie margin absorbs). The lanes
// are independent chains of additions, so the processor overlaps them (this loop runs for every random query of every
// signature).
template <int lanes>
void set_es(const std::int32_t* const* positions, std::size_t size, const double* weight, std::size_t genes,
            double* es) {
  double scale[lanes], hits[lanes], highest[lanes], lowest[lanes];
  bool equal_weights[lanes];
  for (int l = 0; l < lanes; ++l) {
    double total = 0;
    for (std::size_t t = 0; t < size; ++t) total += weight[positions[l][t]];
    equal_weights[l] = !(total > 0);
    scale[l] = equal_weights[l] ? 1.0 / double(size) : 1.0 / total;
    hits[l] = highest[l] = lowest[l] = 0;
  }
  const double miss_step = 1.0 / double(genes - size);
  for (std::size_t t = 0; t < size; ++t)
    for (int l = 0; l < lanes; ++l) {
      const double missed = double(positions[l][t] - std::int32_t(t)) * miss_step;
      lowest[l] = std::min(lowest[l], hits[l] - missed);
      hits[l] += (equal_weights[l] ? 1.0 : weight[positions[l][t]]) * scale[l];
      highest[l] = std::max(highest[l], hits[l] - missed);
    }
  for (int l = 0; l < lanes; ++l) es[l] = highest[l] >= -lowest[l] ? highest[l] : lowest[l];
}

// WTCS of draws [first, first + lanes).
template <int lanes>
void draws_wtcs(const RandomQueryDraws& draws, int first, std::span<const double> weight_by_position, double* out) {
  const std::int32_t* up[lanes];
  const std::int32_t* down[lanes];
  for (int l = 0; l < lanes; ++l) {
    up[l] = draws.positions.data() + std::size_t(first + l) * draws.set_size();
    down[l] = up[l] + draws.up_size;
  }
  double es_up[lanes], es_down[lanes];
  const std::size_t genes = weight_by_position.size();
  set_es<lanes>(up, std::size_t(draws.up_size), weight_by_position.data(), genes, es_up);
  set_es<lanes>(down, std::size_t(draws.down_size), weight_by_position.data(), genes, es_down);
  for (int l = 0; l < lanes; ++l) out[l] = wtcs(es_up[l], es_down[l]);
}
constexpr int kLanes = 4;

// Sorts ranking keys (solvers/search/scores.h: the value's order in the high 32 bits, the gene in the low) as
// std::sort would, by a stable LSD radix sort of the high 32 bits in three passes of 11 bits: the keys start in
// gene order, so equal values stay in gene order as the full keys order them. About 4x faster than std::sort
// at 978 genes, and it runs once per signature.
void radix_sort_keys(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch) {
  constexpr int kBits = 11;
  constexpr std::uint32_t kMask = (1u << kBits) - 1;
  std::array<std::array<std::uint32_t, std::size_t(kMask) + 1>, 3> offsets{};
  for (const std::uint64_t key : keys)
    for (int d = 0; d < 3; ++d) ++offsets[std::size_t(d)][(std::uint32_t(key >> 32) >> (d * kBits)) & kMask];
  for (auto& digit : offsets) {
    std::uint32_t sum = 0;
    for (auto& count : digit) sum += std::exchange(count, sum);
  }
  scratch.resize(keys.size());
  for (int d = 0; d < 3; ++d) {
    auto& offset = offsets[std::size_t(d)];
    for (const std::uint64_t key : keys) scratch[offset[(std::uint32_t(key >> 32) >> (d * kBits)) & kMask]++] = key;
    keys.swap(scratch);
  }
}
}  // namespace

double random_query_wtcs(const RandomQueryDraws& draws, int b, std::span<const double> weight_by_position) {
  double out;
  draws_wtcs<1>(draws, b, weight_by_position, &out);
  return out;
}

PermutationTester::PermutationTester(const RandomQueryDraws& draws, double weight_power, int stop_after)
    : draws_(&draws), weight_power_(weight_power), stop_after_(stop_after) {
  TESSERA_CHECK(stop_after >= 1, "--permutation-stop must be at least 1");
}

PermutationResult PermutationTester::test(std::span<const float> signature, double observed_wtcs) {
  const std::size_t genes = signature.size();
  TESSERA_ASSERT(int(genes) == draws_->num_genes);
  keys_.resize(genes);
  for (std::size_t g = 0; g < genes; ++g) keys_[g] = ranking_key(signature[g], int(g));
  radix_sort_keys(keys_, sorted_scratch_);
  weight_by_position_.resize(genes);
  for (std::size_t k = 0; k < genes; ++k)
    weight_by_position_[k] = ks_weight(signature[keys_[k] & 0xffffffffu], weight_power_);
  // A draw that ties the observed score counts as reaching it (conservative); the margin absorbs the rounding of
  // two summation orders of one value.
  const double bar = std::fabs(observed_wtcs) * (1 - 1e-12);
  // kLanes draws are scored at a time, then counted in draw order: the draws a result used are exactly those of
  // a one-at-a-time loop (up to kLanes - 1 more are scored and ignored).
  int reached = 0;
  double scores[kLanes];
  for (int first = 0; first < draws_->draws; first += kLanes) {
    const int lanes = std::min(kLanes, draws_->draws - first);
    if (lanes == kLanes)
      draws_wtcs<kLanes>(*draws_, first, weight_by_position_, scores);
    else
      for (int l = 0; l < lanes; ++l) draws_wtcs<1>(*draws_, first + l, weight_by_position_, scores + l);
    for (int l = 0; l < lanes; ++l)
      if (std::fabs(scores[l]) >= bar && ++reached == stop_after_)
        return {double(stop_after_) / double(first + l + 1), first + l + 1};
  }
  return {double(reached + 1) / double(draws_->draws + 1), draws_->draws};
}

}  // namespace tessera::solvers::search
