// Ranking every candidate of a library against a query, in parallel over ranks, in O(k) memory per rank.
//
// Candidates: index i < n is signature i; with pairs, index n + p is the p-th pair (i, j), i < j, in
// lexicographic order, whose signature is the sum s_i + s_j (an additive model of a drug combination). The
// index range is split over ranks by engine::block_range and pairs are decoded on the fly, so no candidate list
// is ever stored; each rank keeps a TopK and the k best are merged at the end. The order is total (score, then
// index), so 1, 2 or 3 ranks return the same table.
//
// RankOptions::pair_signature replaces the sum by another combination (solvers/search/pair_signature.h, e.g.
// the latent-space pairs of solvers/autoencoder/latent_pairs.h); a pair it declines is not ranked. Null (the
// default) keeps the inline sum: the gene path makes no virtual call and its results are bit-identical to before.
//
// Besides the top k, each rank counts the ranking score of every single signature it scores into a fixed-bin
// histogram (kScoreBins bins over [-1, 1]), summed over ranks at the end: the whole distribution in O(bins)
// memory, and, as bins are fixed and counts integers, the same counts on any number of ranks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/context.h"
#include "solvers/search/calibration.h"
#include "solvers/search/library.h"
#include "solvers/search/pair_signature.h"
#include "solvers/search/scores.h"

namespace tessera::solvers::search {

struct RankOptions {
  std::size_t top_k = 20;
  RankBy rank_by = RankBy::kConnectivity;
  bool pairs = false;
  int bootstrap = 200;  // replicates of the residual bootstrap of imputed signatures (0: none)
  double level = 0.95;  // coverage of the bootstrap interval
  std::uint64_t seed = 1;
  bool progress = true;     // a progress line on rank 0
  int permutations = 1000;  // random queries per signature for p-values (0: no p-values, FDR)
  int permutation_stop = 10;
  // Pairs only: the pair's signature; null = the sum of the two (gene space). Not owned; must give the same
  // values on every rank.
  PairSignature* pair_signature = nullptr;
  // From calibrate() on the same library and query, or null. When set, single signatures take their
  // connectivity / ncs ranking score from it instead of being scored again, and the top rows carry NCS, p-value
  // and FDR. --rank-by ncs needs it. Not owned.
  const Calibration* calibration = nullptr;

  PermutationOptions permutation_options() const { return {permutations, permutation_stop, seed}; }

  // The knobs `tessera rank` offers (level, progress and pair_signature are set by the caller).
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("rank_by", self.rank_by, "the score candidates are ranked by"));
    declare(engine::knob("top_k", self.top_k, "rows of the table").letter('k').in(1, 1000000000));
    declare(engine::knob("pairs", self.pairs, "also score every pair of signatures (sum of the two)").flag());
    declare(
        engine::knob("bootstrap", self.bootstrap, "bootstrap replicates for imputed signatures (0: none)").at_least(0));
    declare(engine::knob("permutations", self.permutations,
                         "random queries per signature for the permutation p-values and FDR (0: none)")
                .at_least(0));
    declare(engine::knob("permutation_stop", self.permutation_stop,
                         "a signature's permutations stop once this many random queries reach its score")
                .at_least(1));
    declare(engine::knob("seed", self.seed, "seed of the bootstrap and the permutations"));
  }
};

// The candidate index space.
struct CandidateSpace {
  std::int64_t signatures = 0;
  bool pairs = false;
  std::int64_t size() const { return signatures + (pairs ? signatures * (signatures - 1) / 2 : 0); }
  // Signature(s) of candidate `index`: {i, -1} for a single, {i, j} (i < j) for a pair.
  std::pair<std::int64_t, std::int64_t> decode(std::int64_t index) const;
};

struct RankedCandidate {
  std::int64_t index = 0;
  std::int64_t first = 0;
  std::int64_t second = -1;  // -1: a single signature
  Scores scores;
  double score = 0;                            // the ranking score (RankOptions::rank_by)
  double low = NAN, high = NAN;                // bootstrap interval of `score`; NaN: not imputed or no residuals
  double ncs = NAN, p_value = NAN, fdr = NAN;  // singles of a calibrated ranking
};

// The score histogram's bins: kScoreBins equal bins over [-1, 1] (cosine, Pearson and -WTCS all lie there).
inline constexpr int kScoreBins = 40;
// Bin b covers [score_bin_low(b), score_bin_low(b + 1)); the last also holds exactly 1.
inline double score_bin_low(int bin) { return -1.0 + 2.0 * double(bin) / kScoreBins; }
// Bin of a ranking score; a value rounded just past +-1 (e.g. Pearson's cancellation) goes to the end bin. NaN
// (only from a non-finite library value) gets -1: counted nowhere.
int score_bin(double score);

struct RankResult {
  std::vector<RankedCandidate> top;  // best first
  std::int64_t candidates = 0;       // scored over all ranks
  std::int64_t declined = 0;         // pairs the PairSignature declined (not scored, not in `candidates`)
  double seconds = 0;                // wall time of the scoring loop (max over ranks)
  // kScoreBins counts of the ranking score of every single signature, summed over ranks. Pairs are not counted,
  // even with --pairs: their n^2/2 sums would swamp the n signatures whose distribution the histogram shows.
  std::vector<std::int64_t> score_histogram;
};

// The checks of options that need no data (an Error naming the option); rank_candidates runs them too.
void check_rank_options(const RankOptions& options);

// Collective over ctx: every rank holds the same library and query and gets the same result.
RankResult rank_candidates(const engine::Context& ctx, const Library& library, const PreparedQuery& query,
                           const RankOptions& options);

}  // namespace tessera::solvers::search
