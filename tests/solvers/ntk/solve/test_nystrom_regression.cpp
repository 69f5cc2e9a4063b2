// Nystrom kernel ridge regression (solvers/ntk/solve/nystrom_regression.h), at 1, 2 and 3 ranks, on the one-layer
// ReLU NTK of random unit vectors (tests/support/relu_ntk_kernel.h) and through the NTK imputer.
//
// Tolerances: K's condition number here is ~1e3, so G = K_NM^T K_NM has ~1e6 and the explicit preconditioned
// operator S carries rounding of about 1e-16 x 1e6; S is solved by Cholesky (by default) or by CG to 1e-13. Hence: M =
// N against the exact Cholesky solve 1e-8 relative (Frobenius norm); M < N against a dense Eigen solve of the same
// normal equations 1e-8; 2 and 3 ranks against 1 rank 1e-10 (only the order of the sums over ranks differs); the same
// rank count and seed twice: bit-identical.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "engine/random.h"
#include "engine/sharded_matrix.h"
#include "solvers/ntk/kernel/ntk_operator.h"
#include "solvers/ntk/ntk_imputer.h"
#include "solvers/ntk/solve/exact.h"
#include "solvers/ntk/solve/nystrom.h"
#include "solvers/ntk/solve/nystrom_regression.h"
#include "solvers/ntk/solve/solver_choice.h"
#include "tests/support/kernel_system.h"
#include "tests/support/relu_ntk_kernel.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::ntk {
namespace {

using tessera::testing::refusal_of;
using testing::ReluNtkKernel;
using testing::rows_of_this_rank;

constexpr std::int64_t kN = 300;
constexpr std::int64_t kGenes = 7;

Eigen::MatrixXd make_y(std::int64_t n, std::int64_t m, std::uint64_t seed) {
  return testing::random_right_hand_sides(n, m, seed, "test/nystrom-y");
}

double relative_error(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want) {
  return (got - want).norm() / want.norm();
}

NystromParams tight(std::int64_t centres, double ridge) {
  NystromParams p;
  p.centres = centres;
  p.ridge = ridge;
  p.tolerance = 1e-13;
  p.max_iterations = 1000;
  p.seed = 5;
  p.threads = 1;     // 3 ranks share 2 cores
  p.tile_rows = 37;  // several ragged tiles per rank
  return p;
}

// With every row a centre and no ridge, the Nystrom equations (K^2 / N) alpha = K Y / N are K alpha = Y.
TEST(NystromRegression, EveryRowACentreIsTheExactSolve) {
  const engine::Context world;
  const ReluNtkKernel kernel(kN, 32, 3);
  const Eigen::MatrixXd y = make_y(kN, kGenes, 1);
  const auto solved = solve_nystrom(world, kernel, rows_of_this_rank(world, y), tight(kN + 50, 0.0));  // clipped to N
  ASSERT_EQ(std::int64_t(solved.centres.size()), kN);
  for (std::int64_t i = 0; i < kN; ++i) ASSERT_EQ(solved.centres[std::size_t(i)], i);
  EXPECT_TRUE(solved.converged);

  engine::RowShardedMatrix rhs(world, kN, kGenes);
  rhs.local() = rows_of_this_rank(world, y);
  const auto exact = solve_exact(world, kernel, rhs);
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(kN, kGenes);
  x.middleRows(rhs.range().begin, rhs.range().size()) = exact.solution.local();
  engine::allreduce_sum(world, x);
  EXPECT_LT(relative_error(solved.alpha, x), 1e-8);
  EXPECT_TRUE(solved.direct);
  EXPECT_EQ(solved.iterations, 0);
  // CG on S instead of its Cholesky: S = I up to the jitter and rounding, so a few iterations.
  auto cg = tight(kN, 0.0);
  cg.direct = false;
  const auto iterated = solve_nystrom(world, kernel, rows_of_this_rank(world, y), cg);
  EXPECT_FALSE(iterated.direct);
  EXPECT_LT(iterated.iterations, 10);
  EXPECT_TRUE(iterated.converged);
  EXPECT_LT(relative_error(iterated.alpha, x), 1e-8);
}

// M < N: the same normal equations (K_NM^T K_NM + ridge d K_MM) alpha = K_NM^T Y, built densely here.
TEST(NystromRegression, MatchesDenseNormalEquations) {
  const engine::Context world;
  const ReluNtkKernel kernel(kN, 32, 4);
  const Eigen::MatrixXd y = make_y(kN, kGenes, 2);
  const std::int64_t m = 60;
  const double ridge = 1e-3;
  const auto solved = solve_nystrom(world, kernel, rows_of_this_rank(world, y), tight(m, ridge));
  const auto centres = NystromPreconditioner::sample_centres(kN, m, 5);
  ASSERT_EQ(solved.centres, centres);

  const Eigen::MatrixXd k = kernel.dense();
  Eigen::MatrixXd knm(kN, m), kmm(m, m);
  for (std::int64_t j = 0; j < m; ++j) knm.col(j) = k.col(centres[std::size_t(j)]);
  for (std::int64_t i = 0; i < m; ++i) kmm.row(i) = knm.row(centres[std::size_t(i)]);
  const double d = kmm.trace() / double(m);
  const Eigen::MatrixXd h = knm.transpose() * knm + ridge * d * kmm;
  const Eigen::MatrixXd want = h.ldlt().solve(knm.transpose() * y);
  EXPECT_LT(relative_error(solved.alpha, want), 1e-8);
  // The kernel's own rounding near rho = 1 (K_ii = 2 - 1e-8 or so, depending on the GEMM's blocking) differs
  // between its tiles and dense(): 1e-9 relative.
  EXPECT_NEAR(solved.lambda, ridge * d / double(kN), 1e-9 * solved.lambda);
  EXPECT_TRUE(solved.converged);
  EXPECT_TRUE(solved.direct);
  auto cg = tight(m, ridge);
  cg.direct = false;
  const auto iterated = solve_nystrom(world, kernel, rows_of_this_rank(world, y), cg);
  EXPECT_FALSE(iterated.direct);
  EXPECT_TRUE(iterated.converged);
  EXPECT_LT(relative_error(iterated.alpha, want), 1e-8);
}

TEST(NystromRegression, RanksAgreeAndSeedsRepeat) {
  const engine::Context world;
  const engine::Context self(MPI_COMM_SELF);
  const ReluNtkKernel kernel(kN, 32, 6);
  const Eigen::MatrixXd y = make_y(kN, kGenes, 3);
  const auto params = tight(80, 1e-6);
  const auto one = solve_nystrom(self, kernel, y, params);
  const auto many = solve_nystrom(world, kernel, rows_of_this_rank(world, y), params);
  EXPECT_LT(relative_error(many.alpha, one.alpha), 1e-10);
  const auto again = solve_nystrom(world, kernel, rows_of_this_rank(world, y), params);
  ASSERT_EQ(again.alpha.size(), many.alpha.size());
  EXPECT_EQ(std::memcmp(again.alpha.data(), many.alpha.data(), sizeof(double) * std::size_t(many.alpha.size())), 0);
  auto other_seed = params;
  other_seed.seed = 6;
  EXPECT_NE(solve_nystrom(world, kernel, rows_of_this_rank(world, y), other_seed).centres, many.centres);
}

TEST(NystromRegression, BadKnobsAreRefusedByName) {
  NystromParams p;
  p.centres = 0;
  EXPECT_EQ(refusal_of([&] { p.validate(); }),
            "--ntk-centres 0 is invalid: the allowed values of ntk_centres are in [1, 1000000]");
  p = {};
  p.ridge = -1;
  EXPECT_EQ(refusal_of([&] { p.validate(); }),
            "--ntk-nystrom-ridge -1 is invalid: the allowed values of ntk_nystrom_ridge are in [0, 1]");
  p = {};
  p.tolerance = 0;
  EXPECT_EQ(refusal_of([&] { p.validate(); }), "Nystrom solver: tolerance = 0 must lie in (0, 1)");
  EXPECT_EQ(refusal_of([] { name_table(CentreSampling{}).parse("ridge", "ntk_centre_sampling"); }),
            "ntk_centre_sampling 'ridge' is not one of uniform | leverage");
  EXPECT_EQ(name_table(CentreSampling{}).parse("leverage", "ntk_centre_sampling"), CentreSampling::kLeverage);
  EXPECT_EQ(name_table(KernelSolverRequest{}).parse("nystrom", "ntk_solver"), KernelSolverRequest::kNystrom);
  // A right-hand side with NaN is refused on every rank.
  const engine::Context world;
  const ReluNtkKernel kernel(20, 4, 1);
  Eigen::MatrixXd y = make_y(20, 2, 1);
  y(3, 1) = NAN;
  EXPECT_EQ(refusal_of([&] { solve_nystrom(world, kernel, rows_of_this_rank(world, y), tight(5, 0)); }),
            "Nystrom solver: a training signature holds NaN or infinity; impute or drop it");
}

// The time model (solver_choice.h), recomputed here from its formulas, and auto's choice under a time limit.
TEST(NystromRegression, AutoPicksNystromUnderATimeLimit) {
  const double entries = 75e6, flops = 60e9;
  const double n = 20000, g = 978, cores = 2;
  EXPECT_NEAR(exact_solver_seconds(20000, 978, 2),
              0.5 * n * n / (entries * cores) + (n * n * n / 3 + 2 * n * n * g) / (flops * cores), 1e-9);
  const double m = 5000;
  EXPECT_NEAR(nystrom_solver_seconds(20000, 5000, 978, 2, 1),
              n * m / (entries * cores) + (n * m * m + 2 * n * m * g) / (flops * cores) +
                  (6 * m * m * m + 6 * m * m * g) / (flops * cores),
              1e-9);

  MatrixFreeParams matrix_free;
  const NystromParams nystrom;  // 5,000 centres
  const double budget = 16.0 * double(1ull << 30);
  // N = 100,000 on 1 rank x 2 threads: K (80 GB) does not fit; matrix-free fits but takes ~2 hours.
  auto choice = choose_kernel_solver(KernelSolverRequest::kAuto, 100000, 978, 1, 2, budget, matrix_free, nystrom, 0);
  EXPECT_EQ(choice.kind, KernelSolverKind::kMatrixFree);
  choice = choose_kernel_solver(KernelSolverRequest::kAuto, 100000, 978, 1, 2, budget, matrix_free, nystrom, 3600);
  EXPECT_EQ(choice.kind, KernelSolverKind::kNystrom);
  EXPECT_GT(choice.matrix_free_seconds, 3600);
  EXPECT_LT(choice.nystrom_seconds, 3600);
  EXPECT_EQ(choice.reason.rfind("nystrom solver: exact does not fit in memory and matrix-free would take longer "
                                "than the time limit; ",
                                0),
            0u)
      << choice.reason;
  EXPECT_NE(choice.reason.find("limit 60"), std::string::npos) << choice.reason;
  // N = 20,000: exact fits in memory but not in 6 seconds, nor does matrix-free.
  choice = choose_kernel_solver(KernelSolverRequest::kAuto, 20000, 978, 1, 2, budget, matrix_free, nystrom, 6);
  EXPECT_EQ(choice.kind, KernelSolverKind::kNystrom);
  EXPECT_EQ(choice.reason.rfind("nystrom solver: exact would take longer than the time limit and matrix-free would "
                                "take longer than the time limit; ",
                                0),
            0u)
      << choice.reason;
  // Within a minute, exact.
  EXPECT_EQ(choose_kernel_solver(KernelSolverRequest::kAuto, 20000, 978, 1, 2, budget, matrix_free, nystrom, 60).kind,
            KernelSolverKind::kExact);
  // Nothing fits 100 MB: nystrom, and the reason says so.
  choice = choose_kernel_solver(KernelSolverRequest::kAuto, 100000, 978, 1, 2, 1e8, matrix_free, nystrom, 0);
  EXPECT_EQ(choice.kind, KernelSolverKind::kNystrom);
  EXPECT_NE(choice.reason.find("nystrom does not fit either: lower ntk_centres"), std::string::npos) << choice.reason;
  EXPECT_EQ(choose_kernel_solver(KernelSolverRequest::kNystrom, 300, 978, 1, 2, budget, matrix_free, nystrom).kind,
            KernelSolverKind::kNystrom);
  // Memory: five M x M, B and alpha plus a third M x genes, Y rows, one tile.
  EXPECT_DOUBLE_EQ(nystrom_bytes_per_rank(100000, 5000, 978, 2, nystrom),
                   8.0 * (5.0 * 5000 * 5000 + 3.0 * 5000 * 978 + 50000.0 * 978 + 4096.0 * 5000));
}

// "prefix" followed by k (built with += : GCC 12 warns falsely on "literal" + std::to_string).
std::string numbered(const char* prefix, int k) {
  std::string id(prefix);
  id += std::to_string(k);
  return id;
}

// A small CMap-like table: 4 cell types, 30 drugs, 12 genes, about half observed.
io::PerturbationTable small_table() {
  io::PerturbationTable t;
  const int cells = 4, perts = 30, genes = 12;
  for (int g = 0; g < genes; ++g) t.genes.push_back(numbered("g", g));
  for (int c = 0; c < cells; ++c) t.cells.push_back(numbered("cell", c));
  for (int p = 0; p < perts; ++p) t.perts.push_back(numbered("drug", p));
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(genes, cells * perts);
  t.observed.assign(std::size_t(cells * perts), 0);
  t.replicates.assign(std::size_t(cells * perts), 0);
  engine::RandomStream random(9, "test/nystrom-table");
  Eigen::MatrixXd drug(genes, perts), cell(genes, cells);
  for (Eigen::Index k = 0; k < drug.size(); ++k) drug.data()[k] = random.normal();
  for (Eigen::Index k = 0; k < cell.size(); ++k) cell.data()[k] = random.normal();
  for (int c = 0; c < cells; ++c)
    for (int p = 0; p < perts; ++p) {
      if (!(c == 0 ? p < 24 : random.bernoulli(0.5))) continue;
      const auto e = t.entry(c, p);
      t.observed[std::size_t(e)] = 1;
      t.replicates[std::size_t(e)] = 1;
      for (int g = 0; g < genes; ++g) dense(g, e) = drug(g, p) + cell(g, c) + 0.3 * random.normal();
    }
  t.set_dense(dense);
  t.controls = Eigen::MatrixXd::Zero(genes, cells);
  t.control_counts.assign(std::size_t(cells), 0);
  return t;
}

// The NTK operator's scattered-column tiles are its contiguous tiles' entries, bit for bit, for every prior.
TEST(NystromRegression, NtkOperatorGathersColumnsAndCentreRows) {
  const auto table = small_table();
  const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  for (const auto prior : {PriorKind::kReference, PriorKind::kSimilarity}) {
    FeatureOptions options;
    options.prior = prior;
    options.reference_cells = {0};
    const auto features = std::make_shared<const PairFeatures>(table, train, options);
    std::vector<std::int64_t> entries, queries;
    for (std::int64_t e = 0; e < table.num_entries(); ++e)
      (table.observed[std::size_t(e)] ? entries : queries).push_back(e);
    const NtkOperator kernel(features, features->encode(entries), NtkShape{2, 0.1});
    const PairList query_pairs = features->encode(queries);
    const std::vector<std::int64_t> centres{1, 4, 5, 17, std::int64_t(entries.size()) - 1};
    Eigen::MatrixXd gathered(kernel.size() - 3, std::int64_t(centres.size())), column(kernel.size() - 3, 1);
    kernel.gather_columns(3, centres, gathered);
    for (std::size_t j = 0; j < centres.size(); ++j) {
      kernel.tile(3, centres[j], column);
      EXPECT_EQ(gathered.col(Eigen::Index(j)), column.col(0)) << j;
    }
    Eigen::MatrixXd at(std::int64_t(centres.size()), 9), row(1, 9);
    kernel.cross_tile_at(centres, query_pairs, 2, at);
    for (std::size_t j = 0; j < centres.size(); ++j) {
      kernel.cross_tile(query_pairs, centres[j], 2, row);
      EXPECT_EQ(at.row(Eigen::Index(j)), row.row(0)) << j;
    }
  }
}

// Through the imputer: with every training pair a centre and no ridge, nystrom predicts what exact predicts.
TEST(NystromRegression, ImputerWithEveryPairACentreMatchesExact) {
  const engine::Context world;
  const auto table = small_table();
  const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  std::vector<std::int64_t> queries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (!table.observed[std::size_t(e)]) queries.push_back(e);
  NtkParams params;
  params.solve.solver = KernelSolverRequest::kExact;
  const Eigen::MatrixXd exact = NtkImputer(params).impute(world, table, train, queries);
  params.solve.solver = KernelSolverRequest::kNystrom;
  params.solve.nystrom.centres = 100000;
  params.solve.nystrom.ridge = 0;
  params.solve.nystrom.tolerance = 1e-13;
  const Eigen::MatrixXd nystrom = NtkImputer(params).impute(world, table, train, queries);
  EXPECT_LT(relative_error(nystrom, exact), 1e-8);
  // With fewer centres it is an approximation, still close on this smooth table.
  params.solve.nystrom.centres = 40;
  params.solve.nystrom.ridge = 1e-6;
  const Eigen::MatrixXd fewer = NtkImputer(params).impute(world, table, train, queries);
  EXPECT_LT(relative_error(fewer, exact), 0.5);
}

}  // namespace
}  // namespace tessera::solvers::ntk
