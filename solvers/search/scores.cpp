#include "solvers/search/scores.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "engine/error.h"

namespace tessera::solvers::search {

namespace {
// Gene a ranks before gene b in a descending ranking; ties go to the lower gene index.
inline bool ranks_before(float a_value, int a_gene, float b_value, int b_gene) {
  return a_value > b_value || (a_value == b_value && a_gene < b_gene);
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
  q.reversed.resize(n);
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) q.reversed[i] = -values[i], mean += -values[i];
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

RankBy parse_rank_by(std::string_view name) {
  if (name == "connectivity") return RankBy::kConnectivity;
  if (name == "cosine") return RankBy::kCosine;
  if (name == "pearson") return RankBy::kPearson;
  TESSERA_FAIL("unknown score '", std::string(name), "': use connectivity, cosine or pearson");
}

const char* rank_by_name(RankBy by) {
  return by == RankBy::kCosine ? "cosine" : by == RankBy::kPearson ? "pearson" : "connectivity";
}

double enrichment_score(std::span<const float> signature, std::span<const int> set, double weight_power,
                        std::vector<std::pair<float, int>>& hits, std::vector<std::int32_t>& gaps) {
  const std::size_t k = set.size();
  const std::size_t genes = signature.size();
  TESSERA_ASSERT(k > 0 && k < genes);
  hits.resize(k);
  for (std::size_t t = 0; t < k; ++t) hits[t] = {signature[std::size_t(set[t])], set[t]};
  std::sort(hits.begin(), hits.end(),
            [](const auto& a, const auto& b) { return ranks_before(a.first, a.second, b.first, b.second); });

  // gaps[t]: genes with exactly t hits ranked before them. A hit at sorted position t has t hits before it,
  // so after the pass gaps[t] - 1 misses fall just before hit t.
  gaps.assign(k + 1, 0);
  for (std::size_t g = 0; g < genes; ++g) {
    const float v = signature[g];
    std::size_t lo = 0, hi = k;  // first hit that does not rank before g
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (ranks_before(hits[mid].first, hits[mid].second, v, int(g))) lo = mid + 1;
      else hi = mid;
    }
    ++gaps[lo];
  }
  for (std::size_t t = 0; t < k; ++t) --gaps[t];

  auto weight = [&](float v) {
    if (weight_power == 0) return 1.0;
    if (weight_power == 1) return std::fabs(double(v));
    return std::pow(std::fabs(double(v)), weight_power);
  };
  double total = 0;
  for (const auto& h : hits) total += weight(h.first);
  const bool equal_weights = !(total > 0);
  if (equal_weights) total = double(k);
  const double miss_step = 1.0 / double(genes - k);

  double running_hits = 0, highest = 0, lowest = 0;
  std::int64_t misses = 0;
  for (std::size_t t = 0; t < k; ++t) {
    misses += gaps[t];
    lowest = std::min(lowest, running_hits / total - double(misses) * miss_step);   // just before hit t
    running_hits += equal_weights ? 1.0 : weight(hits[t].first);
    highest = std::max(highest, running_hits / total - double(misses) * miss_step);  // at hit t
  }
  return highest >= -lowest ? highest : lowest;
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
  s.es_up = enrichment_score(signature, query_->up, query_->weight_power, scratch_, counts_);
  s.es_down = enrichment_score(signature, query_->down, query_->weight_power, scratch_, counts_);
  s.wtcs = wtcs(s.es_up, s.es_down);
  return s;
}

double Scorer::score(std::span<const float> signature, RankBy by) {
  if (by == RankBy::kConnectivity) {
    const double up = enrichment_score(signature, query_->up, query_->weight_power, scratch_, counts_);
    const double down = enrichment_score(signature, query_->down, query_->weight_power, scratch_, counts_);
    return -wtcs(up, down);
  }
  double cosine = 0, pearson = 0;
  similarity(signature, cosine, pearson);
  return by == RankBy::kCosine ? cosine : pearson;
}

}  // namespace tessera::solvers::search
