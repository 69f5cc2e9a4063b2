// Matrix-free PCG kernel solver (solvers/ntk/solve/matrix_free.h), at 1, 2 and 3 ranks, on the one-layer ReLU NTK of
// random unit vectors (tests/support/relu_ntk_kernel.h).
//
// Tolerances: the solver runs to a 1e-12 relative residual; K's condition number here is ~1e3, so the solution
// matches a dense Cholesky solve to 1e-8 relative (checked) and two rank counts agree to 1e-9 relative (they differ
// only in the order of floating-point sums). Same rank count, any thread count, and checkpoint + resume: bit-identical.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "engine/random.h"
#include "solvers/ntk/solve/cg_checkpoint.h"
#include "solvers/ntk/solve/matrix_free.h"
#include "solvers/ntk/solve/nystrom.h"
#include "solvers/ntk/solve/solver_choice.h"
#include "tests/support/kernel_system.h"
#include "tests/support/relu_ntk_kernel.h"

namespace tessera::solvers::ntk {
namespace {

using testing::ReluNtkKernel;
using testing::rows_of_this_rank;

constexpr std::int64_t kN = 500;
constexpr int kDims = 32;

Eigen::MatrixXd make_y(std::int64_t n, std::int64_t m, std::uint64_t seed) {
  return testing::random_right_hand_sides(n, m, seed, "test/matrix-free-y");
}

Eigen::MatrixXd gather(const engine::Context& ctx, const Eigen::MatrixXd& local, std::int64_t n) {
  Eigen::MatrixXd full = Eigen::MatrixXd::Zero(n, local.cols());
  const auto r = engine::block_range(n, ctx.size(), ctx.rank());
  full.middleRows(r.begin, r.size()) = local;
  engine::allreduce_sum(ctx, full);
  return full;
}

bool bit_identical(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(double)) == 0;
}

MatrixFreeParams tight_params() {
  MatrixFreeParams p;
  p.tolerance = 1e-12;
  p.max_iterations = 2000;
  p.num_centres = 60;
  p.tile_size = 96;  // several tiles per rank, ragged last tile
  p.seed = 11;
  p.threads = 1;  // tests run 3 ranks on 2 cores; the thread-count test sets more
  return p;
}

// A folder every rank sees (rank 0's pid names it), removed at the end.
class SharedTempDir {
 public:
  explicit SharedTempDir(const engine::Context& ctx) : ctx_(ctx) {
    std::int64_t pid = ::getpid();
    engine::broadcast(ctx, std::span<std::int64_t>(&pid, 1));
    path_ = std::filesystem::temp_directory_path() / ("tessera_matrix_free_" + std::to_string(pid));
    if (ctx.is_root()) std::filesystem::create_directories(path_);
    ctx.barrier();
  }
  ~SharedTempDir() {
    ctx_.barrier();
    if (ctx_.is_root()) std::filesystem::remove_all(path_);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  const engine::Context& ctx_;
  std::filesystem::path path_;
};

TEST(MatrixFree, MatchesDenseCholesky) {
  const engine::Context world;
  const ReluNtkKernel kernel(kN, kDims, 3);
  Eigen::MatrixXd y = make_y(kN, 4, 5);
  y.col(2).setZero();  // a zero right-hand side is solved by x = 0 at once
  const Eigen::MatrixXd k = kernel.dense();
  for (const double lambda : {0.0, 0.05}) {
    MatrixFreeParams params = tight_params();
    params.lambda = lambda;
    const auto result = solve_matrix_free(world, kernel, rows_of_this_rank(world, y), params);
    ASSERT_TRUE(result.converged) << "lambda " << lambda;
    const Eigen::MatrixXd a = k + lambda * Eigen::MatrixXd::Identity(kN, kN);
    const Eigen::MatrixXd exact = a.llt().solve(y);
    const Eigen::MatrixXd x = gather(world, result.x_local, kN);
    const double error = (x - exact).norm() / exact.norm();
    // Backward error in the SLATE style: ||Y - A X|| / (||A|| ||X||), in units of machine epsilon.
    const double backward = (y - a * x).norm() / (a.norm() * x.norm()) / std::numeric_limits<double>::epsilon();
    if (world.is_root())
      std::printf(
          "[ dense    ] lambda %g: %d iterations, relative error %.2e, backward error %.1f eps, "
          "max true residual %.2e\n",
          lambda, result.iterations, error, backward,
          *std::max_element(result.true_relative_residuals.begin(), result.true_relative_residuals.end()));
    EXPECT_LT(error, 1e-8);
    EXPECT_LT(backward, 1e4);
    EXPECT_EQ(x.col(2).norm(), 0.0);
    EXPECT_EQ(result.column_iterations[2], 0);
    for (std::size_t j = 0; j < 4; ++j) {
      EXPECT_LE(result.relative_residuals[j], 1e-12);
      EXPECT_LT(result.true_relative_residuals[j], 1e-10);
    }
  }
}

TEST(MatrixFree, PreconditionerCutsIterations) {
  const engine::Context world;
  const ReluNtkKernel kernel(kN, kDims, 3);
  const Eigen::MatrixXd y = make_y(kN, 3, 6);
  MatrixFreeParams params = tight_params();
  params.tolerance = 1e-8;
  params.num_centres = 0;
  const auto plain = solve_matrix_free(world, kernel, rows_of_this_rank(world, y), params);
  params.num_centres = 100;
  const auto preconditioned = solve_matrix_free(world, kernel, rows_of_this_rank(world, y), params);
  if (world.is_root())
    std::printf("[ precond  ] N = %lld, tol 1e-8: plain CG %d iterations, Nystrom PCG (M = 100, mu = %.3g) %d\n",
                (long long)kN, plain.iterations, preconditioned.preconditioner_mu, preconditioned.iterations);
  ASSERT_TRUE(plain.converged);
  ASSERT_TRUE(preconditioned.converged);
  EXPECT_LT(preconditioned.iterations, plain.iterations);
}

TEST(MatrixFree, SameAnswerOnEveryRankCountAndThreadCount) {
  const engine::Context world, self(MPI_COMM_SELF);
  const ReluNtkKernel kernel(kN, kDims, 4);
  const Eigen::MatrixXd y = make_y(kN, 3, 7);
  MatrixFreeParams params = tight_params();
  const auto distributed = solve_matrix_free(world, kernel, rows_of_this_rank(world, y), params);
  const auto serial = solve_matrix_free(self, kernel, y, params);  // every rank, alone
  ASSERT_TRUE(distributed.converged);
  ASSERT_TRUE(serial.converged);
  const Eigen::MatrixXd x = gather(world, distributed.x_local, kN);
  EXPECT_LT((x - serial.x_local).norm() / serial.x_local.norm(), 1e-9);
  if (world.size() == 1) {
    EXPECT_TRUE(bit_identical(x, serial.x_local));
  }

  params.threads = 3;  // the same bits with more threads (here more than cores)
  const auto other_threads = solve_matrix_free(world, kernel, rows_of_this_rank(world, y), params);
  EXPECT_TRUE(bit_identical(other_threads.x_local, distributed.x_local));
  EXPECT_EQ(other_threads.iterations, distributed.iterations);
}

TEST(MatrixFree, CheckpointAndResumeIsBitIdentical) {
  const engine::Context world;
  const SharedTempDir dir(world);
  const ReluNtkKernel kernel(kN, kDims, 8);
  const Eigen::MatrixXd y = rows_of_this_rank(world, make_y(kN, 5, 9));
  MatrixFreeParams params = tight_params();
  params.tolerance = 1e-10;
  params.max_rhs_batch = 2;  // 5 columns in 3 batches: the restarts cross batch boundaries
  const auto uninterrupted = solve_matrix_free(world, kernel, y, params);
  ASSERT_TRUE(uninterrupted.converged);
  ASSERT_EQ(uninterrupted.batches, 3);

  params.checkpoint_path = (dir / "cg.h5").string();
  params.checkpoint_every = 4;
  params.resume = true;
  int runs = 0;
  MatrixFreeResult result;
  do {
    // Stop after 9 iterations per run (rank-dependent request: any rank asking stops all), other thread counts.
    int polls = 0;
    params.threads = 1 + runs % 2;
    result =
        solve_matrix_free(world, kernel, y, params, [&] { return ++polls >= 9 && world.rank() == world.size() - 1; });
    EXPECT_EQ(result.resumed, runs > 0);
    ++runs;
    ASSERT_LT(runs, 200);
  } while (result.stopped);
  if (world.is_root())
    std::printf("[ resume   ] %d runs of <= 9 iterations, %lld iterations in all (uninterrupted %lld)\n", runs,
                (long long)result.total_iterations, (long long)uninterrupted.total_iterations);
  EXPECT_GT(runs, 3);
  EXPECT_TRUE(result.converged);
  EXPECT_TRUE(bit_identical(result.x_local, uninterrupted.x_local));
  EXPECT_EQ(result.total_iterations, uninterrupted.total_iterations);
  EXPECT_EQ(result.column_iterations, uninterrupted.column_iterations);
  EXPECT_EQ(result.relative_residuals, uninterrupted.relative_residuals);
  // Resuming the finished run returns the same answer without iterating.
  const auto again = solve_matrix_free(world, kernel, y, params);
  EXPECT_TRUE(again.resumed && again.converged);
  EXPECT_TRUE(again.max_residual_history.empty());
  EXPECT_TRUE(bit_identical(again.x_local, uninterrupted.x_local));
  // One manifest and one shard per rank remain: old shards are removed after each commit.
  world.barrier();
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "")) files += entry.is_regular_file();
  EXPECT_EQ(files, 1 + world.size());
}

TEST(MatrixFree, CheckpointOfAnotherProblemIsAnError) {
  const engine::Context world;
  const SharedTempDir dir(world);
  const ReluNtkKernel kernel(kN, kDims, 8);
  const Eigen::MatrixXd y = rows_of_this_rank(world, make_y(kN, 2, 10));
  MatrixFreeParams params = tight_params();
  params.checkpoint_path = (dir / "cg.h5").string();
  int polls = 0;
  const auto first = solve_matrix_free(world, kernel, y, params, [&] { return ++polls >= 3; });
  ASSERT_TRUE(first.stopped);
  params.resume = true;

  auto expect_error = [&](const MatrixFreeParams& p, const Eigen::MatrixXd& rhs, const std::string& field) {
    try {
      solve_matrix_free(world, kernel, rhs, p);
      ADD_FAILURE() << "no error for a different " << field;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  MatrixFreeParams other = params;
  other.lambda = 0.5;
  expect_error(other, y, "lambda");
  other = params;
  other.seed = 12;
  expect_error(other, y, "seed");
  Eigen::MatrixXd other_y = y;
  if (world.is_root()) other_y(0, 0) += 1;
  expect_error(params, other_y, "hash of Y");
  const ReluNtkKernel other_kernel(kN, kDims, 99);
  try {
    solve_matrix_free(world, other_kernel, y, params);
    ADD_FAILURE() << "no error for another kernel";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel"), std::string::npos) << e.what();
  }
  // The matching problem still resumes.
  const auto resumed = solve_matrix_free(world, kernel, y, params);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_TRUE(resumed.converged);
}

TEST(MatrixFree, NonConvergenceIsAResult) {
  const engine::Context world;
  const ReluNtkKernel kernel(kN, kDims, 3);
  MatrixFreeParams params = tight_params();
  params.max_iterations = 3;
  const auto result = solve_matrix_free(world, kernel, rows_of_this_rank(world, make_y(kN, 2, 5)), params);
  EXPECT_FALSE(result.converged);
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.iterations, 3);
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_EQ(result.column_status[j], ColumnStatus::kNotFinished);
    EXPECT_GT(result.relative_residuals[j], 1e-12);
    EXPECT_LT(result.relative_residuals[j], 1.0);
    EXPECT_NEAR(result.true_relative_residuals[j], result.relative_residuals[j], 1e-8);
  }
}

TEST(MatrixFree, NanInYIsAnError) {
  const engine::Context world;
  const ReluNtkKernel kernel(kN, kDims, 3);
  Eigen::MatrixXd y = rows_of_this_rank(world, make_y(kN, 2, 5));
  if (world.rank() == world.size() - 1) y(y.rows() - 1, 1) = std::numeric_limits<double>::quiet_NaN();
  try {
    solve_matrix_free(world, kernel, y, tight_params());
    ADD_FAILURE() << "NaN in Y accepted";
  } catch (const Error& e) {
    if (world.rank() == world.size() - 1) {
      EXPECT_NE(std::string(e.what()).find("row " + std::to_string(kN - 1)), std::string::npos) << e.what();
    }
  }
}

TEST(MatrixFree, ParamsAreRangeChecked) {
  auto invalid = [](auto change) {
    MatrixFreeParams p;
    change(p);
    EXPECT_THROW(p.validate(), Error);
  };
  invalid([](MatrixFreeParams& p) { p.lambda = -1; });
  invalid([](MatrixFreeParams& p) { p.tolerance = 0; });
  invalid([](MatrixFreeParams& p) { p.max_iterations = 0; });
  invalid([](MatrixFreeParams& p) { p.num_centres = -1; });
  invalid([](MatrixFreeParams& p) { p.preconditioner_shift = 0; });  // lambda + shift = 0
  invalid([](MatrixFreeParams& p) { p.tile_size = 0; });
  invalid([](MatrixFreeParams& p) { p.resume = true; });  // without a checkpoint path
  EXPECT_NO_THROW(MatrixFreeParams().validate());
}

TEST(MatrixFree, MemoryPlanAndSolverChoice) {
  MatrixFreeParams params;
  params.num_centres = 1000;
  // N = 500,000, m = 978 on 2 ranks in 9.2 GiB per rank: Y, X and B take ~5.5 GiB, the rest sets the batch.
  const double budget = 9.2 * double(1ull << 30);
  const auto plan = plan_matrix_free(500000, 978, 2, 1, budget, params);
  EXPECT_TRUE(plan.fits);
  EXPECT_GT(plan.batches, 1);
  EXPECT_LE(plan.bytes_per_rank, budget);
  EXPECT_EQ(plan.batch_columns * plan.batches - 978 < plan.batches, true);  // even batches
  params.max_rhs_batch = 100;
  EXPECT_EQ(plan_matrix_free(500000, 978, 2, 1, budget, params).batch_columns, 98);  // 10 even batches
  // One column that does not fit is reported, not refused.
  params.max_rhs_batch = 0;
  EXPECT_FALSE(plan_matrix_free(500000, 978, 2, 1, 1e9, params).fits);
  EXPECT_EQ(plan_matrix_free(500000, 978, 2, 1, 1e9, params).batch_columns, 1);
  // The exact path is chosen while K fits, and either can be forced.
  EXPECT_EQ(choose_kernel_solver(KernelSolverRequest::kAuto, 20000, 978, 2, 1, budget, params).kind,
            KernelSolverKind::kExact);
  EXPECT_EQ(choose_kernel_solver(KernelSolverRequest::kAuto, 500000, 978, 2, 1, budget, params).kind,
            KernelSolverKind::kMatrixFree);
  EXPECT_EQ(choose_kernel_solver(KernelSolverRequest::kMatrixFree, 20000, 978, 2, 1, budget, params).kind,
            KernelSolverKind::kMatrixFree);
  EXPECT_EQ(choose_kernel_solver(KernelSolverRequest::kExact, 500000, 978, 2, 1, budget, params).kind,
            KernelSolverKind::kExact);
  EXPECT_THROW(name_table(KernelSolverRequest{}).parse("cholesky", "ntk_solver"), Error);
}

TEST(MatrixFree, CentresAreUniformDistinctAndSeeded) {
  const auto a = NystromPreconditioner::sample_centres(1000, 100, 1);
  EXPECT_EQ(a, NystromPreconditioner::sample_centres(1000, 100, 1));
  EXPECT_NE(a, NystromPreconditioner::sample_centres(1000, 100, 2));
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::adjacent_find(a.begin(), a.end()), a.end());
  EXPECT_EQ(NystromPreconditioner::sample_centres(10, 10, 1).size(), 10u);
  // Uniform: over many seeds each index is drawn about m/n of the time.
  std::vector<int> counts(50, 0);
  for (std::uint64_t seed = 0; seed < 2000; ++seed)
    for (auto i : NystromPreconditioner::sample_centres(50, 10, seed)) ++counts[std::size_t(i)];
  for (int c : counts) EXPECT_NEAR(c, 400, 80);
}

}  // namespace
}  // namespace tessera::solvers::ntk
