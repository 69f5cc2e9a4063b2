// NTK + DNPP (solvers/ntk/ntk_dnpp.h) and its explicit-feature kernel (solvers/ntk/kernel/explicit_kernel.h). Runs at
// 1, 2 and 3 ranks: queries in rich cell types must equal a brute-force regression on explicit features (one-hot block
// written out, dense solve) with DNPP's predictions as query features; the other queries must equal the plain NTK
// imputer with ntk_alpha = ntk_dnpp_plain_alpha.
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "solvers/imputation/dnpp.h"
#include "solvers/ntk/kernel/explicit_kernel.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/ntk_dnpp.h"
#include "solvers/registry.h"

namespace tessera::solvers::ntk {
namespace {

// Distributed solves (ScaLAPACK on 2 and 3 ranks) agree with a dense one to summation order.
constexpr double kTol = 1e-8;

double relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

// 5 cell types x 40 drugs x 12 genes: cells 0 and 1 measure 30 drugs each, the others about 12; signatures share
// a drug effect across cell types.
io::PerturbationTable make_table() {
  io::PerturbationTable t;
  const int cells = 5, perts = 40, genes = 12;
  char id[16];
  for (int g = 0; g < genes; ++g) std::snprintf(id, sizeof id, "g%d", g), t.genes.push_back(id);
  for (int c = 0; c < cells; ++c) std::snprintf(id, sizeof id, "cell%d", c), t.cells.push_back(id);
  for (int p = 0; p < perts; ++p) std::snprintf(id, sizeof id, "drug%d", p), t.perts.push_back(id);
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(genes, cells * perts);
  t.observed.assign(std::size_t(cells * perts), 0);
  engine::RandomStream random(5, "test/ntk-dnpp");
  Eigen::MatrixXd drug(genes, perts), cell(genes, cells);
  for (Eigen::Index k = 0; k < drug.size(); ++k) drug.data()[k] = random.normal();
  for (Eigen::Index k = 0; k < cell.size(); ++k) cell.data()[k] = 0.5 * random.normal();
  for (int c = 0; c < cells; ++c)
    for (int p = 0; p < perts; ++p) {
      if (!(c < 2 ? p < 30 : random.bernoulli(0.3))) continue;
      const auto e = t.entry(c, p);
      t.observed[std::size_t(e)] = 1;
      for (int g = 0; g < genes; ++g) dense(g, e) = drug(g, p) * (1 + 0.3 * c) + cell(g, c) + 0.2 * random.normal();
    }
  t.set_dense(dense);
  t.replicates.assign(t.observed.begin(), t.observed.end());
  t.controls = Eigen::MatrixXd::Zero(genes, cells);
  t.control_counts.assign(std::size_t(cells), 0);
  return t;
}

// The rich-cell regression by brute force, as the published code builds it: features [alpha |m| cbar_c, m, beta
// one-hot over all regression rows, training and query] written out, rows normalised, K = NTK(rho) with
// rho_ii = 1, dense LU solve.
Eigen::MatrixXd brute_force(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                            const std::vector<std::int64_t>& queries, const Eigen::MatrixXd& dnpp, double alpha,
                            double beta) {
  const Eigen::Index genes = table.num_genes();
  Eigen::MatrixXd cbar = Eigen::MatrixXd::Zero(genes, table.num_cells());
  std::vector<std::int64_t> rows;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (train[std::size_t(e)] && table.observed[std::size_t(e)])
      rows.push_back(e), cbar.col(table.cell_of(e)) += table.signature(e);
  cbar.colwise().normalize();
  const auto n = Eigen::Index(rows.size()), q = Eigen::Index(queries.size());
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(2 * genes + n + q, n + q);
  auto fill = [&](Eigen::Index col, const Eigen::VectorXd& m, std::int64_t cell) {
    x.col(col).head(genes) = alpha * m.norm() * cbar.col(cell);
    x.col(col).segment(genes, genes) = m;
  };
  for (Eigen::Index i = 0; i < n; ++i)
    fill(i, table.signature(rows[std::size_t(i)]), table.cell_of(rows[std::size_t(i)]));
  for (Eigen::Index j = 0; j < q; ++j) fill(n + j, dnpp.col(j), table.cell_of(queries[std::size_t(j)]));
  x.bottomRows(n + q) = beta * Eigen::MatrixXd::Identity(n + q, n + q);  // every regression row, queries too
  x.colwise().normalize();
  Eigen::MatrixXd k = x.transpose() * x;
  k.diagonal().setOnes();
  apply_ntk(NtkShape{}, k.data(), k.size());
  Eigen::MatrixXd y(n, genes);
  for (Eigen::Index i = 0; i < n; ++i) y.row(i) = table.signature(rows[std::size_t(i)]).transpose();
  return (k.topRightCorner(n, q).transpose() * k.topLeftCorner(n, n).partialPivLu().solve(y)).transpose();
}

TEST(NtkDnpp, RichCellsMatchBruteForceAndOthersMatchThePlainPrior) {
  const engine::Context world, self(MPI_COMM_SELF);
  const auto table = make_table();
  // Hold out 6 measured drugs of cells 0 and 1 (24 training drugs left: rich at a threshold of 20) and query
  // every unmeasured pair of cells 2-4 (about 12 training drugs: plain).
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  std::vector<std::int64_t> rich, plain, queries;
  for (int c = 0; c < 2; ++c)
    for (int p = 24; p < 30; ++p) train[std::size_t(table.entry(c, p))] = 0, rich.push_back(table.entry(c, p));
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (table.cell_of(e) >= 2 && !table.observed[std::size_t(e)]) plain.push_back(e);
  queries = plain;
  queries.insert(queries.begin() + 3, rich.begin(), rich.end());  // interleaved: the output keeps query order

  NtkDnppParams params;
  params.min_training_drugs = 20;
  NtkParams ntk;
  ntk.solve.solver = KernelSolverRequest::kExact;
  const imputation::DnppParams dnpp;
  const Eigen::MatrixXd predicted = NtkDnppImputer(params, ntk, dnpp).impute(world, table, train, queries);
  ASSERT_EQ(predicted.cols(), Eigen::Index(queries.size()));

  const Eigen::MatrixXd dnpp_rich = imputation::Dnpp(dnpp).impute(self, table, train, rich);
  const Eigen::MatrixXd expected_rich = brute_force(table, train, rich, dnpp_rich, ntk.alpha, ntk.beta);
  EXPECT_LT(relative(predicted.middleCols(3, Eigen::Index(rich.size())), expected_rich), kTol);
  // The regression is not DNPP itself: the kernel moves the predictions.
  EXPECT_GT(relative(expected_rich, dnpp_rich), 1e-3);

  NtkParams plain_params = ntk;
  plain_params.alpha = params.plain_alpha;
  const Eigen::MatrixXd expected_plain = NtkImputer(plain_params).impute(self, table, train, plain);
  Eigen::MatrixXd got_plain(table.num_genes(), Eigen::Index(plain.size()));
  got_plain << predicted.leftCols(3), predicted.rightCols(Eigen::Index(plain.size()) - 3);
  EXPECT_LT(relative(got_plain, expected_plain), kTol);
}

TEST(NtkDnpp, ExplicitKernelTilesMatchTheDenseKernel) {
  engine::RandomStream random(9, "test/explicit-kernel");
  Eigen::MatrixXd f(7, 11), queries(7, 4);
  for (Eigen::Index k = 0; k < f.size(); ++k) f.data()[k] = random.normal();
  for (Eigen::Index k = 0; k < queries.size(); ++k) queries.data()[k] = random.normal();
  const double beta = 0.8;
  const ExplicitFeatureKernel kernel(f, beta, NtkShape{2, 0.1});
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(7 + 15, 15);
  x.topLeftCorner(7, 11) = f;
  x.topRightCorner(7, 4) = queries;
  x.bottomRows(15) = beta * Eigen::MatrixXd::Identity(15, 15);  // a query has a one-hot coordinate of its own too
  x.colwise().normalize();
  Eigen::MatrixXd dense = x.transpose() * x;
  dense.diagonal().setOnes();
  apply_ntk(NtkShape{2, 0.1}, dense.data(), dense.size());
  Eigen::MatrixXd tile(5, 6), cross(4, 3);
  kernel.tile(3, 2, tile);  // straddles the diagonal
  EXPECT_LT((tile - dense.block(3, 2, 5, 6)).cwiseAbs().maxCoeff(), 1e-14);
  kernel.cross_tile(queries, inverse_scales(queries, beta), 6, 1, cross);
  EXPECT_LT((cross - dense.block(6, 11 + 1, 4, 3)).cwiseAbs().maxCoeff(), 1e-14);
  EXPECT_EQ(kernel.diagonal(0), ntk_diagonal(NtkShape{2, 0.1}));
  EXPECT_THROW(ExplicitFeatureKernel(Eigen::MatrixXd::Zero(3, 2), 0.0, NtkShape{}), Error);
}

TEST(NtkDnpp, RegisteredWithValidatedKnobs) {
  const auto imputer = make_imputer("ntk_dnpp", MethodParams{});
  EXPECT_EQ(imputer->name(), "ntk_dnpp");
  // Its kernel systems are the NTK's: a table whose solve fits no rank (ntk_memory_gb tiny) is solved by all.
  const engine::Context world;
  EXPECT_FALSE(imputer->distributes_itself(world, make_table()));
  MethodParams tiny;
  tiny.ntk.solve.memory_gb = 1e-12;
  EXPECT_TRUE(make_imputer("ntk_dnpp", tiny)->distributes_itself(world, make_table()));
  NtkDnppParams bad;
  bad.min_training_drugs = 0;
  EXPECT_THROW(bad.validate(), Error);
  bad = {};
  bad.plain_alpha = -1;
  EXPECT_THROW(bad.validate(), Error);
}

}  // namespace
}  // namespace tessera::solvers::ntk
