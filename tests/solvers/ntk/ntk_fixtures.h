// Shared by the NTK solver tests (test_ntk_exact, test_ntk_device): a simulated (cell type x drug) table, random
// matrices, the check that every rank holds the same answer, and the brute-force NTK regression from explicit feature
// vectors that every solver is checked against.
#pragma once

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/random.h"
#include "io/perturbation_table.h"
#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/kernel/ntk_operator.h"

namespace tessera::solvers::ntk::test {

inline Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  engine::RandomStream random(seed, "test/ntk-exact");
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = random.normal();
  return m;
}

// Every rank holds the root's bits.
inline void expect_same_on_every_rank(const engine::Context& ctx, const Eigen::MatrixXd& local) {
  Eigen::MatrixXd on_root = local;
  engine::broadcast(ctx, std::span<double>(on_root.data(), std::size_t(on_root.size())));
  EXPECT_EQ((on_root - local).cwiseAbs().maxCoeff(), 0.0);
}

inline double relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

// "prefix" followed by k (built with += : GCC 12 warns falsely on "literal" + std::to_string).
inline std::string numbered(const char* prefix, std::int64_t k) {
  std::string id(prefix);
  id += std::to_string(k);
  return id;
}

// A (cell type x drug) table with cell and drug effects: 5 cell types, 40 drugs, 30 genes; cell 0 measures 30
// drugs, the others about 45% of them.
inline io::PerturbationTable simulated_table(std::uint64_t seed) {
  io::PerturbationTable t;
  const int cells = 5, perts = 40, genes = 30;
  for (int g = 0; g < genes; ++g) t.genes.push_back(numbered("g", g));
  for (int c = 0; c < cells; ++c) t.cells.push_back(numbered("cell", c));
  for (int p = 0; p < perts; ++p) t.perts.push_back(numbered("drug", p));
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(genes, cells * perts);
  t.observed.assign(std::size_t(cells * perts), 0);
  t.replicates.assign(std::size_t(cells * perts), 0);
  engine::RandomStream random(seed, "test/ntk-simulated");
  const Eigen::MatrixXd drug = random_matrix(genes, perts, seed + 1), cell = random_matrix(genes, cells, seed + 2);
  for (int c = 0; c < cells; ++c)
    for (int p = 0; p < perts; ++p) {
      if (!(c == 0 ? p < 30 : random.bernoulli(0.45))) continue;
      const auto e = t.entry(c, p);
      t.observed[std::size_t(e)] = 1;
      t.replicates[std::size_t(e)] = 1;
      for (int g = 0; g < genes; ++g) dense(g, e) = drug(g, p) * (1 + 0.2 * c) + cell(g, c) + 0.3 * random.normal();
    }
  t.set_dense(dense);
  t.controls = Eigen::MatrixXd::Zero(genes, cells);
  t.control_counts.assign(std::size_t(cells), 0);
  return t;
}

// K_cross^T K^-1 Y by brute force, as the published code computes it: explicit features [cell block, drug block,
// beta one-hot over all regression rows], rows normalised, NTK of the clipped inner products, a dense LU solve
// (numpy.linalg.solve's algorithm). One difference, unless exact_diagonal is false: a normalised row's dot product
// with itself comes out as 1 - 1e-16 or so, and the NTK's unbounded slope at 1 turns that into K_ii = 2 - 1e-8;
// the exact value K_ii = NTK(1) is used instead, as the Gram-table path does.
inline Eigen::MatrixXd brute_force(const io::PerturbationTable& table, const PairFeatures& features,
                                   const std::vector<std::int64_t>& train_entries,
                                   const std::vector<std::int64_t>& queries, double beta, const NtkShape& shape,
                                   bool exact_diagonal = true) {
  const auto train_x = features.explicit_features(features.encode(train_entries));
  const auto query_x = features.explicit_features(features.encode(queries));
  const auto n = Eigen::Index(train_entries.size()), q = Eigen::Index(queries.size()), dim = train_x.rows();
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(dim + n + q, n + q);
  x.topLeftCorner(dim, n) = train_x;
  x.block(0, n, dim, q) = query_x;
  for (Eigen::Index k = 0; k < n + q; ++k) x(dim + k, k) = beta;
  x.colwise().normalize();
  Eigen::MatrixXd k = x.transpose() * x;
  if (exact_diagonal) k.diagonal().setOnes();
  apply_ntk(shape, k.data(), k.size());
  Eigen::MatrixXd y(n, table.num_genes());
  for (Eigen::Index i = 0; i < n; ++i) y.row(i) = table.signature(train_entries[std::size_t(i)]).transpose();
  const Eigen::MatrixXd alpha = k.topLeftCorner(n, n).partialPivLu().solve(y);
  return (k.topRightCorner(n, q).transpose() * alpha).transpose();  // genes x queries
}

// The kernel of every training pair outside the reference cell type cell0, with no one-hot term (beta = 0):
// drugs that cell0 never measured share the fallback prior, so in one cell type their rows coincide and the
// kernel is singular (what the jitter policy is for).
inline NtkOperator duplicate_rows_kernel(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train) {
  FeatureOptions options;
  options.beta = 0.0;
  options.reference_cells = {0};
  const auto features = std::make_shared<const PairFeatures>(table, train, options);
  std::vector<std::int64_t> train_entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (train[std::size_t(e)] && table.cell_of(e) != 0) train_entries.push_back(e);
  return NtkOperator(features, features->encode(train_entries), NtkShape{});
}

}  // namespace tessera::solvers::ntk::test
