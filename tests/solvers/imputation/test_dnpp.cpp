// DNPP (solvers/imputation/dnpp.h) against a brute-force computation written with plain loops, and on a hand-made
// table. Runs at 1, 2 and 3 ranks: the distributed answer must be bit-identical to the one-rank answer
// (tolerance 0: the similarity sums are exact integers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/imputation/dnpp.h"
#include "solvers/registry.h"

namespace tessera::solvers::imputation {
namespace {

constexpr double kTol = 1e-12;

// "g12": built by append (GCC 12 warns falsely about operator+ on a literal and a temporary).
std::string id(const char* prefix, int number) {
  std::string text = prefix;
  text += std::to_string(number);
  return text;
}

// 5 cell types x 15 drugs x 6 genes, ~50% observed (70% in cell types 0-3), normal values with a per-drug direction
// shared across cell types (so that similarities are a mix of positive and negative). Special cases:
//   d11 has a constant signature in cell 0 (undefined correlation), d12 is never observed (fallback to the cell
//   mean), d13 trains only in cell 4, where no other drug trains (no shared cell type: all similarities 0, so
//   fallback to its drug mean), d14 is observed but never in `train` (held out everywhere).
// The train mask leaves out ~20% of the observed entries and flags a few unobserved ones (which have no values).
// With more drugs (at least 15): the same special cases among more ordinary drugs.
struct RandomCase {
  io::PerturbationTable table;
  std::vector<std::uint8_t> train;

  explicit RandomCase(int drugs = 15, int genes = 6) {
    const int cells = 5;
    for (int g = 0; g < genes; ++g) table.genes.push_back(id("g", g));
    for (int c = 0; c < cells; ++c) table.cells.push_back(id("c", c));
    for (int d = 0; d < drugs; ++d) {
      char id[8];
      std::snprintf(id, sizeof id, "d%02d", d);
      table.perts.push_back(id);
    }
    engine::RandomStream stream(11, "test/dnpp-table");
    Eigen::MatrixXd direction(genes, drugs);
    for (int d = 0; d < drugs; ++d)
      for (int g = 0; g < genes; ++g) direction(g, d) = stream.normal();
    Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(genes, table.num_entries());
    table.observed.assign(std::size_t(table.num_entries()), 0);
    train.assign(std::size_t(table.num_entries()), 0);
    for (std::int64_t e = 0; e < table.num_entries(); ++e) {
      const auto c = table.cell_of(e), d = table.pert_of(e);
      bool observed = stream.uniform() < 0.7;
      if (d == 12) observed = false;
      if (d == 13) observed = c == 4;
      if (c == 4 && d != 13) observed = observed && d == 14;  // cell 4 trains only d13 (d14 never trains)
      if (observed) {
        table.observed[std::size_t(e)] = 1;
        for (int g = 0; g < genes; ++g) dense(g, e) = direction(g, d) + 0.8 * stream.normal();
        train[std::size_t(e)] = stream.uniform() < 0.85;
      } else {
        // Unobserved entries have no signature (table.signature throws), so the training mask may flag them.
        train[std::size_t(e)] = stream.uniform() < 0.1;
      }
    }
    // d11 in cell 0: observed, training, constant across genes.
    const auto constant = table.entry(0, 11);
    table.observed[std::size_t(constant)] = 1;
    train[std::size_t(constant)] = 1;
    dense.col(constant).setConstant(0.7);
    table.set_dense(dense);
    for (std::int64_t c = 0; c < cells; ++c) {
      train[std::size_t(table.entry(c, 14))] = 0;
      train[std::size_t(table.entry(c, 13))] = c == 4;
    }
    table.replicates.assign(table.observed.begin(), table.observed.end());
  }

  bool trains(std::int64_t c, std::int64_t d) const {
    const auto e = std::size_t(table.entry(c, d));
    return train[e] && table.observed[e];
  }
};

// Pearson r across genes with explicit loops; 0 when either side is constant (undefined).
double brute_pearson(const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
  const auto n = x.size();
  double mx = 0, my = 0;
  for (Eigen::Index g = 0; g < n; ++g) {
    mx += x(g);
    my += y(g);
  }
  mx /= double(n);
  my /= double(n);
  double sxy = 0, sxx = 0, syy = 0, nx = 0, ny = 0;
  for (Eigen::Index g = 0; g < n; ++g) {
    sxy += (x(g) - mx) * (y(g) - my);
    sxx += (x(g) - mx) * (x(g) - mx);
    syy += (y(g) - my) * (y(g) - my);
    nx += x(g) * x(g);
    ny += y(g) * y(g);
  }
  if (sxx <= 1e-24 * nx || syy <= 1e-24 * ny || sxx == 0 || syy == 0) return 0.0;
  return sxy / std::sqrt(sxx * syy);
}

// clip_first: set negative correlations to 0 per cell type before averaging (not DNPP's order; used only to show
// that the test can tell the two apart).
double brute_similarity(const RandomCase& rc, std::int64_t a, std::int64_t b, bool clip_first = false) {
  if (a == b) return 0.0;
  const auto& t = rc.table;
  double sum = 0;
  int shared = 0;
  for (std::int64_t u = 0; u < t.num_cells(); ++u) {
    if (!rc.trains(u, a) || !rc.trains(u, b)) continue;
    ++shared;
    const double r = brute_pearson(t.signature(t.entry(u, a)), t.signature(t.entry(u, b)));
    sum += clip_first ? std::max(0.0, r) : r;
  }
  return shared == 0 ? 0.0 : std::max(0.0, sum / shared);
}

// The mean of training signatures selected by `keep(cell, drug)`; empty when none.
template <typename Keep>
std::pair<Eigen::VectorXd, int> brute_mean(const RandomCase& rc, Keep keep) {
  const auto& t = rc.table;
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(t.num_genes());
  int n = 0;
  for (std::int64_t u = 0; u < t.num_cells(); ++u)
    for (std::int64_t d = 0; d < t.num_perts(); ++d)
      if (rc.trains(u, d) && keep(u, d)) {
        sum += t.signature(t.entry(u, d));
        ++n;
      }
  return {n > 0 ? Eigen::VectorXd(sum / n) : sum, n};
}

struct BrutePrediction {
  Eigen::VectorXd value;
  int positive_candidates = 0;  // candidates with s > 0
  bool fallback = false;
};

BrutePrediction brute_predict(const RandomCase& rc, std::int64_t c, std::int64_t a, int k, bool clip_first = false) {
  const auto& t = rc.table;
  std::vector<std::pair<double, std::int64_t>> ranked;
  for (std::int64_t j = 0; j < t.num_perts(); ++j) {
    if (j == a || !rc.trains(c, j)) continue;
    const double s = brute_similarity(rc, a, j, clip_first);
    if (s > 0) ranked.emplace_back(-s, j);  // sort: largest s first, then lower index
  }
  std::sort(ranked.begin(), ranked.end());
  BrutePrediction out;
  out.positive_candidates = int(ranked.size());
  if (ranked.empty()) {
    out.fallback = true;
    auto [drug_mean, n_drug] = brute_mean(rc, [&](std::int64_t, std::int64_t d) { return d == a; });
    if (n_drug > 0) return out.value = drug_mean, out;
    auto [cell_mean, n_cell] = brute_mean(rc, [&](std::int64_t u, std::int64_t) { return u == c; });
    if (n_cell > 0) return out.value = cell_mean, out;
    out.value = brute_mean(rc, [](std::int64_t, std::int64_t) { return true; }).first;
    return out;
  }
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(t.num_genes());
  double weights = 0;
  for (int i = 0; i < std::min(k, int(ranked.size())); ++i) {
    sum += -ranked[std::size_t(i)].first * t.signature(t.entry(c, ranked[std::size_t(i)].second));
    weights += -ranked[std::size_t(i)].first;
  }
  out.value = sum / weights;
  return out;
}

std::vector<std::int64_t> non_training_entries(const RandomCase& rc) {
  std::vector<std::int64_t> queries;
  for (std::int64_t e = 0; e < rc.table.num_entries(); ++e)
    if (!rc.trains(rc.table.cell_of(e), rc.table.pert_of(e))) queries.push_back(e);
  return queries;
}

TEST(Dnpp, SimilarityEqualsBruteForce) {
  const engine::Context world;
  const RandomCase rc;
  const Eigen::MatrixXd s = dnpp_similarity(world, rc.table, rc.train);
  ASSERT_EQ(s.rows(), 15);
  ASSERT_EQ(s.cols(), 15);
  int positive = 0, clipped = 0;
  for (std::int64_t a = 0; a < 15; ++a) {
    for (std::int64_t b = 0; b < 15; ++b) {
      EXPECT_NEAR(s(a, b), brute_similarity(rc, a, b), kTol) << a << "," << b;
      EXPECT_EQ(s(a, b), s(b, a));
      positive += s(a, b) > 0;
      clipped += s(a, b) == 0 && rc.trains(0, a) && rc.trains(0, b) && a != b;
    }
    EXPECT_EQ(s(a, a), 0.0);
    EXPECT_EQ(s(a, 12), 0.0);  // never observed
    EXPECT_EQ(s(a, 13), 0.0);  // shares no cell type with anyone
  }
  EXPECT_GT(positive, 20);  // the case exercises both signs
  EXPECT_GT(clipped, 2);
}

TEST(Dnpp, PredictionsEqualBruteForceIncludingTopKCutAndFallbacks) {
  const engine::Context world;
  const RandomCase rc;
  const auto queries = non_training_entries(rc);
  for (const int k : {1, 3, 10}) {
    DnppParams params;
    params.k = k;
    const Dnpp dnpp(params);
    const Eigen::MatrixXd predicted = dnpp.impute(world, rc.table, rc.train, queries);
    ASSERT_EQ(predicted.rows(), rc.table.num_genes());
    ASSERT_EQ(predicted.cols(), Eigen::Index(queries.size()));
    int cut = 0, fewer = 0, fallbacks = 0, order_matters = 0;
    for (std::size_t q = 0; q < queries.size(); ++q) {
      const auto c = rc.table.cell_of(queries[q]), a = rc.table.pert_of(queries[q]);
      const BrutePrediction expected = brute_predict(rc, c, a, k);
      cut += !expected.fallback && expected.positive_candidates > k;
      fewer += !expected.fallback && expected.positive_candidates < k;
      fallbacks += expected.fallback;
      order_matters += (brute_predict(rc, c, a, k, true).value - expected.value).norm() > 1e-6;
      for (Eigen::Index g = 0; g < predicted.rows(); ++g)
        EXPECT_NEAR(predicted(g, Eigen::Index(q)), expected.value(g), kTol * (1 + std::abs(expected.value(g))))
            << "k=" << k << " cell " << c << " drug " << a;
    }
    if (k == 1 || k == 3) {
      EXPECT_GT(cut, 0) << "k=" << k;  // the top-k cut is exercised
    }
    if (k == 10) {
      EXPECT_GT(fewer, 0);
    }
    EXPECT_GT(fallbacks, 0) << "k=" << k;
    if (k > 1) {
      EXPECT_GT(order_matters, 0) << "k=" << k;  // averaging before clipping changes some weights
    }
  }
  // The named fallbacks: d12 (never observed) -> cell mean; d13 (no shared cell type) -> its drug mean.
  const Dnpp dnpp;
  const Eigen::MatrixXd fallback =
      dnpp.impute(world, rc.table, rc.train, {rc.table.entry(0, 12), rc.table.entry(1, 13)});
  const auto cell0 = brute_mean(rc, [](std::int64_t u, std::int64_t) { return u == 0; }).first;
  const auto drug13 = rc.table.signature(rc.table.entry(4, 13));
  EXPECT_LT((fallback.col(0) - cell0).norm(), kTol * (1 + cell0.norm()));
  EXPECT_LT((fallback.col(1) - drug13).norm(), kTol * (1 + drug13.norm()));
}

TEST(Dnpp, DistributedIsBitIdenticalToOneRank) {
  const engine::Context world, self(MPI_COMM_SELF);
  const RandomCase rc;
  const auto queries = non_training_entries(rc);
  DnppParams params;
  params.k = 3;
  const Dnpp dnpp(params);
  EXPECT_TRUE(dnpp.impute(world, rc.table, rc.train, queries) == dnpp.impute(self, rc.table, rc.train, queries));
  EXPECT_TRUE(dnpp_similarity(world, rc.table, rc.train) == dnpp_similarity(self, rc.table, rc.train));
  // Fewer queries than ranks, and none at all.
  const std::vector<std::int64_t> one = {queries.front()};
  EXPECT_TRUE(dnpp.impute(world, rc.table, rc.train, one) == dnpp.impute(self, rc.table, rc.train, one));
  EXPECT_EQ(dnpp.impute(world, rc.table, rc.train, {}).cols(), 0);
}

// 150 drugs: the similarity is computed in three blocks of 64 rows (dnpp.cpp), and the correlations between
// blocks come from products of other shapes than those within one. Same answers as brute force, exactly
// symmetric, and bit-identical on every rank count (the blocks do not depend on it).
TEST(Dnpp, BlocksOfDrugsGiveTheBruteForceAnswer) {
  const engine::Context world, self(MPI_COMM_SELF);
  const RandomCase rc(150, 24);
  const Eigen::MatrixXd s = dnpp_similarity(world, rc.table, rc.train);
  for (std::int64_t a = 0; a < 150; ++a)
    for (std::int64_t b = 0; b < 150; ++b) {
      ASSERT_NEAR(s(a, b), brute_similarity(rc, a, b), kTol) << a << "," << b;
      ASSERT_EQ(s(a, b), s(b, a)) << a << "," << b;
    }
  EXPECT_TRUE(s == dnpp_similarity(self, rc.table, rc.train));
  DnppParams params;
  params.k = 3;
  const Dnpp dnpp(params);
  const auto queries = non_training_entries(rc);
  const Eigen::MatrixXd predicted = dnpp.impute(world, rc.table, rc.train, queries);
  EXPECT_TRUE(predicted == dnpp.impute(self, rc.table, rc.train, queries));
  for (std::size_t q = 0; q < queries.size(); q += 7) {
    const auto expected = brute_predict(rc, rc.table.cell_of(queries[q]), rc.table.pert_of(queries[q]), 3).value;
    EXPECT_LT((predicted.col(Eigen::Index(q)) - expected).norm(), kTol * (1 + expected.norm())) << q;
  }
}

// Hand-made: 2 cell types (A, B) x 5 drugs x 3 genes; B/d4 and B/d5 are to be predicted.
//   A: d1 = (1,3,2)  centred (-1, 1, 0)     B: d1 = (1,0,0)  centred (2,-1,-1)/3
//      d2 = (3,2,1)  centred ( 1, 0,-1)        d2 = (0,1,0)
//      d3 = (0,2,4)  centred (-2, 0, 2)        d3 = (0,0,2)  centred (-2,-2,4)/3
//      d4 = (1,2,3)  centred (-1, 0, 1)        d4, d5 not measured; d5 is measured nowhere
// d4 trains only in A, so s(d4, j) = max(0, r_A(d4, j)):
//   r_A(d4, d1) = 1 / (sqrt2 sqrt2) = 0.5;  r_A(d4, d2) = -2 / 2 = -1 -> 0;  r_A(d4, d3) = 4 / (sqrt2 sqrt8) = 1.
// Mean over shared cell types before clipping: s(d1, d3) = (r_A + r_B) / 2 = (0.5 + (-0.5)) / 2 = 0, where
//   r_A(d1, d3) = 2 / (sqrt2 sqrt8) = 0.5, r_B(d1, d3) = (-6/9) / ((sqrt6/3) (sqrt24/3)) = -0.5
//   (clipping each cell first would give 0.25 instead).
// B/d4 with k = 10: neighbours d3 (1) and d1 (0.5): (1 (0,0,2) + 0.5 (1,0,0)) / 1.5 = (1/3, 0, 4/3).
// B/d4 with k = 1: d3 only: (0, 0, 2).
// B/d5: no similarity (d5 never trains) -> no drug mean -> B's cell mean ((1,0,0)+(0,1,0)+(0,0,2))/3.
TEST(Dnpp, HandMadeTwoCellExample) {
  const engine::Context world;
  io::PerturbationTable t;
  t.genes = {"g1", "g2", "g3"};
  t.cells = {"A", "B"};
  t.perts = {"d1", "d2", "d3", "d4", "d5"};
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(3, t.num_entries());
  t.observed.assign(std::size_t(t.num_entries()), 0);
  auto set = [&](std::int64_t c, std::int64_t d, double g1, double g2, double g3) {
    dense.col(t.entry(c, d)) << g1, g2, g3;
    t.observed[std::size_t(t.entry(c, d))] = 1;
  };
  set(0, 0, 1, 3, 2);
  set(0, 1, 3, 2, 1);
  set(0, 2, 0, 2, 4);
  set(0, 3, 1, 2, 3);
  set(1, 0, 1, 0, 0);
  set(1, 1, 0, 1, 0);
  set(1, 2, 0, 0, 2);
  t.set_dense(dense);
  t.replicates.assign(t.observed.begin(), t.observed.end());
  const std::vector<std::uint8_t> train = t.observed;

  const Eigen::MatrixXd s = dnpp_similarity(world, t, train);
  EXPECT_NEAR(s(3, 0), 0.5, kTol);
  EXPECT_EQ(s(3, 1), 0.0);
  EXPECT_NEAR(s(3, 2), 1.0, kTol);
  EXPECT_NEAR(s(0, 2), 0.0, kTol);

  const std::vector<std::int64_t> queries = {t.entry(1, 3), t.entry(1, 4)};
  const Eigen::MatrixXd k10 = Dnpp().impute(world, t, train, queries);
  EXPECT_NEAR(k10(0, 0), 1.0 / 3, kTol);
  EXPECT_NEAR(k10(1, 0), 0.0, kTol);
  EXPECT_NEAR(k10(2, 0), 4.0 / 3, kTol);
  EXPECT_NEAR(k10(0, 1), 1.0 / 3, kTol);
  EXPECT_NEAR(k10(1, 1), 1.0 / 3, kTol);
  EXPECT_NEAR(k10(2, 1), 2.0 / 3, kTol);

  MethodParams params;
  params.dnpp.k = 1;
  const Eigen::MatrixXd k1 = make_imputer("dnpp", params)->impute(world, t, train, {t.entry(1, 3)});
  EXPECT_NEAR(k1(0, 0), 0.0, kTol);
  EXPECT_NEAR(k1(1, 0), 0.0, kTol);
  EXPECT_NEAR(k1(2, 0), 2.0, kTol);
}

TEST(Dnpp, RejectsBadInput) {
  const engine::Context world;
  DnppParams params;
  params.k = 0;
  EXPECT_THROW(Dnpp{params}, Error);
  MethodParams method;
  method.dnpp.k = -1;
  EXPECT_THROW(method.validate(), Error);
  const RandomCase rc;
  const Dnpp dnpp;
  EXPECT_THROW(dnpp.impute(world, rc.table, std::vector<std::uint8_t>(3, 1), {0}), Error);
  EXPECT_THROW(dnpp.impute(world, rc.table, rc.train, {rc.table.num_entries()}), Error);
  EXPECT_THROW(dnpp.impute(world, rc.table, std::vector<std::uint8_t>(rc.train.size(), 0), {0}), Error);
}

// Through cross_validate (collective folds): same predictions on any rank count.
TEST(Dnpp, CrossValidationMatchesOneRank) {
  const engine::Context world, self(MPI_COMM_SELF);
  const RandomCase rc;
  ProtocolOptions options;
  options.folds = 3;
  options.min_drugs = 2;
  const FoldPlan plan = make_folds(rc.table, options);
  const Dnpp dnpp;
  const CvPredictions distributed = cross_validate(world, dnpp, rc.table, plan);
  const CvPredictions serial = cross_validate(self, dnpp, rc.table, plan);
  EXPECT_EQ(distributed.entries, serial.entries);
  EXPECT_TRUE(distributed.predicted == serial.predicted);
}

}  // namespace
}  // namespace tessera::solvers::imputation
