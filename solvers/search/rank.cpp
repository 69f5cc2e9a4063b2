#include "solvers/search/rank.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>
#include <utility>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "engine/progress.h"
#include "engine/random.h"
#include "solvers/search/statistics.h"
#include "solvers/search/top_k.h"

namespace tessera::solvers::search {

std::pair<std::int64_t, std::int64_t> CandidateSpace::decode(std::int64_t index) const {
  TESSERA_ASSERT(index >= 0 && index < size());
  if (index < signatures) return {index, -1};
  const std::int64_t p = index - signatures, n = signatures;
  // Row i starts at start(i) = i (2n - i - 1) / 2; solve start(i) <= p by the quadratic formula, then fix the
  // floating-point rounding by a step either way.
  auto start = [n](std::int64_t i) { return i * (2 * n - i - 1) / 2; };
  const double b = 2.0 * double(n) - 1.0;
  std::int64_t i = std::int64_t(std::floor((b - std::sqrt(b * b - 8.0 * double(p))) / 2.0));
  i = std::clamp<std::int64_t>(i, 0, n - 2);
  while (i > 0 && start(i) > p) --i;
  while (i + 1 < n - 1 && start(i + 1) <= p) ++i;
  return {i, i + 1 + (p - start(i))};
}

int score_bin(double score) {
  if (std::isnan(score)) return -1;
  // floor(score * bins / 2) counts bins from 0, not from -1: (score + 1) would round a tiny negative score up
  // to 1 and into the bin above 0. Clamped in double before the cast: an infinite score must not overflow the int.
  const double half = kScoreBins / 2;
  return int(std::clamp(std::floor(score * half) + half, 0.0, double(kScoreBins - 1)));
}

namespace {

// Residual bootstrap of one imputed signature's ranking score: (low, high) quantiles.
// --rank-by ncs: a replicate's connectivity is normalised by the signature's group, as its NCS was.
std::pair<double, double> bootstrap_interval(const Library::Residuals& pool, const Eigen::VectorXf& signature,
                                             Scorer& scorer, const RankOptions& options, std::int64_t index,
                                             std::int64_t signature_index) {
  std::vector<std::int64_t> folds = pool.folds;
  std::sort(folds.begin(), folds.end());
  folds.erase(std::unique(folds.begin(), folds.end()), folds.end());
  engine::RandomStream random(options.seed, "rank/bootstrap", std::uint64_t(index));
  std::vector<double> scores;
  Eigen::VectorXf perturbed(signature.size());
  std::vector<Eigen::Index> in_fold;
  for (int b = 0; b < options.bootstrap; ++b) {
    const std::int64_t fold = folds[random.uniform_int(folds.size())];
    in_fold.clear();
    for (std::size_t r = 0; r < pool.folds.size(); ++r)
      if (pool.folds[r] == fold) in_fold.push_back(Eigen::Index(r));
    perturbed = signature + pool.values.col(in_fold[random.uniform_int(in_fold.size())]);
    double score = scorer.score({perturbed.data(), std::size_t(perturbed.size())}, options.rank_by);
    if (options.rank_by == RankBy::kNcs) {
      const auto& groups = options.calibration->groups;
      score = -ncs_in_group(-score, groups, groups.group_of[std::size_t(signature_index)]);
    }
    scores.push_back(score);
  }
  std::sort(scores.begin(), scores.end());
  return {quantile_of_sorted(scores, (1 - options.level) / 2), quantile_of_sorted(scores, 1 - (1 - options.level) / 2)};
}

}  // namespace

void check_rank_options(const RankOptions& options) {
  TESSERA_CHECK(options.top_k >= 1, "--top-k must be at least 1");
  TESSERA_CHECK(options.level > 0 && options.level < 1, "--level must lie in (0, 1)");
  TESSERA_CHECK(options.rank_by != RankBy::kNcs || !options.pairs,
                "--rank-by ncs ranks single signatures: NCS normalises within a cell line, which a pair does not "
                "have; drop --pairs or rank by connectivity");
}

RankResult rank_candidates(const engine::Context& ctx, const Library& library, const PreparedQuery& query,
                           const RankOptions& options) {
  TESSERA_CHECK(library.size() > 0, "the library holds no signature (check --cell and the library files)");
  TESSERA_CHECK(query.num_library_genes == library.num_genes(), "query prepared for ", query.num_library_genes,
                " genes, library has ", library.num_genes());
  check_rank_options(options);
  const Calibration* const calibration = options.calibration;
  TESSERA_CHECK(options.rank_by != RankBy::kNcs || calibration != nullptr,
                "rank_candidates: --rank-by ncs needs RankOptions::calibration (from calibrate())");
  TESSERA_CHECK(calibration == nullptr || std::int64_t(calibration->wtcs.size()) == library.size(), "calibration of ",
                calibration ? calibration->wtcs.size() : 0, " signatures for a library of ", library.size());
  // The singles' ranking score, where the calibration already holds it.
  const std::vector<double>* known = nullptr;
  if (calibration != nullptr && options.rank_by == RankBy::kConnectivity) known = &calibration->wtcs;
  if (calibration != nullptr && options.rank_by == RankBy::kNcs) known = &calibration->ncs;
  const CandidateSpace space{library.size(), options.pairs};
  const auto range = engine::block_range(space.size(), ctx.size(), ctx.rank());
  const auto& values = library.values();
  const std::size_t genes = std::size_t(library.num_genes());

  const auto start = std::chrono::steady_clock::now();
  Scorer scorer(query);
  TopK top(options.top_k);
  Eigen::VectorXf sum(library.num_genes());
  std::vector<std::int64_t> histogram(kScoreBins, 0);  // of this rank's singles; summed over ranks below
  PairSignature* const combiner = options.pairs ? options.pair_signature : nullptr;
  engine::Progress progress("rank", range.size() * ctx.size(), "candidates");
  std::int64_t i = 0, j = -1, declined = 0;
  if (range.size() > 0) std::tie(i, j) = space.decode(range.begin);
  std::int64_t index = range.begin;
  const auto report_progress = [&] {
    if (options.progress && ((index - range.begin) & 0xffff) == 0) progress.update((index - range.begin) * ctx.size());
  };
  // The singles come first in the candidate order; only they are counted into the histogram. Pairs get a loop of
  // their own: with the histogram's bin and increment in the same loop the compiler made the pair path (a million
  // candidates at 1,415 signatures) 40 % slower for cosine and Pearson.
  for (; index < range.end && j < 0; ++index) {
    const double score =
        known ? -(*known)[std::size_t(i)] : scorer.score({values.col(i).data(), genes}, options.rank_by);
    top.offer(score, index);
    if (const int bin = score_bin(score); bin >= 0) ++histogram[std::size_t(bin)];
    if (++i == space.signatures) i = 0, j = 1;  // singles done: the first pair is (0, 1)
    report_progress();
  }
  for (; index < range.end; ++index) {
    // The gene path sums inline (no virtual call). A declined pair (e.g. two cell types in latent space) is
    // simply not offered: it can never rank.
    bool combined = true;
    if (combiner == nullptr)
      sum = values.col(i) + values.col(j);
    else
      combined = combiner->combine(i, j, {sum.data(), genes});
    if (combined)
      top.offer(scorer.score({sum.data(), genes}, options.rank_by), index);
    else
      ++declined;
    if (++j == space.signatures) ++i, j = i + 1;
    report_progress();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.progress) progress.finish();

  RankResult result;
  result.seconds = engine::allreduce_max(ctx, seconds);
  result.candidates = engine::allreduce_sum(ctx, std::int64_t(range.size()) - declined);
  result.declined = engine::allreduce_sum(ctx, declined);
  engine::allreduce_sum(ctx, std::span<std::int64_t>(histogram));  // integer sums: exact in any order
  result.score_histogram = std::move(histogram);
  // Every rank holds the library, so each finishes the k winners itself: no second round of messages.
  for (const auto& ranked : top.merge_over_ranks(ctx)) {
    RankedCandidate c;
    c.index = ranked.index;
    std::tie(c.first, c.second) = space.decode(ranked.index);
    Eigen::VectorXf signature = values.col(c.first);
    if (c.second >= 0) {
      if (combiner == nullptr) {
        signature += values.col(c.second);
      } else {
        [[maybe_unused]] const bool combined = combiner->combine(c.first, c.second, {signature.data(), genes});
        TESSERA_ASSERT(combined);  // it was offered, so the combiner accepted it on some rank
      }
    }
    c.scores = scorer.score({signature.data(), genes});
    c.score = ranked.score;
    // An interval only for a single imputed signature whose method left heldout residuals for its cell type.
    const auto& info = library.info(c.first);
    if (c.second < 0 && !info.method.empty() && options.bootstrap > 0)
      if (const auto* pool = library.residuals(info.method, info.cell))
        std::tie(c.low, c.high) = bootstrap_interval(*pool, signature, scorer, options, c.index, c.first);
    if (c.second < 0 && calibration != nullptr) {
      c.ncs = calibration->ncs[std::size_t(c.first)];
      if (!calibration->p_value.empty())
        c.p_value = calibration->p_value[std::size_t(c.first)], c.fdr = calibration->fdr[std::size_t(c.first)];
    }
    result.top.push_back(c);
  }
  return result;
}

}  // namespace tessera::solvers::search
