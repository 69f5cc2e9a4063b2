// Similarity of a drug signature to a query (disease) signature: cosine, Pearson and a CMap-style weighted
// connectivity score.
//
// Orientation: a drug is a candidate when it REVERSES the query, so cosine and Pearson are taken against the
// reversed query -q, and the connectivity score reported for ranking is -WTCS (CMap's WTCS is negative for a
// reversing drug). In all three, larger = stronger reversal.
//
// Connectivity (Subramanian et al. 2005 GSEA, Lamb et al. 2006, Subramanian et al. 2017 CMap):
//   * the query's up set U (its N largest positive values) and down set D (its N most negative values);
//   * each signature s ranks ALL its genes in descending order (ties: lower gene index first);
//   * ES(S) is the weighted Kolmogorov-Smirnov running sum of set S down that ranking:
//       RS(i) = sum_{hits j <= i} |s_j|^p / N_R  -  (misses <= i) / (G - |S|),  N_R = sum_{j in S} |s_j|^p,
//     and ES is the value of RS farthest from zero (p = 1: CMap's weighted score; p = 0: Lamb's unweighted);
//     when N_R = 0 every hit weighs the same;
//   * WTCS = (ES_up - ES_down) / 2 when ES_up and ES_down have opposite signs, else 0.
// RS only rises at hits and falls in between, so its maximum is reached at a hit and its minimum just before
// one; enrichment_scores() therefore needs only each hit's position in the ranking. It sorts the 2N hits of both
// sets by an integer rank key and places every gene among them by a branch-free binary search: one pass of
// O(G log 2N) for both sets, no sort of the G genes. All functions are local (no MPI).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/parameters.h"

namespace tessera::solvers::search {

// Query-side quantities computed once and shared by every candidate.
struct PreparedQuery {
  std::vector<int> genes;        // library row (gene) index of each matched query gene
  std::vector<double> reversed;  // -q over `genes`, scaled by 2^-e so that max |q| is in [0.5, 1) (no overflow)
  double reversed_norm = 0;      // ||reversed||
  std::vector<double> centred;   // -q - mean(-q)
  double centred_norm = 0;       // ||centred||
  std::vector<int> up;           // library rows of the up set (largest q first)
  std::vector<int> down;         // library rows of the down set (most negative q first)
  int num_library_genes = 0;     // G: genes every signature ranks
  double weight_power = 1.0;     // p of the weighted KS statistic
};

// genes: library row of each query value; values: q. set_size: N of the up and down sets (each may be smaller
// when fewer genes are up or down). Throws tessera::Error when a set would be empty or N < 1.
PreparedQuery prepare_query(std::span<const int> genes, std::span<const double> values, int num_library_genes,
                            int set_size, double weight_power = 1.0);

struct Scores {
  double cosine = 0;                             // cos(-q, s) over matched genes
  double pearson = 0;                            // corr(-q, s) over matched genes (0 when s is constant)
  double es_up = 0;                              // ES of the up set in s's ranking
  double es_down = 0;                            // ES of the down set
  double wtcs = 0;                               // CMap's weighted connectivity score (negative: s reverses the query)
  double connectivity() const { return -wtcs; }  // reversal score: larger = stronger reversal
};

// kNcs ranks by -NCS (solvers/search/calibration.h): single signatures only, from a calibrated library.
enum class RankBy { kConnectivity, kCosine, kPearson, kNcs };
const engine::NameTable<RankBy>& name_table(RankBy);  // connectivity | cosine | pearson | ncs

// Position key of a gene in a signature's descending ranking: a smaller key ranks first; equal values go to the
// lower gene index (-0 and +0 tie). Keys turn every comparison of the ranking into one integer comparison, and
// the gene is the key's low 32 bits.
inline std::uint64_t ranking_key(float value, int gene) {
  value += 0.0f;  // -0 and +0 tie, as they compare equal
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const std::uint32_t ascending = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return (std::uint64_t(~ascending) << 32) | std::uint32_t(gene);
}

// |v|^p, the weight of a hit in the KS sum (p = 0: 1; p = 1: |v|).
inline double ks_weight(float value, double power) {
  if (power == 0) return 1.0;
  if (power == 1) return std::fabs(double(value));
  return std::pow(std::fabs(double(value)), power);
}

// Reused between calls so that scoring a candidate allocates nothing.
struct EnrichmentScratch {
  struct Hit {
    std::uint64_t key;  // position key in the ranking
    float value;
    bool in_up;
  };
  std::vector<Hit> hits;
  std::vector<std::uint64_t> keys;       // of the hits, sorted
  std::vector<std::uint64_t> gene_keys;  // of every gene
  std::vector<std::int32_t> below;
};

// (ES of `up`, ES of `down`) in the descending ranking of `signature` (all G genes); up and down are disjoint,
// non-empty sets of library rows.
std::pair<double, double> enrichment_scores(std::span<const float> signature, std::span<const int> up,
                                            std::span<const int> down, double weight_power, EnrichmentScratch& scratch);

double wtcs(double es_up, double es_down);

// All scores of one signature (G values, library row order). Local; reusable scratch space.
class Scorer {
 public:
  explicit Scorer(const PreparedQuery& query) : query_(&query) {}
  Scores score(std::span<const float> signature);
  // Only the score used for ranking (skips the unused parts); kNcs gives the connectivity (-WTCS), which the
  // caller normalises.
  double score(std::span<const float> signature, RankBy by);

 private:
  void similarity(std::span<const float> signature, double& cosine, double& pearson) const;
  const PreparedQuery* query_;
  EnrichmentScratch scratch_;
};

}  // namespace tessera::solvers::search
