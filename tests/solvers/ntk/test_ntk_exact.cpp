// The exact NTK solve and the NTK imputer, run under mpirun at 1, 2 and 3 ranks. Every distributed answer is
// compared with a one-rank answer computed in the same process (MPI_COMM_SELF, LAPACK path) and with a dense
// brute force built from explicit feature vectors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "engine/sharded_matrix.h"
#include "engine/signals.h"
#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/kernel/ntk_operator.h"
#include "solvers/ntk/ntk_imputer.h"
#include "solvers/ntk/solve/exact.h"
#include "solvers/registry.h"
#include "tests/solvers/ntk/ntk_fixtures.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::ntk {
namespace {

using test::brute_force;
using test::numbered;
using test::random_matrix;
using test::relative;
using test::simulated_table;

constexpr double kEps = std::numeric_limits<double>::epsilon();

// A kernel given as a dense matrix (the test's reference).
class DenseKernel final : public KernelOperator {
 public:
  explicit DenseKernel(Eigen::MatrixXd k) : k_(std::move(k)) {}
  std::int64_t size() const override { return k_.rows(); }
  void tile(std::int64_t row0, std::int64_t col0, Eigen::Ref<Eigen::MatrixXd> out) const override {
    out = k_.block(row0, col0, out.rows(), out.cols());
  }
  const Eigen::MatrixXd& matrix() const { return k_; }

 private:
  Eigen::MatrixXd k_;
};

// NTK Gram matrix of n random unit vectors in R^d: positive definite, NTK-like conditioning.
Eigen::MatrixXd ntk_gram(Eigen::Index n, Eigen::Index d, std::uint64_t seed) {
  Eigen::MatrixXd x = random_matrix(d, n, seed);
  x.colwise().normalize();
  Eigen::MatrixXd k = x.transpose() * x;
  apply_ntk(NtkShape{}, k.data(), k.size());
  return k;
}

// Every entry the table did not measure: the queries of a completion.
std::vector<std::int64_t> unobserved_entries(const io::PerturbationTable& table) {
  std::vector<std::int64_t> queries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (!table.observed[std::size_t(e)]) queries.push_back(e);
  return queries;
}

TEST(NtkExact, MatchesDenseEigenSolveOnEveryRankCount) {
  const engine::Context world;
  const engine::Context self(MPI_COMM_SELF);
  const DenseKernel kernel(ntk_gram(203, 12, 1));
  const Eigen::MatrixXd b = random_matrix(203, 7, 2);
  const Eigen::MatrixXd dense = kernel.matrix().llt().solve(b);

  for (const std::int64_t block : {16, 64, 500}) {
    ExactOptions options;
    options.block_size = block;
    const auto result =
        solve_exact(world, kernel, engine::RowShardedMatrix::scatter_from_replicated(world, b), options);
    const Eigen::MatrixXd x = result.solution.gather_all(world);
    EXPECT_EQ(result.factorisations, 1);
    EXPECT_EQ(result.jitter, 0.0);
    // Backward error ||B - K X|| / (n ||K|| ||X||) within 10 eps, as SLATE's posv test checks.
    const double backward = (b - kernel.matrix() * x).norm() / (203 * kernel.matrix().norm() * x.norm());
    EXPECT_LT(backward, 10 * kEps) << "block " << block;
    EXPECT_LT(relative(x, dense), 1e-10) << "block " << block;

    // The one-rank LAPACK path in this process: all rank counts agree within 1e-10 relative.
    const auto serial = solve_exact(self, kernel, engine::RowShardedMatrix::scatter_from_replicated(self, b), options);
    EXPECT_LT(relative(x, serial.solution.local()), 1e-10) << "block " << block;
  }
}

TEST(NtkExact, RejectsMismatchedRightHandSides) {
  const engine::Context world;
  const DenseKernel kernel(ntk_gram(20, 4, 3));
  const auto b = engine::RowShardedMatrix::scatter_from_replicated(world, random_matrix(19, 2, 4));
  EXPECT_THROW(solve_exact(world, kernel, b), Error);
  ExactOptions bad;
  bad.jitter = 0;
  EXPECT_THROW(bad.validate(), Error);
}

// The memory of the exact one-rank solve of every observed entry of `table` (its kernel, right-hand sides and
// solution), computed here from the sizes: N^2 + 2 N genes doubles.
double solves_alone_bytes(const io::PerturbationTable& table) {
  const double n = double(table.num_observed()), genes = double(table.num_genes());
  return 8.0 * (n * n + 2.0 * n * genes);
}

struct ImputeCase {
  std::string prior;
  int depth;
  double bias;
};

class NtkImputerTest : public ::testing::TestWithParam<ImputeCase> {};

TEST_P(NtkImputerTest, ReproducesBruteForceWithExplicitFeatures) {
  const engine::Context world;
  const auto table = simulated_table(21);
  std::vector<std::uint8_t> train(std::size_t(table.num_entries()), 0);
  std::vector<std::int64_t> queries;
  engine::RandomStream random(5, "test/ntk-split");
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (table.observed[std::size_t(e)] && random.bernoulli(0.8))
      train[std::size_t(e)] = 1;
    else
      queries.push_back(e);  // held-out and never-measured entries alike
  }
  NtkParams params;
  params.prior = name_table(PriorKind{}).parse(GetParam().prior, "ntk_prior");
  params.depth = GetParam().depth;
  params.bias = GetParam().bias;
  params.solve.block_size = 16;
  params.reference_cell = "cell0";
  const NtkImputer imputer(params);
  const Eigen::MatrixXd predicted = imputer.impute(world, table, train, queries);
  ASSERT_EQ(predicted.rows(), table.num_genes());
  ASSERT_EQ(predicted.cols(), Eigen::Index(queries.size()));

  FeatureOptions options;
  options.prior = params.prior;
  options.reference_cells = {0};
  const PairFeatures features(table, train, options);
  std::vector<std::int64_t> train_entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    const bool reference_row = options.prior == PriorKind::kReference && table.cell_of(e) == 0;
    if (train[std::size_t(e)] && !reference_row) train_entries.push_back(e);
  }
  const Eigen::MatrixXd expected =
      brute_force(table, features, train_entries, queries, params.beta, NtkShape{params.depth, params.bias});
  // The published method's answer to 1e-8 relative (the requirement).
  EXPECT_LT(relative(predicted, expected), 1e-8);
  // With the diagonal as rounding leaves it (what numpy gets), the answers differ by the solve's amplification
  // of a 1e-8 diagonal perturbation: report it, and check it stays that small.
  const double rounded = relative(predicted, brute_force(table, features, train_entries, queries, params.beta,
                                                         NtkShape{params.depth, params.bias}, false));
  if (world.is_root())
    std::printf("  [%s] relative difference to the rounded-diagonal brute force: %.2e\n", GetParam().prior.c_str(),
                rounded);
  EXPECT_LT(rounded, 1e-5);
  // Fewer queries than genes: the triangular solves take the queries' cross kernel as right-hand sides instead of
  // the genes (kernel_regression.cpp); the answer is the same.
  const std::vector<std::int64_t> few(queries.begin(), queries.begin() + 12);
  ASSERT_LT(Eigen::Index(few.size()), table.num_genes());
  EXPECT_LT(relative(imputer.impute(world, table, train, few), expected.leftCols(12)), 1e-8);
  // And the same predictions on every rank.
  test::expect_same_on_every_rank(world, predicted);
}

INSTANTIATE_TEST_SUITE_P(Priors, NtkImputerTest,
                         ::testing::Values(ImputeCase{"reference", 1, 0.0}, ImputeCase{"all_cells", 1, 0.0},
                                           ImputeCase{"similarity", 1, 0.0}, ImputeCase{"reference", 3, 0.5}));

TEST(NtkImputer, RegressesOnReferenceRowsWhenAsked) {
  const engine::Context world;
  const auto table = simulated_table(8);
  const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  const std::vector<std::int64_t> queries = unobserved_entries(table);
  NtkParams params;  // reference_cell empty: cell0 has the most training entries
  params.reference_in_kernel = true;
  const Eigen::MatrixXd predicted = NtkImputer(params).impute(world, table, train, queries);
  FeatureOptions options;
  options.reference_cells = resolve_reference_cells(params, table, train);
  ASSERT_EQ(options.reference_cells, std::vector<std::int64_t>{0});
  const PairFeatures features(table, train, options);
  std::vector<std::int64_t> train_entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (train[std::size_t(e)]) train_entries.push_back(e);
  EXPECT_LT(relative(predicted, brute_force(table, features, train_entries, queries, 1.5, NtkShape{})), 1e-8);
}

TEST(NtkImputer, MatrixFreeSolverAgreesWithExact) {
  const engine::Context world;
  const auto table = simulated_table(4);
  const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  const std::vector<std::int64_t> queries = unobserved_entries(table);
  NtkParams params;
  params.solve.solver = KernelSolverRequest::kExact;
  const Eigen::MatrixXd exact = NtkImputer(params).impute(world, table, train, queries);
  params.solve.solver = KernelSolverRequest::kMatrixFree;
  params.solve.matrix_free.tolerance = 1e-11;
  params.solve.matrix_free.num_centres = 20;
  const Eigen::MatrixXd matrix_free = NtkImputer(params).impute(world, table, train, queries);
  EXPECT_LT(relative(matrix_free, exact), 1e-7);
  // auto picks the nystrom solver when neither the kernel nor the matrix-free solve fits the budget; with every
  // training pair a centre (5,000 by default) and no ridge it solves the same system.
  params.solve.solver = KernelSolverRequest::kAuto;
  params.solve.memory_gb = 1e-6;
  params.solve.nystrom.ridge = 0;
  params.solve.nystrom.tolerance = 1e-13;
  EXPECT_LT(relative(NtkImputer(params).impute(world, table, train, queries), exact), 1e-7);
}

TEST(NtkImputer, SignalCheckpointsTheMatrixFreeSolveAndTheSameCallResumes) {
  const engine::Context world;
  const auto table = simulated_table(4);
  const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  const std::vector<std::int64_t> queries = unobserved_entries(table);
  NtkParams params;
  params.solve.solver = KernelSolverRequest::kMatrixFree;
  params.solve.matrix_free.num_centres = 20;
  const Eigen::MatrixXd uninterrupted = NtkImputer(params).impute(world, table, train, queries);

  // Rank 0 alone is signalled (as when Slurm's signal reaches one rank first): every rank stops together.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tessera_ntk_ckpt_" + std::to_string(engine::allreduce_max(world, double(::getpid()))));
  if (world.rank() == 0) std::filesystem::remove_all(dir);
  world.barrier();
  params.solve.checkpoint_dir = dir.string();
  if (world.rank() == 0) engine::request_stop();
  EXPECT_THROW(NtkImputer(params).impute(world, table, train, queries), engine::StopRequested);
  engine::clear_stop();
  ASSERT_FALSE(std::filesystem::is_empty(dir));
  const Eigen::MatrixXd resumed = NtkImputer(params).impute(world, table, train, queries);
  EXPECT_TRUE(resumed == uninterrupted) << "max difference " << (resumed - uninterrupted).cwiseAbs().maxCoeff();
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove_all(dir);
}

TEST(NtkImputer, NanInATrainingSignatureIsAnErrorOnEveryRank) {
  const engine::Context world;
  auto table = simulated_table(3);
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  std::int64_t bad = -1;
  for (std::int64_t e = 0; e < table.num_entries() && bad < 0; ++e)
    if (table.observed[std::size_t(e)] && table.cell_of(e) == 2) bad = e;
  table.signature(bad)(4) = NAN;
  try {
    NtkImputer().impute(world, table, train, {0, 1});
    FAIL() << "NaN accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'cell2'"), std::string::npos) << e.what();
  }
}

TEST(NtkImputer, RegistryAndParams) {
  MethodParams params;
  params.ntk.alpha = 0.5;
  const auto imputer = make_imputer("ntk", params);
  EXPECT_EQ(imputer->name(), "ntk");
  // Cross-validation runs folds side by side (distributes_itself false) when the exact one-rank solve of every
  // observed entry fits a rank's budget, and collectively when it does not or the matrix-free solver is asked for.
  const engine::Context world;
  const auto sized = simulated_table(3);
  const double fits_gb = solves_alone_bytes(sized) / 1e9;
  params.ntk.solve.memory_gb = fits_gb * (1 + 1e-12);  // just above: the budget is memory_gb x 1e9
  EXPECT_FALSE(make_imputer("ntk", params)->distributes_itself(world, sized));
  params.ntk.solve.memory_gb = 0.99 * fits_gb;
  EXPECT_TRUE(make_imputer("ntk", params)->distributes_itself(world, sized));
  params.ntk.solve.memory_gb = 100 * fits_gb;
  params.ntk.solve.solver = KernelSolverRequest::kMatrixFree;
  EXPECT_TRUE(make_imputer("ntk", params)->distributes_itself(world, sized));
  params.ntk.solve = {};
  // The command line and config files offer exactly the 16 NTK and 2 NTK-DNPP knobs, each once and bound to its
  // own field (a knob left out, or bound to another field, would be silently ignored).
  std::map<std::string, const void*> offered;
  engine::for_each_knob(params, [&](const char* name, auto& value, const char*) {
    if (std::string(name).rfind("ntk_", 0) != 0) return;
    EXPECT_TRUE(offered.emplace(name, static_cast<const void*>(&value)).second) << name << " offered twice";
  });
  const NtkParams& ntk = params.ntk;
  const std::map<std::string, const void*> expected = {
      {"ntk_alpha", &ntk.alpha},
      {"ntk_beta", &ntk.beta},
      {"ntk_depth", &ntk.depth},
      {"ntk_bias", &ntk.bias},
      {"ntk_prior", &ntk.prior},
      {"ntk_reference_cell", &ntk.reference_cell},
      {"ntk_reference_in_kernel", &ntk.reference_in_kernel},
      {"ntk_solver", &ntk.solve.solver},
      {"ntk_memory_gb", &ntk.solve.memory_gb},
      {"ntk_max_minutes", &ntk.solve.max_minutes},
      {"ntk_device", &ntk.solve.device},
      {"ntk_centres", &ntk.solve.nystrom.centres},
      {"ntk_centre_sampling", &ntk.solve.nystrom.sampling},
      {"ntk_nystrom_ridge", &ntk.solve.nystrom.ridge},
      {"ntk_leverage_ridge", &ntk.solve.nystrom.leverage_ridge},
      {"ntk_jitter", &ntk.solve.jitter},
      {"ntk_block_size", &ntk.solve.block_size},
      {"ntk_cg_tolerance", &ntk.solve.matrix_free.tolerance},
      {"ntk_cg_max_iterations", &ntk.solve.matrix_free.max_iterations},
      {"ntk_nystrom_centres", &ntk.solve.matrix_free.num_centres},
      {"ntk_checkpoint_dir", &ntk.solve.checkpoint_dir},
      {"ntk_checkpoint_every", &ntk.solve.matrix_free.checkpoint_every},
      {"ntk_dnpp_min_drugs", &params.ntk_dnpp.min_training_drugs},
      {"ntk_dnpp_plain_alpha", &params.ntk_dnpp.plain_alpha},
  };
  for (const auto& [name, field] : expected) {
    const auto found = offered.find(name);
    if (found == offered.end())
      ADD_FAILURE() << name << " is not offered";
    else
      EXPECT_EQ(found->second, field) << name << " is bound to another field";
  }
  for (const auto& [name, field] : offered) EXPECT_TRUE(expected.count(name)) << name << " is not an NTK knob";
  EXPECT_THROW(name_table(PriorKind{}).parse("mcf7", "ntk_prior"), Error);
  params.ntk.prior = PriorKind::kSimilarity;
  EXPECT_THROW(name_table(KernelSolverRequest{}).parse("fast", "ntk_solver"), Error);
  params.ntk.solve.solver = KernelSolverRequest::kExact;
  params.ntk.depth = 0;
  EXPECT_THROW(params.validate(), Error);
  params.ntk.depth = 2;
  EXPECT_NO_THROW(params.validate());
  const auto table = simulated_table(1);
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  NtkParams unknown;
  unknown.reference_cell = "MCF7";
  EXPECT_THROW(resolve_reference_cells(unknown, table, train), Error);
}

// Duplicate training rows with no one-hot term (beta = 0): drugs 30-39 were never measured in the reference cell
// type, so in one cell type they all share the fallback prior, and their kernel rows coincide. The solve warns,
// adds a stated jitter and still predicts.
// Completing the reference cell type with the reference prior: its unmeasured drugs all get the fallback prior, so
// their predictions are one and the same; the imputer says so, once per run however many calls (folds) see it.
TEST(NtkImputer, WarnsOnceThatReferenceCellQueriesArePredictedAlike) {
  const engine::Context world;
  const auto table = simulated_table(8);
  const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  NtkParams params;
  params.reference_cell = "cell2";  // no other test names it: its warning has not been given in this process
  std::vector<std::int64_t> in_reference;
  for (std::int64_t p = 0; p < table.num_perts(); ++p)
    if (!table.observed[std::size_t(table.entry(2, p))]) in_reference.push_back(table.entry(2, p));
  ASSERT_GT(in_reference.size(), 2u);

  ::testing::internal::CaptureStderr();
  const Eigen::MatrixXd first = NtkImputer(params).impute(world, table, train, in_reference);
  const Eigen::MatrixXd again = NtkImputer(params).impute(world, table, train, in_reference);
  const std::string log = ::testing::internal::GetCapturedStderr();
  // What the warning says: every column (query) is the same.
  for (Eigen::Index q = 1; q < first.cols(); ++q) EXPECT_LT((first.col(q) - first.col(0)).norm(), 1e-9 * first.norm());
  EXPECT_EQ(first, again);
  if (world.is_root()) {
    const std::string expected = std::to_string(in_reference.size()) + " queries in the reference cell type(s) cell2";
    const auto at = log.find(expected);
    EXPECT_NE(at, std::string::npos) << log;
    EXPECT_EQ(log.find(expected, at + 1), std::string::npos) << "warned twice:\n" << log;
  } else {
    EXPECT_EQ(log.find("reference cell type"), std::string::npos) << log;
  }
}

// The prior's Gram tables are checked against what a rank can get before they are built (at LINCS size they, not
// the solve, can be the largest allocation): refused with the GB needed and the fix.
TEST(NtkImputer, RefusesAPriorWhoseTablesDoNotFit) {
  EXPECT_EQ(testing::message_of([] { check_prior_fits(PriorKind::kAllCells, 7.2e9, 4e9); }),
            "ntk: the all_cells prior's tables need about 7.2 GB per rank (a Gram table of the drugs' priors), but "
            "this rank can get 4 GB: give each rank more memory (fewer ranks per node), or use --ntk-prior reference "
            "(one cell type's drugs), or select fewer drugs in the input");
  EXPECT_NE(testing::message_of([] { check_prior_fits(PriorKind::kSimilarity, 2e9, 1e9); })
                .find("similarity prior's tables need about 2 GB per rank (a Gram table of the drugs' priors per cell "
                      "type)"),
            std::string::npos);
  EXPECT_NO_THROW(check_prior_fits(PriorKind::kReference, 1e9, 1e9));
}

TEST(NtkImputer, DuplicateRowsWarnAndAddJitter) {
  const engine::Context world;
  const auto table = simulated_table(21);
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  std::vector<std::int64_t> queries = {table.entry(1, 0), table.entry(2, 35)};
  NtkParams params;
  params.beta = 0.0;
  params.reference_cell = "cell0";
  params.solve.block_size = 16;

  const NtkOperator kernel = test::duplicate_rows_kernel(table, train);
  const auto rhs = engine::RowShardedMatrix(world, kernel.size(), 3);

  ::testing::internal::CaptureStderr();
  const auto result = solve_exact(world, kernel, rhs);
  const Eigen::MatrixXd predicted = NtkImputer(params).impute(world, table, train, queries);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_GT(result.jitter, 0.0);
  EXPECT_GE(result.factorisations, 2);
  EXPECT_NEAR(result.diagonal_shift, result.jitter * 2.0, 1e-20);
  EXPECT_TRUE(predicted.allFinite());
  if (world.is_root()) {
    EXPECT_NE(log.find("not numerically positive definite"), std::string::npos) << log;
    EXPECT_NE(log.find("jitter"), std::string::npos) << log;
  }
}

}  // namespace
}  // namespace tessera::solvers::ntk
