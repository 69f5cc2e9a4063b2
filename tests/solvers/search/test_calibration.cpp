// CMap's calibrated connectivity: permutation p-values against their definition (random gene sets scored by the
// ranking's own enrichment code, counted with the sequential stopping rule), their uniformity under a true null,
// NCS against group means by brute force, the same table on 1, 2 and 3 ranks, BH against R's p.adjust,
// quantiles, compound summaries and the hypergeometric enrichment against hand-computed values (MPI test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "engine/context.h"
#include "solvers/search/calibration.h"
#include "solvers/search/compounds.h"
#include "solvers/search/permutation_test.h"
#include "solvers/search/rank.h"
#include "solvers/search/statistics.h"
#include "tests/solvers/search/library_fixtures.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::search {
namespace {

using namespace test_fixtures;

// The p-value of one signature by the definition: draw b's genes are the genes at its positions in the
// signature's ranking; their WTCS comes from enrichment_scores (the code that scores real queries); draws are
// counted in order until `stop_after` reach |observed|. A tie counts as reaching it: with p = 0 scores are
// ratios of small integers, so ties are common, and two summation orders may round a tie either way by 1 ulp.
PermutationResult p_value_by_definition(std::span<const float> signature, const RandomQueryDraws& draws, double power,
                                        int stop_after, double observed) {
  std::vector<std::pair<std::uint64_t, int>> ranking;
  for (std::size_t g = 0; g < signature.size(); ++g) ranking.push_back({ranking_key(signature[g], int(g)), int(g)});
  std::sort(ranking.begin(), ranking.end());
  EnrichmentScratch scratch;
  int reached = 0;
  for (int b = 0; b < draws.draws; ++b) {
    std::vector<int> up, down;
    for (std::size_t t = 0; t < draws.set_size(); ++t) {
      const int gene = ranking[std::size_t(draws.positions[std::size_t(b) * draws.set_size() + t])].second;
      (int(t) < draws.up_size ? up : down).push_back(gene);
    }
    const auto [es_up, es_down] = enrichment_scores(signature, up, down, power, scratch);
    if (std::fabs(wtcs(es_up, es_down)) >= std::fabs(observed) * (1 - 1e-12) && ++reached == stop_after)
      return {double(stop_after) / double(b + 1), b + 1};
  }
  return {double(reached + 1) / double(draws.draws + 1), draws.draws};
}

TEST(PermutationTest, PValuesFollowTheirDefinition) {
  auto matrix = random_library(40, 150, 11);
  const auto q = random_query(150, 12);
  for (int g = 0; g < 150; ++g) matrix.values(g, 7) = float(-q[std::size_t(g)]);  // a planted reversal
  for (const double power : {1.0, 0.0}) {
    std::vector<int> genes(150);
    std::iota(genes.begin(), genes.end(), 0);
    const auto query = prepare_query(genes, q, 150, 15, power);
    const auto draws = draw_random_queries(150, 15, 15, 200, 5);
    PermutationTester tester(draws, power, 5);
    EnrichmentScratch scratch;
    int stopped_early = 0;
    for (int s = 0; s < 40; ++s) {
      const std::span<const float> signature{matrix.values.col(s).data(), 150};
      const auto [up, down] = enrichment_scores(signature, query.up, query.down, power, scratch);
      const double observed = wtcs(up, down);
      const auto got = tester.test(signature, observed);
      const auto expected = p_value_by_definition(signature, draws, power, 5, observed);
      EXPECT_EQ(got.p_value, expected.p_value) << "signature " << s << ", power " << power;
      EXPECT_EQ(got.draws_used, expected.draws_used) << "signature " << s;
      stopped_early += got.draws_used < 200 ? 1 : 0;
    }
    // Not vacuous: most signatures stop early, the planted reversal uses every draw and none reaches it.
    EXPECT_GT(stopped_early, 20);
    const std::span<const float> planted{matrix.values.col(7).data(), 150};
    const auto [up, down] = enrichment_scores(planted, query.up, query.down, power, scratch);
    EXPECT_EQ(tester.test(planted, wtcs(up, down)).p_value, 1.0 / 201.0);
  }
}

TEST(PermutationTest, DrawsAreDistinctPositionsSplitUpAndDown) {
  const auto draws = draw_random_queries(50, 4, 6, 300, 9);
  std::vector<int> seen(50, 0);
  for (int b = 0; b < draws.draws; ++b) {
    std::vector<int> all(draws.positions.begin() + b * 10, draws.positions.begin() + (b + 1) * 10);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.begin() + 4));
    EXPECT_TRUE(std::is_sorted(all.begin() + 4, all.end()));
    std::sort(all.begin(), all.end());
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "draw " << b;
    for (const int p : all) ++seen[std::size_t(p)];
  }
  // Uniform over positions: each is drawn 300 x 10 / 50 = 60 times on average.
  for (const int count : seen) EXPECT_NEAR(count, 60, 30);
  const auto again = draw_random_queries(50, 4, 6, 300, 9);
  EXPECT_EQ(again.positions, draws.positions);
  EXPECT_NE(draw_random_queries(50, 4, 6, 300, 10).positions, draws.positions);
}

TEST(PermutationTest, NullPValuesAreUniform) {
  // A random query against independent random signatures: the query's genes sit at uniformly random positions
  // of every ranking, which is the null the random queries draw from. So P(p <= a) is about a, for a below the
  // mass of |WTCS| > 0 (a WTCS of 0, when ES_up and ES_down share a sign, gives p = 1).
  const auto matrix = random_library(400, 120, 21);
  const auto q = random_query(120, 22);
  std::vector<int> genes(120);
  std::iota(genes.begin(), genes.end(), 0);
  const auto query = prepare_query(genes, q, 120, 12);
  const auto draws = draw_random_queries(120, 12, 12, 400, 3);
  PermutationTester tester(draws, 1.0, 10);
  EnrichmentScratch scratch;
  int below_10 = 0, below_30 = 0;
  for (int s = 0; s < 400; ++s) {
    const std::span<const float> signature{matrix.values.col(s).data(), 120};
    const auto [up, down] = enrichment_scores(signature, query.up, query.down, 1.0, scratch);
    const double p = tester.test(signature, wtcs(up, down)).p_value;
    below_10 += p <= 0.1 ? 1 : 0;
    below_30 += p <= 0.3 ? 1 : 0;
  }
  // 3 binomial standard deviations: 0.1 +- 0.045, 0.3 +- 0.069.
  EXPECT_NEAR(below_10 / 400.0, 0.1, 0.045);
  EXPECT_NEAR(below_30 / 400.0, 0.3, 0.069);
}

// A library of random signatures in cell types A / B and perturbation types trt_cp / trt_sh.
Library typed_library(int n, int genes, std::uint64_t seed) {
  auto matrix = random_library(n, genes, seed);
  io::MetaColumn type{"pert_type", io::MetaType::kString, {}, {}};
  for (int c = 0; c < n; ++c) type.text.push_back(c % 4 < 2 ? "trt_cp" : "trt_sh");
  matrix.cols.fields.push_back(type);
  Library library;
  library.add(matrix, "ntk", {});
  return library;
}

TEST(Calibration, NcsDividesByTheMeanOfItsSignInItsGroup) {
  engine::Context world;
  const Library library = typed_library(57, 100, 31);
  const auto query = full_query(random_query(100, 32), 10);
  const auto calibration = calibrate(world, library, query, {0, 10, 1}, false);
  EXPECT_TRUE(calibration.p_value.empty());
  ASSERT_EQ(calibration.groups.labels.size(), 4u);  // A/trt_cp, B/trt_cp, A/trt_sh, B/trt_sh
  Scorer scorer(query);
  std::map<std::string, std::vector<double>> by_group;
  std::vector<double> wtcs;
  for (std::int64_t i = 0; i < library.size(); ++i) {
    wtcs.push_back(scorer.score({library.values().col(i).data(), 100}).wtcs);
    by_group[library.info(i).cell + "/" + library.info(i).pert_type].push_back(wtcs.back());
  }
  int positives = 0, negatives = 0;
  for (std::int64_t i = 0; i < library.size(); ++i) {
    EXPECT_EQ(calibration.wtcs[std::size_t(i)], wtcs[std::size_t(i)]);
    double sum = 0;
    int count = 0;
    for (const double w : by_group[library.info(i).cell + "/" + library.info(i).pert_type])
      if ((w > 0) == (wtcs[std::size_t(i)] > 0) && w != 0) sum += w, ++count;
    const double expected = wtcs[std::size_t(i)] == 0 ? 0 : wtcs[std::size_t(i)] / std::fabs(sum / count);
    EXPECT_NEAR(calibration.ncs[std::size_t(i)], expected, 1e-12) << i;
    positives += wtcs[std::size_t(i)] > 0, negatives += wtcs[std::size_t(i)] < 0;
  }
  EXPECT_GT(positives, 5);
  EXPECT_GT(negatives, 5);
}

TEST(Calibration, SameTableOnAnyRankCountAndRankedByNcs) {
  engine::Context world;
  const Library library = typed_library(61, 90, 41);
  const auto query = full_query(random_query(90, 42), 9);
  const PermutationOptions permutation{300, 8, 7};
  const auto here = calibrate(world, library, query, permutation, false);
  const auto alone = calibrate(engine::Context(MPI_COMM_SELF), library, query, permutation, false);
  EXPECT_EQ(here.wtcs, alone.wtcs);
  EXPECT_EQ(here.ncs, alone.ncs);
  EXPECT_EQ(here.p_value, alone.p_value);
  EXPECT_EQ(here.fdr, alone.fdr);
  EXPECT_EQ(here.draws_used, alone.draws_used);
  EXPECT_EQ(here.fdr, benjamini_hochberg(here.p_value));

  RankOptions options;
  options.top_k = 10;
  options.rank_by = RankBy::kNcs;
  options.progress = false;
  options.calibration = &here;
  const auto result = rank_candidates(world, library, query, options);
  std::vector<std::int64_t> order(std::size_t(library.size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return here.ncs[std::size_t(a)] < here.ncs[std::size_t(b)]; });
  ASSERT_EQ(result.top.size(), 10u);
  for (std::size_t k = 0; k < 10; ++k) {
    EXPECT_EQ(result.top[k].first, order[k]) << k;
    EXPECT_EQ(result.top[k].score, -here.ncs[std::size_t(order[k])]);
    EXPECT_EQ(result.top[k].p_value, here.p_value[std::size_t(order[k])]);
    EXPECT_EQ(result.top[k].fdr, here.fdr[std::size_t(order[k])]);
  }
  options.pairs = true;
  testing::expect_mentions(testing::error_of([&] { rank_candidates(world, library, query, options); }),
                           {"--rank-by ncs", "--pairs"});
}

TEST(Statistics, BenjaminiHochbergMatchesRsPAdjust) {
  // p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") = 0.02 0.04 0.04 0.02; a NaN is not tested.
  const auto q = benjamini_hochberg(std::vector<double>{0.01, 0.04, NAN, 0.03, 0.005});
  EXPECT_NEAR(q[0], 0.02, 1e-15);
  EXPECT_NEAR(q[1], 0.04, 1e-15);
  EXPECT_TRUE(std::isnan(q[2]));
  EXPECT_NEAR(q[3], 0.04, 1e-15);
  EXPECT_NEAR(q[4], 0.02, 1e-15);
  // The running minimum: p.adjust(c(0.001, 0.2, 0.03, 0.5, 0.04), "BH") = 0.005 0.25 0.0667 0.5 0.0667.
  const auto r = benjamini_hochberg(std::vector<double>{0.001, 0.2, 0.03, 0.5, 0.04});
  const std::vector<double> expected{0.005, 0.25, 0.2 / 3, 0.5, 0.2 / 3};
  for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(r[i], expected[i], 1e-15) << i;
}

TEST(Statistics, HypergeometricTailAndQuantilesByHand) {
  // 10 items, 4 marked, 3 drawn: P(X >= 2) = (C(4,2) C(6,1) + C(4,3)) / C(10,3) = 40 / 120.
  EXPECT_NEAR(hypergeometric_upper_tail(2, 10, 4, 3), 1.0 / 3, 1e-13);
  EXPECT_EQ(hypergeometric_upper_tail(0, 10, 4, 3), 1.0);
  EXPECT_EQ(hypergeometric_upper_tail(4, 10, 4, 3), 0.0);
  EXPECT_NEAR(hypergeometric_upper_tail(5, 20, 5, 5), 1.0 / 15504, 1e-17);
  // 3 marked among 6, 5 drawn: at least 2 marked are always drawn.
  EXPECT_EQ(hypergeometric_upper_tail(2, 6, 3, 5), 1.0);

  const std::vector<double> four{1, 2, 3, 4};
  EXPECT_NEAR(quantile_of_sorted(four, 1.0 / 3), 2.0, 1e-15);
  EXPECT_NEAR(quantile_of_sorted(four, 2.0 / 3), 3.0, 1e-15);
  EXPECT_NEAR(quantile_of_sorted(std::vector<double>{1, 3}, 0.25), 1.5, 1e-15);
  EXPECT_TRUE(std::isnan(quantile_of_sorted(std::vector<double>{}, 0.5)));
}

TEST(Compounds, SummaryIsTheMaximumQuantileOverSignatures) {
  // X in four cell types, Y in three, Z in one: NCS given directly.
  io::GeneMatrix matrix = random_library(8, 20, 51);
  io::MetaColumn cell{"cell_id", io::MetaType::kString, {"c1", "c2", "c3", "c4", "c1", "c2", "c3", "c1"}, {}};
  io::MetaColumn pert{"pert_id", io::MetaType::kString, {"X", "X", "X", "X", "Y", "Y", "Y", "Z"}, {}};
  matrix.cols.fields = {cell, pert};
  Library library;
  library.add(matrix, "", {});
  const std::vector<double> ncs{-2, -1.5, 0.2, 0.1, 0.9, 1.2, -0.1, -0.5};
  const auto compounds = summarize_compounds(library, ncs);
  ASSERT_EQ(compounds.size(), 3u);
  // X: sorted -2 -1.5 0.1 0.2 -> q33 -1.5, q67 0.1 -> -1.5. Z: -0.5. Y: -0.1 0.9 1.2 -> q33 0.5667, q67 1.0 -> 1.0.
  EXPECT_EQ(compounds[0].pert_id, "X");
  EXPECT_NEAR(compounds[0].summary, -1.5, 1e-15);
  EXPECT_NEAR(compounds[0].q67, 0.1, 1e-15);
  EXPECT_EQ(compounds[0].signatures, 4);
  EXPECT_EQ(compounds[0].cells, 4);
  EXPECT_EQ(compounds[0].strongest, 0);
  EXPECT_EQ(compounds[1].pert_id, "Z");
  EXPECT_NEAR(compounds[1].summary, -0.5, 1e-15);
  EXPECT_EQ(compounds[2].pert_id, "Y");
  EXPECT_NEAR(compounds[2].q33, -0.1 + 2.0 / 3, 1e-15);
  EXPECT_NEAR(compounds[2].summary, 1.0, 1e-15);
  EXPECT_EQ(compounds[2].strongest, 6);
}

TEST(Compounds, TableAndEnrichmentByHand) {
  const auto dir = testing::scratch_dir("calibration", "compounds");
  {
    std::ofstream out(dir / "compoundinfo.txt");
    out << "pert_id\tcmap_name\ttarget\tmoa\tinchi_key\n";
    for (const char* row : {"c0\tzero\tT1\tM1\tx", "c1\tone\tT1\tM1\tx", "c1\tone\t-666\tM1\tx", "c2\ttwo\tT2\tM2\tx",
                            "c3\tthree\tT3\t\tx", "c4\tfour\tT3\t-666\tx", "c5\tfive\tT1\tM2\tx", "c6\tsix\tT2\tM2\tx",
                            "c7\tseven\tT2\tM2\tx", "c8\teight\tT2\tM2\tx", "c9\tnine\t\t\tx"})
      out << row << "\n";
  }
  const auto table = read_compound_table(dir / "compoundinfo.txt");
  ASSERT_EQ(table.size(), 10u);
  EXPECT_EQ(table.at("c1").name, "one");
  EXPECT_EQ(table.at("c1").targets, std::vector<std::string>{"T1"});
  EXPECT_TRUE(table.at("c4").moas.empty());
  EXPECT_TRUE(table.at("c9").targets.empty());

  // Ranked c0 .. c9, top 3. Targets: universe c0..c8 (9), top c0 c1 c2 (3).
  //   T1 (c0 c1 c5): P(X >= 2 | 9, 3, 3) = (C(3,2) C(6,1) + 1) / C(9,3) = 19/84
  //   T2 (c2 c6 c7 c8): P(X >= 1 | 9, 4, 3) = 1 - C(5,3)/C(9,3) = 74/84;  T3 (c3 c4): 1.
  //   BH: T1 min(3 x 19/84, ...) = 57/84, T2 and T3 1.
  std::vector<std::string> ranked;
  for (const char* c : {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}) ranked.push_back(c);
  const auto terms = enrich_terms(ranked, table, 3);
  std::map<std::string, TermEnrichment> by_term;
  for (const auto& e : terms) by_term[e.kind + ":" + e.term] = e;
  ASSERT_EQ(by_term.size(), 5u);  // T1 T2 T3, M1 M2
  EXPECT_EQ(terms.front().term, "T1");
  EXPECT_NEAR(by_term["target:T1"].p_value, 19.0 / 84, 1e-13);
  EXPECT_NEAR(by_term["target:T1"].fdr, 57.0 / 84, 1e-13);
  EXPECT_EQ(by_term["target:T1"].compounds, (std::vector<std::string>{"c0", "c1"}));
  EXPECT_NEAR(by_term["target:T2"].p_value, 74.0 / 84, 1e-13);
  EXPECT_EQ(by_term["target:T3"].p_value, 1.0);
  EXPECT_EQ(by_term["target:T1"].universe, 9);
  // MOAs: universe c0 c1 c2 c5 c6 c7 c8 (7), top c0 c1 c2; M1 (c0 c1): P(X >= 2 | 7, 2, 3) = C(5,1)/C(7,3) = 5/35.
  EXPECT_EQ(by_term["moa:M1"].universe, 7);
  EXPECT_NEAR(by_term["moa:M1"].p_value, 5.0 / 35, 1e-13);

  {
    std::ofstream out(dir / "no_moa.txt");
    out << "pert_id\tcmap_name\ttarget\nc0\tzero\tT1\n";
  }
  testing::expect_mentions(testing::error_of([&] { read_compound_table(dir / "no_moa.txt"); }),
                           {"no_moa.txt", "'moa'"});
}

}  // namespace
}  // namespace tessera::solvers::search
