#include "solvers/search/scores.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <tuple>

#include "engine/error.h"

namespace tessera::solvers::search {

namespace {
// The weighted KS running sum of one gene set S down a ranking of G genes, fed its hits in ranking order:
// RS rises only at hits and falls between them, so its maximum is at a hit and its minimum just before one.
// When every hit weighs zero (N_R = 0) each hit weighs the same.
class KsRunningSum {
 public:
  // total: sum of the hits' weights; set_size: |S|; genes: G.
  KsRunningSum(double total, std::size_t set_size, std::size_t genes)
      : equal_weights_(!(total > 0)),
        total_(equal_weights_ ? double(set_size) : total),
        miss_step_(1.0 / double(genes - set_size)) {}
  // The next hit of S, at 0-based `position` in the whole ranking, with weight w.
  void at_hit(std::int64_t position, double w) {
    const double missed = double(position - seen_) * miss_step_;
    lowest_ = std::min(lowest_, hits_ / total_ - missed);
    hits_ += equal_weights_ ? 1.0 : w;
    highest_ = std::max(highest_, hits_ / total_ - missed);
    ++seen_;
  }
  // ES: the value of RS farthest from zero.
  double es() const { return highest_ >= -lowest_ ? highest_ : lowest_; }

 private:
  bool equal_weights_;
  double total_, miss_step_;
  double hits_ = 0, highest_ = 0, lowest_ = 0;
  std::int64_t seen_ = 0;
};

// below[t] += 1 for each key, where t is the number of entries of sorted[0, n) under that key. The binary
// searches step by arithmetic on the comparison, not by a branch (a branch here is mispredicted half the
// time), and run kLanes at a time so that their chains of dependent loads overlap.
inline void count_positions(const std::uint64_t* sorted, std::size_t n, std::span<const std::uint64_t> keys,
                            std::int32_t* below) {
  constexpr std::size_t kLanes = 8;
  std::size_t g = 0;
  for (; g + kLanes <= keys.size(); g += kLanes) {
    const std::uint64_t* base[kLanes];
    for (std::size_t l = 0; l < kLanes; ++l) base[l] = sorted;
    for (std::size_t left = n; left > 1; left -= left / 2) {
      const std::size_t half = left / 2;
      for (std::size_t l = 0; l < kLanes; ++l) base[l] += std::size_t(base[l][half - 1] < keys[g + l]) * half;
    }
    for (std::size_t l = 0; l < kLanes; ++l) ++below[(base[l] - sorted) + std::size_t(*base[l] < keys[g + l])];
  }
  for (; g < keys.size(); ++g) {
    const std::uint64_t* base = sorted;
    for (std::size_t left = n; left > 1; left -= left / 2)
      base += std::size_t(base[left / 2 - 1] < keys[g]) * (left / 2);
    ++below[(base - sorted) + std::size_t(*base < keys[g])];
  }
}
}  // namespace

PreparedQuery prepare_query(std::span<const int> genes, std::span<const double> values, int num_library_genes,
                            int set_size, double weight_power) {
  TESSERA_CHECK(genes.size() == values.size(), "prepare_query: ", genes.size(), " genes but ", values.size(),
                " values");
  TESSERA_CHECK(!genes.empty(), "prepare_query: no matched genes");
  TESSERA_CHECK(set_size >= 1, "--set-size must be at least 1 (got ", set_size, ")");
  TESSERA_CHECK(weight_power >= 0, "--weight-power must be >= 0 (got ", weight_power, ")");
  PreparedQuery q;
  q.genes.assign(genes.begin(), genes.end());
  q.num_library_genes = num_library_genes;
  q.weight_power = weight_power;
  const std::size_t n = values.size();
  // Cosine and Pearson do not depend on the query's scale, but its squares, sum and norm do: values near 1e308
  // overflow them to inf, and every score became 0 or n/a. So the query is scaled by a power of two that brings
  // its largest |value| into [0.5, 1): exact in floating point, so an ordinary query's scores are unchanged
  // bit for bit, and a query and any power-of-two multiple of it score alike.
  double largest = 0;
  for (const double v : values) largest = std::max(largest, std::fabs(v));
  TESSERA_CHECK(std::isfinite(largest), "the query holds a value that is not a finite number");
  int exponent = 0;
  if (largest > 0) std::frexp(largest, &exponent);
  q.reversed.resize(n);
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) q.reversed[i] = -std::ldexp(values[i], -exponent), mean += q.reversed[i];
  mean /= double(n);
  q.centred.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    q.centred[i] = q.reversed[i] - mean;
    q.reversed_norm += q.reversed[i] * q.reversed[i];
    q.centred_norm += q.centred[i] * q.centred[i];
  }
  q.reversed_norm = std::sqrt(q.reversed_norm);
  q.centred_norm = std::sqrt(q.centred_norm);

  // Order by value (ties: lower library row first) so the sets do not depend on the query file's order.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return values[a] > values[b] || (values[a] == values[b] && genes[a] < genes[b]);
  });
  for (std::size_t k = 0; k < n && int(q.up.size()) < set_size && values[order[k]] > 0; ++k)
    q.up.push_back(genes[order[k]]);
  for (std::size_t k = n; k-- > 0 && int(q.down.size()) < set_size && values[order[k]] < 0;)
    q.down.push_back(genes[order[k]]);
  TESSERA_CHECK(!q.up.empty() && !q.down.empty(), "the query has ", q.up.size(), " up and ", q.down.size(),
                " down genes among the matched ones; the connectivity score needs both");
  TESSERA_CHECK(int(q.up.size() + q.down.size()) < num_library_genes,
                "up and down sets cover every library gene; lower --set-size");
  return q;
}

const engine::NameTable<RankBy>& name_table(RankBy) {
  static const engine::NameTable<RankBy> table{{RankBy::kConnectivity, "connectivity"},
                                               {RankBy::kCosine, "cosine"},
                                               {RankBy::kPearson, "pearson"},
                                               {RankBy::kNcs, "ncs"}};
  return table;
}

std::pair<double, double> enrichment_scores(std::span<const float> signature, std::span<const int> up,
                                            std::span<const int> down, double weight_power,
                                            EnrichmentScratch& scratch) {
  const std::size_t genes = signature.size();
  const std::size_t k = up.size() + down.size();
  TESSERA_ASSERT(!up.empty() && !down.empty() && k < genes);
  auto& hits = scratch.hits;
  hits.resize(k);
  for (std::size_t t = 0; t < k; ++t) {
    const bool in_up = t < up.size();
    const int gene = in_up ? up[t] : down[t - up.size()];
    const float value = signature[std::size_t(gene)];
    hits[t] = {ranking_key(value, gene), value, in_up};
  }
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  scratch.keys.resize(k);
  for (std::size_t t = 0; t < k; ++t) scratch.keys[t] = hits[t].key;

  // below[t]: genes with exactly t hit keys under their own. Hit t itself falls in below[t], so its position
  // in the whole ranking is below[0] + ... + below[t] - 1.
  scratch.gene_keys.resize(genes);
  for (std::size_t g = 0; g < genes; ++g) scratch.gene_keys[g] = ranking_key(signature[g], int(g));
  auto& below = scratch.below;
  below.assign(k + 1, 0);
  count_positions(scratch.keys.data(), k, scratch.gene_keys, below.data());

  double totals[2] = {0, 0};  // [0] down, [1] up
  for (const auto& h : hits) totals[h.in_up] += ks_weight(h.value, weight_power);
  KsRunningSum sums[2] = {{totals[0], down.size(), genes}, {totals[1], up.size(), genes}};
  std::int64_t position = -1;
  for (std::size_t t = 0; t < k; ++t) {
    position += below[t];
    sums[hits[t].in_up].at_hit(position, ks_weight(hits[t].value, weight_power));
  }
  return {sums[1].es(), sums[0].es()};
}

double wtcs(double es_up, double es_down) {
  if ((es_up > 0 && es_down < 0) || (es_up < 0 && es_down > 0)) return (es_up - es_down) / 2;
  return 0;
}

void Scorer::similarity(std::span<const float> signature, double& cosine, double& pearson) const {
  const auto& q = *query_;
  double dot_reversed = 0, dot_centred = 0, sum = 0, sum2 = 0;
  const std::size_t n = q.genes.size();
  for (std::size_t i = 0; i < n; ++i) {
    const double x = signature[std::size_t(q.genes[i])];
    dot_reversed += q.reversed[i] * x;
    dot_centred += q.centred[i] * x;
    sum += x;
    sum2 += x * x;
  }
  const double norm = std::sqrt(sum2);
  cosine = (norm > 0 && q.reversed_norm > 0) ? dot_reversed / (q.reversed_norm * norm) : 0;
  // centred sums to zero, so centred . s equals centred . (s - mean(s)).
  const double spread = std::sqrt(std::max(0.0, sum2 - sum * sum / double(n)));
  pearson = (spread > 0 && q.centred_norm > 0) ? dot_centred / (q.centred_norm * spread) : 0;
}

Scores Scorer::score(std::span<const float> signature) {
  TESSERA_ASSERT(int(signature.size()) == query_->num_library_genes);
  Scores s;
  similarity(signature, s.cosine, s.pearson);
  std::tie(s.es_up, s.es_down) = enrichment_scores(signature, query_->up, query_->down, query_->weight_power, scratch_);
  s.wtcs = wtcs(s.es_up, s.es_down);
  return s;
}

double Scorer::score(std::span<const float> signature, RankBy by) {
  if (by == RankBy::kConnectivity || by == RankBy::kNcs) {
    const auto [up, down] = enrichment_scores(signature, query_->up, query_->down, query_->weight_power, scratch_);
    return -wtcs(up, down);
  }
  double cosine = 0, pearson = 0;
  similarity(signature, cosine, pearson);
  return by == RankBy::kCosine ? cosine : pearson;
}

}  // namespace tessera::solvers::search
