// Ranking a library against a query: hand-computed scores, gene matching, the planted reversing drug, the
// streaming top-k against a full sort, the score histogram against a brute force, and the same table and
// histogram on 1, 2 and 3 ranks (registered as an MPI test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/context.h"
#include "engine/random.h"
#include "solvers/search/library.h"
#include "solvers/search/query.h"
#include "solvers/search/rank.h"
#include "solvers/search/scores.h"
#include "solvers/search/top_k.h"
#include "tests/solvers/search/library_fixtures.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::search {
namespace {

using namespace test_fixtures;

constexpr double kEps = 1e-12;

// The 6-gene example. Query q and signature s, genes g0..g5:
//   q = ( 0.1,  2,  3, -0.5, -3, -2 )  -> up set (N = 2) {g2, g1}, down set {g4, g5}
//   s = ( 3,   -1,  2,  0.5, -2,  1 )  -> ranking g0 g2 g5 g3 g1 g4
// Up set, weighted (p = 1): N_R = |2| + |-1| = 3, each miss costs 1/(6 - 2) = 1/4.
//   g0 miss -1/4 | g2 hit -1/4 + 2/3 = 5/12 | g5 miss 1/6 | g3 miss -1/12 | g1 hit -1/12 + 1/3 = 1/4 | g4 miss 0
//   max 5/12, min -1/4 -> ES_up = 5/12.
// Down set: N_R = |-2| + |1| = 3.
//   g0 -1/4 | g2 -1/2 | g5 hit -1/2 + 1/3 = -1/6 | g3 -5/12 | g1 -2/3 | g4 hit -2/3 + 2/3 = 0
//   max 0, min -2/3 -> ES_down = -2/3.
// Opposite signs: WTCS = (5/12 - (-2/3)) / 2 = 13/24; the reversal score is -13/24 (s mimics q).
// Unweighted (p = 0), up set: -1/4 | 1/4 | 0 | -1/4 | 1/4 | 0 -> max 1/4 = |min| -> ES_up = 1/4 (ties: max).
const std::vector<double> kQuery{0.1, 2, 3, -0.5, -3, -2};
const std::vector<float> kSignature{3, -1, 2, 0.5, -2, 1};

PreparedQuery six_gene_query(double power = 1.0) {
  const std::vector<int> genes{0, 1, 2, 3, 4, 5};
  return prepare_query(genes, kQuery, 6, 2, power);
}

TEST(Scores, SixGeneExampleByHand) {
  const auto q = six_gene_query();
  EXPECT_EQ(q.up, (std::vector<int>{2, 1}));
  EXPECT_EQ(q.down, (std::vector<int>{4, 5}));
  Scorer scorer(q);
  const auto s = scorer.score(kSignature);
  EXPECT_NEAR(s.es_up, 5.0 / 12, kEps);
  EXPECT_NEAR(s.es_down, -2.0 / 3, kEps);
  EXPECT_NEAR(s.wtcs, 13.0 / 24, kEps);
  EXPECT_NEAR(s.connectivity(), -13.0 / 24, kEps);
  // q . s = 0.3 - 2 + 6 - 0.25 + 6 - 2 = 8.05; |q|^2 = 26.26; |s|^2 = 19.25.
  EXPECT_NEAR(s.cosine, -8.05 / std::sqrt(26.26 * 19.25), kEps);
  // Pearson: sum q = -0.4, sum s = 3.5; cov = 8.05 - (-0.4)(3.5)/6; var q = 26.26 - 0.16/6; var s = 19.25 - 12.25/6.
  const double cov = 8.05 + 1.4 / 6, var_q = 26.26 - 0.16 / 6, var_s = 19.25 - 12.25 / 6;
  EXPECT_NEAR(s.pearson, -cov / std::sqrt(var_q * var_s), 1e-9);

  EnrichmentScratch scratch;
  EXPECT_NEAR(enrichment_scores(kSignature, q.up, q.down, 0.0, scratch).first, 0.25, kEps);
  EXPECT_EQ(scorer.score(kSignature, RankBy::kConnectivity), s.connectivity());
  EXPECT_EQ(scorer.score(kSignature, RankBy::kCosine), s.cosine);
}

// The running sum evaluated at every gene of a full sort: the definition, with no shortcut. Sums run in rank
// order, as in the fast path, so that equal-magnitude extremes (ties go to the positive one) compare exactly.
double brute_force_es(const std::vector<float>& s, const std::vector<int>& set, double power) {
  std::vector<int> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  auto in_set = [&](int g) { return std::find(set.begin(), set.end(), g) != set.end(); };
  double total = 0;
  for (int g : order)
    if (in_set(g)) total += std::pow(std::fabs(double(s[g])), power);
  double hits = 0, best = 0;
  std::int64_t misses = 0;
  for (int g : order) {
    if (in_set(g))
      hits += std::pow(std::fabs(double(s[g])), power);
    else
      ++misses;
    const double running = hits / total - double(misses) / double(s.size() - set.size());
    if (std::fabs(running) > std::fabs(best) || (std::fabs(running) == std::fabs(best) && running > best))
      best = running;
  }
  return best;
}

// Random signatures with many ties (values on a coarse grid, signed zeros) against the brute force.
TEST(Scores, OnePassEnrichmentEqualsBruteForceWithTies) {
  engine::RandomStream random(3, "test/es");
  EnrichmentScratch scratch;
  for (int trial = 0; trial < 200; ++trial) {
    const int genes = 20 + int(random.uniform_int(60));
    std::vector<float> s(static_cast<std::size_t>(genes));
    for (auto& v : s) v = float(int(random.uniform_int(9)) - 4) * 0.5f;
    if (trial % 2) s[0] = -0.0f;
    std::vector<int> all(static_cast<std::size_t>(genes));
    std::iota(all.begin(), all.end(), 0);
    random.shuffle(all);
    const int up_size = 1 + int(random.uniform_int(8)), down_size = 1 + int(random.uniform_int(8));
    const std::vector<int> up(all.begin(), all.begin() + up_size);
    const std::vector<int> down(all.begin() + up_size, all.begin() + up_size + down_size);
    for (double power : {0.0, 1.0}) {
      const auto [es_up, es_down] = enrichment_scores(s, up, down, power, scratch);
      // An all-zero set weighs its hits equally, as power 0 does.
      const bool zero_up = power > 0 && std::all_of(up.begin(), up.end(), [&](int g) { return s[g] == 0; });
      const bool zero_down = power > 0 && std::all_of(down.begin(), down.end(), [&](int g) { return s[g] == 0; });
      EXPECT_NEAR(es_up, brute_force_es(s, up, zero_up ? 0.0 : power), 1e-12) << trial;
      EXPECT_NEAR(es_down, brute_force_es(s, down, zero_down ? 0.0 : power), 1e-12) << trial;
    }
  }
}

TEST(Scores, WtcsIsZeroOnSameSigns) {
  EXPECT_EQ(wtcs(0.3, 0.2), 0.0);
  EXPECT_EQ(wtcs(-0.3, -0.2), 0.0);
  EXPECT_NEAR(wtcs(-0.4, 0.6), -0.5, kEps);
}

TEST(Scores, ExactReverseScoresOne) {
  const auto q = six_gene_query();
  std::vector<float> reverse(6);
  for (int g = 0; g < 6; ++g) reverse[std::size_t(g)] = float(-kQuery[std::size_t(g)]);
  Scorer scorer(q);
  const auto s = scorer.score(reverse);
  EXPECT_NEAR(s.cosine, 1.0, 1e-7);
  EXPECT_NEAR(s.pearson, 1.0, 1e-7);
  EXPECT_LT(s.es_up, 0);
  EXPECT_GT(s.es_down, 0);
  EXPECT_GT(s.connectivity(), 0);
}

// Cosine and Pearson do not depend on the query's scale; near 1e308 its squares overflowed and every score became
// 0 or n/a. A query times a power of two must score exactly as the query; one times 1e300 up to rounding.
TEST(Scores, AQueryNear1e308ScoresAsTheScaledDownQuery) {
  const std::vector<int> genes{0, 1, 2, 3, 4, 5};
  std::vector<double> huge(kQuery.size()), decimal(kQuery.size());
  for (std::size_t g = 0; g < kQuery.size(); ++g)
    huge[g] = std::ldexp(kQuery[g], 1021), decimal[g] = kQuery[g] * 1e300;  // up to 3 x 2^1021 ~ 1.3e308
  const auto small_query = prepare_query(genes, kQuery, 6, 2);
  const auto huge_query = prepare_query(genes, huge, 6, 2);
  const auto decimal_query = prepare_query(genes, decimal, 6, 2);
  Scorer small(small_query), big(huge_query), scaled(decimal_query);
  const auto a = small.score(kSignature), b = big.score(kSignature), c = scaled.score(kSignature);
  EXPECT_TRUE(std::isfinite(b.cosine) && b.cosine != 0) << b.cosine;
  EXPECT_EQ(a.cosine, b.cosine);
  EXPECT_EQ(a.pearson, b.pearson);
  EXPECT_EQ(a.wtcs, b.wtcs);
  EXPECT_NEAR(a.cosine, c.cosine, 1e-12);
  EXPECT_NEAR(a.pearson, c.pearson, 1e-12);
  for (const auto by : {RankBy::kCosine, RankBy::kPearson, RankBy::kConnectivity})
    EXPECT_EQ(small.score(kSignature, by), big.score(kSignature, by)) << name_table(by).name(by);
}

TEST(GeneMatch, CountsBySymbolOrEntrezAndRefusesTooFew) {
  const auto rows = gene_rows(100);
  QuerySignature q;
  for (int g = 0; g < 80; ++g) q.genes.push_back("GENE" + std::to_string(g * 2)), q.values.push_back(g);
  const auto by_symbol = match_genes(q, rows, 10);
  EXPECT_EQ(by_symbol.field, "pr_gene_symbol");
  EXPECT_EQ(by_symbol.matched(), 50u);  // GENE0, GENE2, ..., GENE98
  EXPECT_EQ(by_symbol.library_rows[3], 6);
  EXPECT_EQ(by_symbol.values[3], 3.0);

  QuerySignature entrez;
  for (int g = 0; g < 30; ++g) entrez.genes.push_back(std::to_string(1000 + g)), entrez.values.push_back(1);
  entrez.genes.push_back("99999"), entrez.values.push_back(1);
  EXPECT_EQ(match_genes(entrez, rows, 30).field, "id");
  EXPECT_EQ(match_genes(entrez, rows, 30).matched(), 30u);

  const auto message = testing::error_of([&] { match_genes(entrez, rows, 31); });
  testing::expect_mentions(message, {"only 30 of 31", "--min-genes", "pr_gene_symbol 0"});
}

TEST(Rank, PlantedReverseDrugRanksFirst) {
  engine::Context world;
  auto matrix = random_library(60, 200, 3);
  const auto q = random_query(200, 4);
  for (int g = 0; g < 200; ++g) matrix.values(g, 37) = float(-q[std::size_t(g)]);
  Library library;
  library.add(matrix, "ntk", {});
  const auto query = full_query(q, 20);
  for (auto by : {RankBy::kConnectivity, RankBy::kCosine, RankBy::kPearson}) {
    RankOptions options;
    options.top_k = 5;
    options.rank_by = by;
    options.progress = false;
    const auto result = rank_candidates(world, library, query, options);
    ASSERT_EQ(result.top.size(), 5u);
    EXPECT_EQ(result.top[0].first, 37) << name_table(by).name(by);
    EXPECT_EQ(result.top[0].second, -1);
    EXPECT_EQ(result.candidates, 60);
  }
}

TEST(Rank, CandidateSpaceDecodesEveryPair) {
  for (std::int64_t n : {2, 3, 7, 40}) {
    const CandidateSpace space{n, true};
    std::int64_t index = n;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = i + 1; j < n; ++j, ++index)
        ASSERT_EQ(space.decode(index), std::make_pair(i, j)) << n << " " << index;
    EXPECT_EQ(index, space.size());
  }
  const CandidateSpace big{1415, true};
  EXPECT_EQ(big.decode(big.size() - 1), std::make_pair(std::int64_t(1413), std::int64_t(1414)));
  EXPECT_EQ(big.decode(1415 + 1413), std::make_pair(std::int64_t(0), std::int64_t(1414)));
  EXPECT_EQ(big.decode(1415 + 1414), std::make_pair(std::int64_t(1), std::int64_t(2)));
}

TEST(TopK, KeepsTheBestWithTiesByIndex) {
  TopK top(4);
  const std::vector<double> scores{0.5, 0.9, 0.5, NAN, 0.1, 0.9, 0.7, 0.5};
  for (std::size_t i = 0; i < scores.size(); ++i) top.offer(scores[i], std::int64_t(i));
  const auto kept = top.sorted();
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[0].index, 1);
  EXPECT_EQ(kept[1].index, 5);
  EXPECT_EQ(kept[2].index, 6);
  EXPECT_EQ(kept[3].index, 0);
}

// Streaming top-k over ranks (singles and pairs) equals a full sort of every candidate's score, on any number
// of ranks; the scores of the winners match a one-rank recomputation exactly.
TEST(Rank, StreamingTopKEqualsFullSortOnAnyRankCount) {
  engine::Context world;
  const auto matrix = random_library(31, 120, 5);
  const auto q = random_query(120, 6);
  Library library;
  library.add(matrix, "ntk", {});
  const auto query = full_query(q, 15);
  for (auto by : {RankBy::kConnectivity, RankBy::kPearson}) {
    RankOptions options;
    options.top_k = 25;
    options.pairs = true;
    options.rank_by = by;
    options.progress = false;
    const auto result = rank_candidates(world, library, query, options);
    EXPECT_EQ(result.candidates, 31 + 31 * 30 / 2);

    Scorer scorer(query);
    std::vector<Ranked> all;
    const CandidateSpace space{31, true};
    for (std::int64_t c = 0; c < space.size(); ++c) {
      const auto [i, j] = space.decode(c);
      Eigen::VectorXf s = library.values().col(i);
      if (j >= 0) s += library.values().col(j);
      all.push_back({scorer.score({s.data(), std::size_t(s.size())}, by), c});
    }
    std::sort(all.begin(), all.end(), better);
    ASSERT_EQ(result.top.size(), 25u);
    for (std::size_t k = 0; k < 25; ++k) {
      EXPECT_EQ(result.top[k].index, all[k].index) << k;
      EXPECT_EQ(result.top[k].score, all[k].score) << k;
    }
    const auto serial = rank_candidates(engine::Context(MPI_COMM_SELF), library, query, options);
    for (std::size_t k = 0; k < 25; ++k) EXPECT_EQ(serial.top[k].index, result.top[k].index);
  }
}

TEST(ScoreHistogram, BinsAreEqualOverMinusOneToOneAndClamped) {
  EXPECT_EQ(kScoreBins, 40);
  EXPECT_EQ(score_bin_low(0), -1.0);
  EXPECT_EQ(score_bin_low(20), 0.0);
  EXPECT_EQ(score_bin_low(kScoreBins), 1.0);
  EXPECT_EQ(score_bin(-1.0), 0);
  EXPECT_EQ(score_bin(-0.951), 0);
  EXPECT_EQ(score_bin(0.0), 20);
  EXPECT_EQ(score_bin(-1e-17), 19);
  EXPECT_EQ(score_bin(0.96), 39);
  EXPECT_EQ(score_bin(1.0), 39);  // exactly 1: the last bin, closed
  // Rounding just past +-1 (or worse, an infinite value) is clamped to the end bins; NaN is counted nowhere.
  EXPECT_EQ(score_bin(1.0 + 1e-12), 39);
  EXPECT_EQ(score_bin(-1.0 - 1e-12), 0);
  EXPECT_EQ(score_bin(INFINITY), 39);
  EXPECT_EQ(score_bin(-INFINITY), 0);
  EXPECT_EQ(score_bin(NAN), -1);
}

// The histogram holds the ranking score of every single signature, pairs excluded even with --pairs. Brute force:
// each signature's cosine with the reversed query from its definition, binned by the edges (low <= c < high, the
// last bin closed). A signature equal to -q (cosine 1), one equal to q (-1) and a zero one (0, a bin edge) are
// planted. Summed over ranks, the counts are the one-rank counts on any rank count (registered at 1, 2, 3 ranks).
TEST(Rank, ScoreHistogramCountsEverySingleSignatureOnAnyRankCount) {
  engine::Context world;
  const int n = 47, genes = 80;
  auto matrix = random_library(n, genes, 11);
  const auto q = random_query(genes, 12);
  for (int g = 0; g < genes; ++g) {
    matrix.values(g, 5) = float(-q[std::size_t(g)]);
    matrix.values(g, 6) = float(q[std::size_t(g)]);
    matrix.values(g, 7) = 0;
  }
  Library library;
  library.add(matrix, "ntk", {});
  ASSERT_EQ(library.size(), n);
  const auto query = full_query(q, 10);

  std::vector<std::int64_t> expected(kScoreBins, 0);
  for (int c = 0; c < n; ++c) {
    double dot = 0, qq = 0, ss = 0;
    for (int g = 0; g < genes; ++g) {
      const double x = library.values()(g, c), r = -q[std::size_t(g)];
      dot += r * x, qq += r * r, ss += x * x;
    }
    const double cosine = ss > 0 ? dot / std::sqrt(qq * ss) : 0;
    int bin = 0;
    while (bin + 1 < kScoreBins && cosine >= -1.0 + 2.0 * (bin + 1) / kScoreBins) ++bin;
    ++expected[std::size_t(bin)];
  }
  EXPECT_EQ(expected[0], 1);
  EXPECT_EQ(expected[kScoreBins - 1], 1);

  for (auto by : {RankBy::kCosine, RankBy::kConnectivity, RankBy::kPearson}) {
    RankOptions options;
    options.top_k = 3;
    options.pairs = true;  // 1,081 pairs scored, none counted
    options.rank_by = by;
    options.progress = false;
    const auto result = rank_candidates(world, library, query, options);
    EXPECT_EQ(result.candidates, n + n * (n - 1) / 2);
    ASSERT_EQ(result.score_histogram.size(), std::size_t(kScoreBins));
    EXPECT_EQ(std::accumulate(result.score_histogram.begin(), result.score_histogram.end(), std::int64_t(0)), n)
        << name_table(by).name(by);
    if (by == RankBy::kCosine) {
      EXPECT_EQ(result.score_histogram, expected);
    }
    const auto serial = rank_candidates(engine::Context(MPI_COMM_SELF), library, query, options);
    EXPECT_EQ(result.score_histogram, serial.score_histogram) << name_table(by).name(by);
  }
}

TEST(Library, SourcesDeduplicationAndBootstrap) {
  engine::Context world;
  const auto matrix = random_library(12, 50, 7);
  Library library;
  EXPECT_EQ(library.add(matrix, "ntk", {"A"}), 6u);   // cell filter
  EXPECT_EQ(library.add(matrix, "mean", {"A"}), 2u);  // observed ones already there; imputed added again
  EXPECT_EQ(library.num_imputed(), 4);
  EXPECT_EQ(library.info(0).source, "observed");
  EXPECT_EQ(library.info(1).source, "imputed:ntk");  // sig2
  EXPECT_EQ(library.info(7).source, "imputed:mean");

  // Heldout predictions of the observed signatures of A: observed + small noise, two folds.
  io::GeneMatrix heldout = matrix;
  engine::RandomStream random(9, "test/heldout");
  for (Eigen::Index c = 0; c < heldout.values.cols(); ++c)
    for (Eigen::Index g = 0; g < heldout.values.rows(); ++g) heldout.values(g, c) += float(0.1 * random.normal());
  io::MetaColumn fold{"fold", io::MetaType::kInt64, {}, {}};
  for (int c = 0; c < 12; ++c) fold.numbers.push_back(c % 4 < 2 ? 0 : 1);
  heldout.cols.fields.push_back(fold);
  EXPECT_EQ(library.add_heldout(heldout, "ntk"), 4u);  // observed A signatures: sig0, sig4, sig6, sig10
  // Each residual is the heldout prediction minus that same signature's observed values.
  const auto* residuals = library.residuals("ntk", "A");
  ASSERT_NE(residuals, nullptr);
  const std::vector<Eigen::Index> columns{0, 4, 6, 10};
  for (std::size_t k = 0; k < columns.size(); ++k)
    EXPECT_EQ(residuals->values.col(Eigen::Index(k)), heldout.values.col(columns[k]) - matrix.values.col(columns[k]))
        << k;

  const auto q = random_query(50, 8);
  RankOptions options;
  options.top_k = 8;
  options.progress = false;
  const auto result = rank_candidates(world, library, full_query(q, 8), options);
  int with_interval = 0;
  for (const auto& c : result.top) {
    if (library.info(c.first).method == "ntk") {
      ASSERT_TRUE(std::isfinite(c.low)) << c.first;
      EXPECT_LE(c.low, c.high);
      ++with_interval;
    } else {
      EXPECT_TRUE(std::isnan(c.low));  // observed, or no heldout residuals for "mean"
    }
  }
  EXPECT_EQ(with_interval, 2);
}

}  // namespace
}  // namespace tessera::solvers::search
