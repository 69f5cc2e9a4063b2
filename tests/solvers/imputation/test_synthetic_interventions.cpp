// Synthetic interventions (solvers/imputation/synthetic_interventions.h): exact recovery of linear combinations,
// singular-value thresholding, the greedy donor choice, the fallbacks, and the truncated least squares against a
// direct SVD. Runs at 1, 2 and 3 ranks: the distributed answer must be bit-identical to the one-rank answer.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "solvers/imputation/synthetic_interventions.h"
#include "solvers/registry.h"

namespace tessera::solvers::imputation {
namespace {

// "g12": built by append (GCC 12 warns falsely about operator+ on a literal and a temporary).
std::string id(const char* prefix, int number) {
  std::string text = prefix;
  text += std::to_string(number);
  return text;
}

io::PerturbationTable empty_table(int cells, int drugs, int genes) {
  io::PerturbationTable t;
  for (int g = 0; g < genes; ++g) t.genes.push_back(id("g", g));
  for (int c = 0; c < cells; ++c) t.cells.push_back(id("c", c));
  for (int d = 0; d < drugs; ++d) t.perts.push_back(id("d", d));
  t.observed.assign(std::size_t(t.num_entries()), 0);
  t.replicates.assign(std::size_t(t.num_entries()), 0);
  t.index_observed();
  return t;
}

// Measures entry (c, d) as v (re-indexing the table's observed entries: fine for these small tables).
void set(io::PerturbationTable& t, std::int64_t c, std::int64_t d, const Eigen::VectorXd& v) {
  Eigen::MatrixXd dense = t.dense_rows(0, t.num_genes());
  dense.col(t.entry(c, d)) = v;
  t.observed[std::size_t(t.entry(c, d))] = 1;
  t.replicates[std::size_t(t.entry(c, d))] = 1;
  t.set_dense(dense);
}

Eigen::VectorXd normal_vector(engine::RandomStream& stream, Eigen::Index n) {
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = stream.normal();
  return v;
}

// Drug 0 = 0.7 d1 - 1.3 d2 + 0.4 d3 in every cell type; d4, d5 are unrelated; all measured but (c2, d0).
TEST(SyntheticInterventions, RecoversExactLinearCombination) {
  const engine::Context world;
  auto t = empty_table(5, 6, 8);
  engine::RandomStream stream(3, "test/si-exact");
  Eigen::VectorXd truth;  // (c2, d0), not observed
  for (int c = 0; c < 5; ++c) {
    for (int d = 1; d < 6; ++d) set(t, c, d, normal_vector(stream, 8));
    const Eigen::VectorXd target =
        0.7 * t.signature(t.entry(c, 1)) - 1.3 * t.signature(t.entry(c, 2)) + 0.4 * t.signature(t.entry(c, 3));
    if (c != 2)
      set(t, c, 0, target);
    else
      truth = target;
  }
  const std::vector<std::uint8_t> train = t.observed;
  for (const int donors : {3, 5, 10}) {
    for (const bool intercept : {false, true}) {
      SiParams params;
      params.num_donors = donors;
      params.intercept = intercept;
      const Eigen::MatrixXd predicted = SyntheticInterventions(params).impute(world, t, train, {t.entry(2, 0)});
      EXPECT_LT((predicted.col(0) - truth).norm(), 1e-10 * truth.norm()) << donors << " " << intercept;
    }
  }
  // With 3 donors the greedy choice keeps the lowest indices on ties: exactly d1, d2, d3 over all 4 cell types.
  const SiDesign design = si_design(t, train, 2, 0, 3);
  EXPECT_EQ(design.donors, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(design.training_cells, (std::vector<std::int64_t>{0, 1, 3, 4}));
}

// Training cell types: d2 = d1 + 1e-6 e (nearly collinear) and a = (d1 + d2) / 2 + 0.01 noise. In the target
// cell type d1 and d2 differ a lot. Plain least squares fits the noise along the tiny direction d2 - d1 with a
// coefficient ~ 0.01 / 1e-6 and multiplies that difference in the target cell; thresholding drops it.
TEST(SyntheticInterventions, ThresholdingDropsTinySingularDirection) {
  const engine::Context world;
  const int genes = 20;
  auto t = empty_table(5, 3, genes);
  engine::RandomStream stream(5, "test/si-threshold");
  for (int c = 0; c < 4; ++c) {
    const Eigen::VectorXd d1 = normal_vector(stream, genes);
    const Eigen::VectorXd d2 = d1 + 1e-6 * normal_vector(stream, genes);
    set(t, c, 1, d1);
    set(t, c, 2, d2);
    set(t, c, 0, 0.5 * (d1 + d2) + 0.01 * normal_vector(stream, genes));
  }
  const Eigen::VectorXd v = normal_vector(stream, genes), w = normal_vector(stream, genes);
  set(t, 4, 1, v);
  set(t, 4, 2, w);
  const Eigen::VectorXd truth = 0.5 * (v + w);
  const std::vector<std::uint8_t> train = t.observed;
  auto error = [&](double threshold, int rank) {
    SiParams params;
    params.sv_threshold = threshold;
    params.rank = rank;
    const Eigen::MatrixXd predicted = SyntheticInterventions(params).impute(world, t, train, {t.entry(4, 0)});
    return (predicted.col(0) - truth).norm() / truth.norm();
  };
  const double plain = error(0.0, 0), thresholded = error(1e-3, 0), rank_one = error(0.0, 1);
  EXPECT_GT(plain, 10.0);  // noise amplified by ~1e4
  EXPECT_LT(thresholded, 0.05);
  EXPECT_LT(rank_one, 0.05);
  EXPECT_GT(plain, 100 * thresholded);
  EXPECT_NEAR(thresholded, rank_one, 1e-12);  // the same single direction is kept
}

// cells(a) = {1, 2, 3, 4}; candidates in c0: d1 in {0,1,2}, d2 in {0,1,2,3}, d3 in {0,3,4}, d4 in {0,...,4}.
// Greedy: d4 keeps 4 (T unchanged), then d2 keeps 3 (T = {1,2,3}), then d1 keeps 2 (T = {1,2}), then d3 keeps 0:
// stop. With 2 donors: d4, d2 and T = {1, 2, 3}.
TEST(SyntheticInterventions, GreedyDonorChoice) {
  auto t = empty_table(5, 5, 2);
  const Eigen::VectorXd v = Eigen::VectorXd::Ones(2);
  for (int c : {1, 2, 3, 4}) set(t, c, 0, v);
  for (int c : {0, 1, 2}) set(t, c, 1, v);
  for (int c : {0, 1, 2, 3}) set(t, c, 2, v);
  for (int c : {0, 3, 4}) set(t, c, 3, v);
  for (int c : {0, 1, 2, 3, 4}) set(t, c, 4, v);
  const std::vector<std::uint8_t> train = t.observed;
  const SiDesign all = si_design(t, train, 0, 0, 10);
  EXPECT_EQ(all.donors, (std::vector<std::int64_t>{1, 2, 4}));
  EXPECT_EQ(all.training_cells, (std::vector<std::int64_t>{1, 2}));
  const SiDesign two = si_design(t, train, 0, 0, 2);
  EXPECT_EQ(two.donors, (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(two.training_cells, (std::vector<std::int64_t>{1, 2, 3}));
  // An entry left out of `train` is never used: without c4/d4, d4 keeps only {1, 2, 3}.
  auto partial = train;
  partial[std::size_t(t.entry(4, 4))] = 0;
  EXPECT_EQ(si_design(t, partial, 0, 0, 1).training_cells, (std::vector<std::int64_t>{1, 2, 3}));
}

// Fallbacks to the drug mean (then the cell mean): no training cell type for a, no candidate in c, no overlap.
TEST(SyntheticInterventions, Fallbacks) {
  const engine::Context world;
  auto t = empty_table(3, 4, 2);
  auto vec = [](double a, double b) { return Eigen::Vector2d(a, b); };
  set(t, 0, 0, vec(1, 2));  // d0 only in c0
  set(t, 0, 1, vec(3, 4));
  set(t, 1, 1, vec(5, 6));
  set(t, 1, 2, vec(7, 8));   // d2 only in c1
  set(t, 2, 3, vec(9, 10));  // c2 holds only d3, measured nowhere else
  const std::vector<std::uint8_t> train = t.observed;
  const SyntheticInterventions si;
  // (c1, d0): cells(d0) minus c1 = {c0}; candidates in c1: d1 (in c0) -> a real regression, not a fallback.
  // (c2, d0): candidates in c2: d3, which shares no cell type with d0 -> drug mean of d0 = (1, 2).
  // (c1, d3): cells(d3) minus c1 = {c2}; candidates in c1: d1, d2, neither in c2 -> drug mean of d3 = (9, 10).
  // (c0, d2): cells(d2) = {c1}; candidates in c0: d0 (not in c1), d1 (in c1) -> regression d2 ~ d1 on c1.
  // (c2, d1): cells(d1) = {c0, c1}; candidates in c2: d3 -> no overlap -> drug mean of d1 = (4, 5).
  const Eigen::MatrixXd p = si.impute(world, t, train, {t.entry(2, 0), t.entry(1, 3), t.entry(2, 1), t.entry(0, 2)});
  EXPECT_NEAR((p.col(0) - vec(1, 2)).norm(), 0.0, 1e-12);
  EXPECT_NEAR((p.col(1) - vec(9, 10)).norm(), 0.0, 1e-12);
  EXPECT_NEAR((p.col(2) - vec(4, 5)).norm(), 0.0, 1e-12);
  // (c0, d2) regression: beta = <(5,6),(7,8)> / |(5,6)|^2 = 83/61, prediction beta (3, 4).
  EXPECT_NEAR((p.col(3) - 83.0 / 61.0 * vec(3, 4)).norm(), 0.0, 1e-12);
  // A drug with no training entry at all falls back to the cell mean of c: mask d0 out, predict (c1, d0).
  auto no_d0 = train;
  no_d0[std::size_t(t.entry(0, 0))] = 0;
  const Eigen::MatrixXd q = si.impute(world, t, no_d0, {t.entry(1, 0)});
  EXPECT_NEAR((q.col(0) - vec(6, 7)).norm(), 0.0, 1e-12);  // mean of (5,6) and (7,8)
}

// The QR + small-SVD solve equals the truncated pseudo-inverse computed directly from a JacobiSVD of x.
TEST(SyntheticInterventions, TruncatedLeastSquaresMatchesDirectSvd) {
  engine::RandomStream stream(9, "test/si-lsq");
  for (const auto& [rows, cols] : std::vector<std::pair<int, int>>{{40, 6}, {7, 7}, {4, 9}}) {
    Eigen::MatrixXd x(rows, cols);
    for (int j = 0; j < cols; ++j) x.col(j) = normal_vector(stream, rows) * std::pow(10.0, -j / 2.0);
    const Eigen::VectorXd y = normal_vector(stream, rows);
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    for (const double threshold : {0.0, 0.05, 0.5}) {
      for (const int rank : {0, 2}) {
        Eigen::VectorXd expected = Eigen::VectorXd::Zero(cols);
        for (Eigen::Index i = 0; i < s.size(); ++i)
          if (s(i) > threshold * s(0) && (rank == 0 || i < rank))
            expected += svd.matrixV().col(i) * svd.matrixU().col(i).dot(y) / s(i);
        const Eigen::VectorXd beta = truncated_least_squares(x, y, threshold, rank);
        EXPECT_LT((beta - expected).norm(), 1e-10 * (1 + expected.norm()))
            << rows << "x" << cols << " threshold " << threshold << " rank " << rank;
      }
    }
  }
}

TEST(SyntheticInterventions, DistributedIsBitIdenticalToOneRank) {
  const engine::Context world, self(MPI_COMM_SELF);
  auto t = empty_table(6, 20, 10);
  engine::RandomStream stream(13, "test/si-ranks");
  for (std::int64_t e = 0; e < t.num_entries(); ++e)
    if (stream.uniform() < 0.6) set(t, t.cell_of(e), t.pert_of(e), normal_vector(stream, 10));
  std::vector<std::uint8_t> train = t.observed;
  std::vector<std::int64_t> queries;
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    if (train[std::size_t(e)] && stream.uniform() < 0.2) train[std::size_t(e)] = 0;
    if (!train[std::size_t(e)]) queries.push_back(e);
  }
  for (const bool intercept : {false, true}) {
    MethodParams params;
    params.si.intercept = intercept;
    params.si.sv_threshold = 0.01;
    params.si.num_donors = 4;
    const auto si = make_imputer("synthetic_interventions", params);
    ASSERT_TRUE(si->distributes_itself(world, t));
    const Eigen::MatrixXd distributed = si->impute(world, t, train, queries);
    EXPECT_TRUE(distributed == si->impute(self, t, train, queries));
    EXPECT_TRUE(distributed.allFinite());
  }
}

TEST(SyntheticInterventions, RejectsBadInput) {
  const engine::Context world;
  for (const auto& bad : {SiParams{0, 0.0, 0, false}, SiParams{10, -0.1, 0, false}, SiParams{10, 1.0, 0, false},
                          SiParams{10, NAN, 0, false}, SiParams{10, 0.0, -1, false}}) {
    EXPECT_THROW(SyntheticInterventions{bad}, Error);
  }
  auto t = empty_table(2, 2, 2);
  set(t, 0, 0, Eigen::Vector2d(1, 2));
  const SyntheticInterventions si;
  EXPECT_THROW(si.impute(world, t, std::vector<std::uint8_t>(1, 1), {0}), Error);
  EXPECT_THROW(si.impute(world, t, t.observed, {4}), Error);
  EXPECT_THROW(si.impute(world, t, std::vector<std::uint8_t>(4, 0), {1}), Error);
}

}  // namespace
}  // namespace tessera::solvers::imputation
