// The NTK as a function of rho (closed forms, the empirical NTK of wide random ReLU networks) and the pair
// features' rho from Gram tables against explicit feature vectors with the one-hot block. One rank.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "engine/error.h"
#include "engine/random.h"
#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/kernel/ntk_operator.h"

namespace tessera::solvers::ntk {
namespace {

constexpr double kPi = std::numbers::pi;

TEST(NtkKernel, DepthOneClosedForms) {
  const NtkShape one;
  EXPECT_DOUBLE_EQ(ntk_value(1.0, one), 2.0);
  EXPECT_NEAR(ntk_value(0.0, one), 1.0 / kPi, 1e-15);
  EXPECT_NEAR(ntk_value(-1.0, one), 0.0, 1e-15);
  // rho = 1/2: arccos = pi/3, kappa0 = 2/3, kappa1 = 1/3 + sqrt(3)/(2 pi).
  EXPECT_NEAR(ntk_value(0.5, one), 2.0 / 3.0 + std::sqrt(3.0) / (2 * kPi), 1e-15);
  EXPECT_NEAR(kappa0(0.5), 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(kappa1(0.5), 1.0 / 3.0 + std::sqrt(3.0) / (2 * kPi), 1e-15);
  // Rounding of normalised dot products past +-1 is clipped, as the published code does.
  EXPECT_DOUBLE_EQ(ntk_value(1.0 + 1e-12, one), 2.0);
  EXPECT_DOUBLE_EQ(ntk_diagonal(one), 2.0);
}

TEST(NtkKernel, DepthTwoHandDerived) {
  const NtkShape two{2, 0.0};
  // rho = 1: Sigma stays 1, Theta_1 = 2, Theta_2 = 1 + 2 = 3.
  EXPECT_NEAR(ntk_value(1.0, two), 3.0, 1e-15);
  // rho = -1: Sigma_1 = kappa1(-1) = 0, Theta_1 = 0; Sigma_2 = kappa1(0) = 1/pi, Theta_2 = 1/pi + 0.
  EXPECT_NEAR(ntk_value(-1.0, two), 1.0 / kPi, 1e-15);
  // rho = 0: Sigma_1 = Theta_1 = 1/pi; Theta_2 = kappa1(1/pi) + (1/pi) kappa0(1/pi).
  const double s = 1.0 / kPi, a = std::acos(s);
  const double expected = (s * (kPi - a) + std::sqrt(1 - s * s)) / kPi + s * (kPi - a) / kPi;
  EXPECT_NEAR(ntk_value(0.0, two), expected, 1e-15);
  EXPECT_NEAR(ntk_value(0.0, two), 0.6857086362829425, 1e-14);
  EXPECT_DOUBLE_EQ(ntk_diagonal(two), 3.0);
  EXPECT_NEAR(ntk_value(1.0, NtkShape{5, 0.0}), 6.0, 1e-13);
}

TEST(NtkKernel, BiasAppendsAConstantInput) {
  const double b = 0.7;
  for (const double rho : {-1.0, -0.3, 0.0, 0.4, 1.0}) {
    const double augmented = (rho + b * b) / (1 + b * b);
    EXPECT_NEAR(ntk_value(rho, NtkShape{1, b}), ntk_value(augmented, NtkShape{}), 1e-15);
    EXPECT_NEAR(ntk_value(rho, NtkShape{3, b}), ntk_value(augmented, NtkShape{3, 0.0}), 1e-14);
  }
  EXPECT_DOUBLE_EQ(ntk_value(1.0, NtkShape{1, b}), 2.0);
  // Antipodal inputs: rho' = (b^2 - 1) / (1 + b^2) > -1, so the kernel no longer vanishes there.
  EXPECT_NEAR(ntk_value(-1.0, NtkShape{1, b}), ntk_value((b * b - 1) / (1 + b * b), NtkShape{}), 1e-15);
  EXPECT_GT(ntk_value(-1.0, NtkShape{1, b}), 0.01);
}

TEST(NtkKernel, VectorisedTileMatchesScalar) {
  engine::RandomStream random(7, "test/ntk-apply");
  for (const NtkShape shape : {NtkShape{}, NtkShape{2, 0.0}, NtkShape{3, 0.4}}) {
    std::vector<double> values(1001);
    for (auto& v : values) v = random.uniform(-1.0, 1.0);
    values[0] = 1.0, values[1] = -1.0, values[2] = 1.0 + 4e-16, values[3] = -1.0 - 4e-16;
    auto transformed = values;
    apply_ntk(shape, transformed.data(), std::int64_t(transformed.size()));
    for (std::size_t k = 0; k < values.size(); ++k)
      EXPECT_NEAR(transformed[k], ntk_value(values[k], shape), 1e-15 * (1 + shape.depth)) << k;
  }
  std::vector<double> nan_in{NAN};
  apply_ntk(NtkShape{}, nan_in.data(), 1);
  EXPECT_TRUE(std::isnan(nan_in[0]));
}

TEST(NtkKernel, ShapeValidation) {
  EXPECT_THROW((NtkShape{0, 0.0}.validate()), Error);
  EXPECT_THROW((NtkShape{1, -1.0}.validate()), Error);
  EXPECT_THROW((NtkShape{1, NAN}.validate()), Error);
  EXPECT_NO_THROW((NtkShape{4, 0.5}.validate()));
}

// Unit vectors in R^d with chosen inner products to the first one.
std::vector<Eigen::VectorXd> test_inputs(int d) {
  engine::RandomStream random(3, "test/ntk-inputs");
  std::vector<Eigen::VectorXd> x;
  for (int k = 0; k < 5; ++k) {
    Eigen::VectorXd v(d);
    for (int i = 0; i < d; ++i) v(i) = random.normal();
    x.push_back(v.normalized());
  }
  x.push_back(-x[0]);  // rho = -1
  x.push_back(x[0]);   // rho = 1
  return x;
}

// Empirical NTK of f(x) = sqrt(2/m) v . relu(W x) (NTK parameterisation, standard normal weights):
// grad f(x) . grad f(x') = (2/m) sum_k [relu(w_k x) relu(w_k x') + v_k^2 1(w_k x > 0) 1(w_k x' > 0) x . x'].
// Each term is an average of m i.i.d. bounded-variance terms: its standard deviation is about 1.5 / sqrt(m)
// (m = 2^19 hidden units, 4 networks: about 1e-3), so the tolerance 6e-3 is about six standard deviations.
TEST(NtkKernel, MatchesEmpiricalNtkOfWideOneHiddenLayerNetworks) {
  const int d = 6, networks = 4;
  const std::int64_t m = std::int64_t(1) << 19;
  const auto x = test_inputs(d);
  const auto n = Eigen::Index(x.size());
  Eigen::MatrixXd gram(n, n), empirical = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) gram(i, j) = x[std::size_t(i)].dot(x[std::size_t(j)]);
  for (int net = 0; net < networks; ++net) {
    engine::RandomStream random(11, "test/ntk-empirical", std::uint64_t(net));
    Eigen::VectorXd w(d), pre(n);
    for (std::int64_t k = 0; k < m; ++k) {
      for (int i = 0; i < d; ++i) w(i) = random.normal();
      const double v = random.normal();
      for (Eigen::Index i = 0; i < n; ++i) pre(i) = w.dot(x[std::size_t(i)]);
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j <= i; ++j)
          empirical(i, j) += std::max(pre(i), 0.0) * std::max(pre(j), 0.0) +
                             v * v * double(pre(i) > 0) * double(pre(j) > 0) * gram(i, j);
    }
  }
  empirical *= 2.0 / double(m) / networks;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j <= i; ++j)
      EXPECT_NEAR(empirical(i, j), ntk_value(gram(i, j), NtkShape{}), 6e-3) << "rho = " << gram(i, j);
}

// Two hidden layers: f(x) = sqrt(2/m) v . relu(h2), h2 = sqrt(2/m) W2 relu(W1 x). The gradients with respect to
// v, W2 and W1 give the three terms of Theta_2 = Sigma_2 + kappa0(Sigma_1) (Sigma_1 + rho kappa0(rho)). At width
// m = 2000 one network fluctuates by O(1/sqrt(m)); the check is |mean - NTK| < 5 standard errors of the mean
// over 8 independent networks (plus 2e-3 for the O(1/m) finite-width bias).
TEST(NtkKernel, MatchesEmpiricalNtkOfWideTwoHiddenLayerNetworks) {
  const int d = 5, networks = 8, m = 2000;
  auto x = test_inputs(d);
  x.resize(4);
  x.push_back(-x[0]);
  const auto n = Eigen::Index(x.size());
  Eigen::MatrixXd inputs(d, n);
  for (Eigen::Index i = 0; i < n; ++i) inputs.col(i) = x[std::size_t(i)];
  const Eigen::MatrixXd gram = inputs.transpose() * inputs;
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(n, n), sum_sq = Eigen::MatrixXd::Zero(n, n);
  const double c = std::sqrt(2.0 / m);
  for (int net = 0; net < networks; ++net) {
    engine::RandomStream random(5, "test/ntk-empirical-2", std::uint64_t(net));
    Eigen::MatrixXd w1(m, d), w2(m, m);
    Eigen::VectorXd v(m);
    for (Eigen::Index k = 0; k < w1.size(); ++k) w1.data()[k] = random.normal();
    for (Eigen::Index k = 0; k < w2.size(); ++k) w2.data()[k] = random.normal();
    for (Eigen::Index k = 0; k < m; ++k) v(k) = random.normal();
    const Eigen::MatrixXd h1 = w1 * inputs;           // m x n
    const Eigen::MatrixXd a1 = c * h1.cwiseMax(0.0);  // first-layer activations
    const Eigen::MatrixXd h2 = w2 * a1;               // m x n
    const Eigen::MatrixXd a2 = h2.cwiseMax(0.0);
    // Back-propagated signals: df/dh2 = c v 1(h2 > 0); df/dh1 = c (W2^T df/dh2) 1(h1 > 0).
    const Eigen::MatrixXd g2 = (c * v).asDiagonal() * (h2.array() > 0).cast<double>().matrix();
    const Eigen::MatrixXd g1 = (c * (w2.transpose() * g2)).cwiseProduct((h1.array() > 0).cast<double>().matrix());
    // <df/dv> + <df/dW2> + <df/dW1>.
    const Eigen::MatrixXd ntk = c * c * (a2.transpose() * a2) +
                                (g2.transpose() * g2).cwiseProduct(a1.transpose() * a1) +
                                (g1.transpose() * g1).cwiseProduct(gram);
    sum += ntk;
    sum_sq += ntk.cwiseProduct(ntk);
  }
  const Eigen::MatrixXd mean = sum / networks;
  const Eigen::MatrixXd variance = (sum_sq / networks - mean.cwiseProduct(mean)) * (double(networks) / (networks - 1));
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j <= i; ++j) {
      const double standard_error = std::sqrt(std::max(0.0, variance(i, j)) / networks);
      EXPECT_NEAR(mean(i, j), ntk_value(gram(i, j), NtkShape{2, 0.0}), 5 * standard_error + 2e-3)
          << "rho = " << gram(i, j) << ", standard error " << standard_error;
    }
}

// --- pair features ---

// "prefix" followed by k (built with += : GCC 12 warns falsely on "literal" + std::to_string).
std::string numbered(const char* prefix, std::int64_t k) {
  std::string id(prefix);
  id += std::to_string(k);
  return id;
}

// A small table: 4 cell types x 9 drugs x 6 genes; cell 0 (the reference) measured drugs 0-6, the others a
// scattered subset; drug 8 is measured nowhere.
io::PerturbationTable small_table() {
  io::PerturbationTable t;
  const int cells = 4, perts = 9, genes = 6;
  for (int g = 0; g < genes; ++g) t.genes.push_back(numbered("g", g));
  for (int c = 0; c < cells; ++c) t.cells.push_back(numbered("c", c));
  for (int p = 0; p < perts; ++p) t.perts.push_back(numbered("d", p));
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(genes, cells * perts);
  t.observed.assign(std::size_t(cells * perts), 0);
  t.replicates.assign(std::size_t(cells * perts), 0);
  engine::RandomStream random(17, "test/ntk-table");
  Eigen::MatrixXd drug(genes, perts), cell(genes, cells);
  for (Eigen::Index k = 0; k < drug.size(); ++k) drug.data()[k] = random.normal();
  for (Eigen::Index k = 0; k < cell.size(); ++k) cell.data()[k] = random.normal();
  for (int c = 0; c < cells; ++c)
    for (int p = 0; p < perts - 1; ++p) {
      const bool seen = c == 0 ? p < 7 : random.bernoulli(0.6);
      if (!seen) continue;
      const auto e = t.entry(c, p);
      t.observed[std::size_t(e)] = 1;
      t.replicates[std::size_t(e)] = 1;
      for (int g = 0; g < genes; ++g) dense(g, e) = drug(g, p) + 0.5 * cell(g, c) + 0.2 * random.normal();
    }
  t.set_dense(dense);
  t.controls = Eigen::MatrixXd::Zero(genes, cells);
  t.control_counts.assign(std::size_t(cells), 0);
  return t;
}

// Features built directly from the definitions in features.h (no Gram tables).
Eigen::MatrixXd direct_features(const io::PerturbationTable& t, const std::vector<std::uint8_t>& train,
                                const FeatureOptions& o, const std::vector<std::int64_t>& entries) {
  const auto genes = t.num_genes(), cells = t.num_cells();
  auto trained = [&](std::int64_t c, std::int64_t p) {
    return train[std::size_t(t.entry(c, p))] && t.observed[std::size_t(t.entry(c, p))];
  };
  Eigen::MatrixXd cbar = Eigen::MatrixXd::Zero(genes, cells);
  for (std::int64_t c = 0; c < cells; ++c) {
    for (std::int64_t p = 0; p < t.num_perts(); ++p)
      if (trained(c, p)) cbar.col(c) += t.signature(t.entry(c, p));
    if (cbar.col(c).norm() > 0) cbar.col(c).normalize();
  }
  const bool similarity = o.prior == PriorKind::kSimilarity;
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(genes * (similarity ? 1 + cells : 2), Eigen::Index(entries.size()));
  // Mean priors.
  std::vector<std::int64_t> sources;
  if (o.prior == PriorKind::kReference)
    sources = o.reference_cells;
  else
    for (std::int64_t c = 0; c < cells; ++c) sources.push_back(c);
  Eigen::MatrixXd prior = Eigen::MatrixXd::Zero(genes, t.num_perts());
  std::vector<int> has(std::size_t(t.num_perts()), 0);
  Eigen::VectorXd fallback = Eigen::VectorXd::Zero(genes);
  int with_prior = 0;
  for (std::int64_t p = 0; p < t.num_perts(); ++p) {
    int n = 0;
    for (const auto c : sources)
      if (trained(c, p)) prior.col(p) += t.signature(t.entry(c, p)), ++n;
    if (n > 0) prior.col(p) /= n, has[std::size_t(p)] = 1, fallback += prior.col(p), ++with_prior;
  }
  fallback /= with_prior;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const auto c = t.cell_of(entries[k]), d = t.pert_of(entries[k]);
    Eigen::VectorXd m;
    if (!similarity) {
      m = has[std::size_t(d)] ? Eigen::VectorXd(prior.col(d)) : fallback;
      out.col(Eigen::Index(k)).segment(genes, genes) = m;
    } else {
      m = Eigen::VectorXd::Zero(genes * cells);
      bool any = false;
      for (std::int64_t a = 0; a < cells; ++a) any = any || (a != c && trained(a, d));
      double total = 0;
      int count = 0;
      std::vector<std::pair<std::int64_t, Eigen::VectorXd>> blocks;
      for (std::int64_t a = 0; a < cells; ++a) {
        if (a == c) continue;
        Eigen::VectorXd y = Eigen::VectorXd::Zero(genes);
        if (any) {
          if (!trained(a, d)) continue;
          y = t.signature(t.entry(a, d));
        } else {
          int n = 0;
          for (std::int64_t p = 0; p < t.num_perts(); ++p)
            if (trained(a, p)) y += t.signature(t.entry(a, p)), ++n;
          if (n == 0) continue;
          y /= n;
        }
        total += std::max(0.0, cbar.col(c).dot(cbar.col(a)));
        ++count;
        blocks.emplace_back(a, y);
      }
      for (const auto& [a, y] : blocks) {
        const double w = std::max(0.0, cbar.col(c).dot(cbar.col(a)));
        m.segment(a * genes, genes) = (total > 0 ? std::sqrt(w / total) : std::sqrt(1.0 / count)) * y;
      }
      out.col(Eigen::Index(k)).tail(genes * cells) = m;
    }
    out.col(Eigen::Index(k)).head(genes) = o.alpha * m.norm() * cbar.col(c);
  }
  return out;
}

struct FeatureCase {
  PriorKind prior;
  double beta;
};

class PairFeaturesTest : public ::testing::TestWithParam<FeatureCase> {};

// rho from the Gram tables equals the explicit construction: features with the one-hot block appended (one
// coordinate per regression row: training rows, then query rows), rows normalised, inner products.
TEST_P(PairFeaturesTest, ClosedFormRhoEqualsExplicitFeaturesWithOneHotBlock) {
  const auto table = small_table();
  std::vector<std::uint8_t> train(std::size_t(table.num_entries()), 0);
  std::vector<std::int64_t> train_entries, queries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (table.observed[std::size_t(e)] && e % 5 != 2)
      train[std::size_t(e)] = 1, train_entries.push_back(e);
    else
      queries.push_back(e);
  }
  FeatureOptions options;
  options.prior = GetParam().prior;
  options.beta = GetParam().beta;
  options.reference_cells = {0};
  const PairFeatures features(table, train, options);
  const auto rows = features.encode(train_entries), cols = features.encode(queries);

  // Our explicit features agree with the definitions.
  const Eigen::MatrixXd direct = direct_features(table, train, options, train_entries);
  const Eigen::MatrixXd mine = features.explicit_features(rows);
  ASSERT_EQ(direct.rows(), mine.rows());
  EXPECT_LT((direct - mine).norm(), 1e-12 * direct.norm());

  const auto n = rows.size(), q = cols.size();
  Eigen::MatrixXd full = Eigen::MatrixXd::Zero(mine.rows() + n + q, n + q);
  full.topLeftCorner(mine.rows(), n) = mine;
  full.block(0, n, mine.rows(), q) = features.explicit_features(cols);
  for (std::int64_t k = 0; k < n + q; ++k) full(mine.rows() + k, k) = options.beta;
  for (std::int64_t k = 0; k < n + q; ++k) full.col(k).normalize();
  Eigen::MatrixXd expected = full.transpose() * full;
  // A normalised row's dot product with itself is 1 only up to rounding (1 - 2e-16, say), and the NTK turns
  // that into 2 - 1e-8 (its slope sqrt(2 / (1 - rho)) / pi is unbounded at 1). The exact value is 1.
  const double worst_self = (expected.diagonal().array() - 1.0).abs().maxCoeff();
  EXPECT_LT(worst_self, 1e-15);
  expected.diagonal().setOnes();

  Eigen::MatrixXd train_rho(n, n), cross_rho(n, q);
  features.rho_tile(rows, 0, rows, 0, true, train_rho);
  features.rho_tile(rows, 0, cols, 0, false, cross_rho);
  EXPECT_LT((train_rho - expected.topLeftCorner(n, n)).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_LT((cross_rho - expected.topRightCorner(n, q)).cwiseAbs().maxCoeff(), 1e-13);

  // Tiles at an offset are the same entries.
  Eigen::MatrixXd part(5, 7);
  features.rho_tile(rows, 3, rows, 2, true, part);
  EXPECT_LT((part - train_rho.block(3, 2, 5, 7)).cwiseAbs().maxCoeff(), 1e-15);

  // The operator applies the NTK to the same rho.
  const NtkOperator op(std::make_shared<const PairFeatures>(features), rows, NtkShape{});
  Eigen::MatrixXd k(n, n);
  op.tile(0, 0, k);
  for (std::int64_t i = 0; i < n; ++i) {
    EXPECT_DOUBLE_EQ(op.diagonal(i), 2.0);
    EXPECT_DOUBLE_EQ(k(i, i), 2.0);
    for (std::int64_t j = 0; j < n; ++j) EXPECT_NEAR(k(i, j), ntk_value(expected(i, j), NtkShape{}), 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(Priors, PairFeaturesTest,
                         ::testing::Values(FeatureCase{PriorKind::kReference, 1.5},
                                           FeatureCase{PriorKind::kAllCells, 1.5},
                                           FeatureCase{PriorKind::kSimilarity, 1.5},
                                           FeatureCase{PriorKind::kReference, 0.3}));

TEST(PairFeatures, ReferencePriorUsesReferenceSignatureOrTheMeanOfThem) {
  const auto table = small_table();
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  FeatureOptions options;
  options.reference_cells = {0};
  const PairFeatures features(table, train, options);
  // Drug 3 was measured in the reference cell type: m is that signature. Drug 8 was not: the mean of drugs 0-6.
  const auto pairs = features.encode({table.entry(2, 3), table.entry(2, 8)});
  const Eigen::MatrixXd x = features.explicit_features(pairs);
  const auto g = table.num_genes();
  EXPECT_LT((x.col(0).tail(g) - table.signature(table.entry(0, 3))).norm(), 1e-14);
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(g);
  for (int p = 0; p < 7; ++p) mean += table.signature(table.entry(0, p)) / 7.0;
  EXPECT_LT((x.col(1).tail(g) - mean).norm(), 1e-14);
  EXPECT_EQ(pairs.fallback_pairs, 1);
}

// The tables' bytes, hand-derived for small_table (6 genes, 4 cell types, 9 drugs; cell c0 trains drugs 0-6):
// c-bar and its Gram 6 x 4 + 4 x 4 = 40 doubles everywhere; reference prior on c0: 7 priors + the fallback = 8
// slots, 6 x 8 vectors and the larger of the 8 x 8 Gram and the 6 x 9 build sums: 40 + 48 + 64 = 152 doubles.
// Similarity: per cell type a, n_a + 1 columns of 6 genes and their (n_a + 1)^2 Gram, plus a 4 x 9 int32 index.
TEST(PairFeatures, TableBytesAreWhatTheTablesHold) {
  const auto table = small_table();
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  FeatureOptions options;
  options.reference_cells = {0};
  EXPECT_EQ(PairFeatures::table_bytes(table, train, options), 8.0 * 152);
  options.prior = PriorKind::kSimilarity;
  double doubles = 40;
  for (std::int64_t a = 0; a < 4; ++a) {
    double n = 1;
    for (std::int64_t p = 0; p < 9; ++p) n += table.observed[std::size_t(table.entry(a, p))];
    doubles += 6 * n + n * n;
  }
  EXPECT_EQ(PairFeatures::table_bytes(table, train, options), 8.0 * doubles + 4.0 * 4 * 9);
}

TEST(PairFeatures, Errors) {
  auto table = small_table();
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  FeatureOptions options;
  options.reference_cells = {0};
  EXPECT_THROW(PairFeatures(table, std::vector<std::uint8_t>(3, 1), options), Error);
  options.alpha = -1;
  EXPECT_THROW(PairFeatures(table, train, options), Error);
  options.alpha = 0.75;
  // A reference cell type with no training entry.
  std::vector<std::uint8_t> no_reference = train;
  for (int p = 0; p < 9; ++p) no_reference[std::size_t(table.entry(0, p))] = 0;
  EXPECT_THROW(PairFeatures(table, no_reference, options), Error);
  // NaN in a training signature is an error naming the entry; in an entry outside training it is ignored.
  Eigen::MatrixXd dense = table.dense_rows(0, table.num_genes());
  dense(2, table.entry(1, 0)) = NAN;
  table.observed[std::size_t(table.entry(1, 0))] = 1;
  table.set_dense(dense);
  train[std::size_t(table.entry(1, 0))] = 1;
  try {
    PairFeatures features(table, train, options);
    FAIL() << "NaN accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'c1', perturbation 'd0'"), std::string::npos) << e.what();
  }
  train[std::size_t(table.entry(1, 0))] = 0;
  EXPECT_NO_THROW(PairFeatures(table, train, options));
  EXPECT_EQ(name_table(PriorKind{}).parse("all_cells", "ntk_prior"), PriorKind::kAllCells);
  EXPECT_THROW(name_table(PriorKind{}).parse("mcf7", "ntk_prior"), Error);
}

}  // namespace
}  // namespace tessera::solvers::ntk
