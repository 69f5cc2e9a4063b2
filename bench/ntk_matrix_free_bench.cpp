// Matrix-free kernel solver benchmark (solvers/ntk/solve/matrix_free.h): time per CG iteration, iterations to the
// tolerance, peak memory per rank, and accuracy against the exact Cholesky path (solvers/ntk/solve/exact.h) on sizes
// both can solve.
//
// Kernel: the one-layer ReLU NTK of N random unit vectors in --dims dimensions (tests/support/relu_ntk_kernel.h).
// Right-hand sides: m smooth functions of the inputs (8 random cosine features) plus 10% white noise, as a
// stand-in for gene signatures (noise is what makes interpolation hard: it needs the small eigenvalues).
//
//   mpirun -np 2 ntk_matrix_free_bench --n=20000 --m=64 [--centres=1000] [--tol=1e-6] [--max-iterations=1000]
//          [--lambda=0] [--tile=2048] [--threads=0] [--batch=0] [--dims=32] [--seed=1] [--exact] [--budget-gib=0]
//          [--stop-at=K] [--checkpoint=PATH] [--true-residual=1] [--shift=-1]
//
// With --max-iterations below what convergence needs, the run stops early and the iterations to the tolerance
// are extrapolated from the geometric decay of the worst residual over the last iterations (stated as such).
// Per-iteration time is split into kernel tiles (independent of m) and GEMM (proportional to m), so the time
// at m = 978 is extrapolated from a smaller m as tile + gemm * 978 / m (+ the preconditioner, also ~ m).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <span>
#include <string>
#include <thread>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/log.h"
#include "engine/partition.h"
#include "engine/random.h"
#include "engine/sharded_matrix.h"
#include "solvers/ntk/solve/exact.h"
#include "solvers/ntk/solve/matrix_free.h"
#include "tests/support/relu_ntk_kernel.h"

namespace {

using namespace tessera;

double peak_rss_gib() { return bench::peak_rss_mib() / 1024.0; }

// This rank's rows of Y: smooth functions of the inputs plus noise. Streams are indexed by row, so Y does not
// depend on the rank count.
Eigen::MatrixXd make_y(const engine::Context& ctx, const tessera::testing::ReluNtkKernel& kernel, std::int64_t m,
                       std::uint64_t seed) {
  const Eigen::MatrixXd& x = kernel.inputs();
  const int dims = int(x.rows()), features = 8;
  engine::RandomStream global(seed, "bench/y-features");
  Eigen::MatrixXd w(dims, features), a(features, m);
  Eigen::VectorXd b(features);
  for (int k = 0; k < features; ++k) {
    for (int d = 0; d < dims; ++d) w(d, k) = 2.0 * global.normal();
    b(k) = global.uniform(0, 2 * std::numbers::pi);
  }
  for (std::int64_t j = 0; j < m; ++j)
    for (int k = 0; k < features; ++k) a(k, j) = global.normal() / std::sqrt(double(features));
  const auto mine = engine::block_range(kernel.size(), ctx.size(), ctx.rank());
  Eigen::MatrixXd y(mine.size(), m);
  for (std::int64_t i = 0; i < mine.size(); ++i) {
    engine::RandomStream noise(seed, "bench/y-noise", std::uint64_t(mine.begin + i));
    Eigen::RowVectorXd phi(features);
    for (int k = 0; k < features; ++k) phi(k) = std::cos(x.col(mine.begin + i).dot(w.col(k)) + b(k));
    y.row(i) = phi * a;
    for (std::int64_t j = 0; j < m; ++j) y(i, j) += 0.1 * noise.normal();
  }
  return y;
}

// Iterations to bring `history.back()` down to tol at the geometric rate of the last `window` iterations.
double extrapolate_iterations(const std::vector<double>& history, double tol, std::size_t window = 10) {
  if (history.size() < 2) return NAN;
  const std::size_t w = std::min(window, history.size() - 1);
  const double last = history.back(), earlier = history[history.size() - 1 - w];
  const double rate = std::pow(last / earlier, 1.0 / double(w));
  if (!(rate < 1)) return NAN;
  return double(history.size()) + std::log(tol / last) / std::log(rate);
}

double load_average() {
  double load = NAN;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = NAN;
    std::fclose(f);
  }
  return load;
}

int run(const engine::Context& world, bench::BenchArgs& args) {
  const std::int64_t n = args.integer("n", 20000);
  const std::int64_t m = args.integer("m", 64);
  const int dims = int(args.integer("dims", 32));
  const std::uint64_t seed = std::uint64_t(args.integer("seed", 1));
  solvers::ntk::MatrixFreeParams params;
  params.num_centres = args.integer("centres", 1000);
  params.tolerance = args.real("tol", 1e-6);
  params.max_iterations = int(args.integer("max-iterations", 1000));
  params.lambda = args.real("lambda", 0);
  params.preconditioner_shift = args.real("shift", -1);
  params.tile_size = args.integer("tile", 2048);
  params.threads = int(args.integer("threads", 0));
  params.max_rhs_batch = args.integer("batch", 0);
  params.memory_budget_bytes = args.real("budget-gib", 0) * double(1ull << 30);
  params.seed = seed;
  params.check_true_residual = args.integer("true-residual", 1) == 1;
  params.checkpoint_path = args.text("checkpoint", "");
  // --stop-at=0 sets everything up (memory, preconditioner) and stops before the first iteration.
  const int stop_at = int(args.integer("stop-at", -1));
  const bool compare_exact = args.flag("exact");
  args.finish();

  const tessera::testing::ReluNtkKernel kernel(n, dims, seed);
  const Eigen::MatrixXd y = make_y(world, kernel, m, seed);
  const double rss_inputs = engine::allreduce_max(world, peak_rss_gib());

  const double load_before = load_average();
  const double cpu_before = engine::allreduce_sum(world, bench::cpu_seconds());
  int polls = 0;
  const auto result =
      solvers::ntk::solve_matrix_free(world, kernel, y, params, [&] { return stop_at >= 0 && polls++ >= stop_at; });
  const double cpu_solve = engine::allreduce_sum(world, bench::cpu_seconds()) - cpu_before;
  const double load_after = load_average();
  const double rss = engine::allreduce_max(world, peak_rss_gib());
  const double products = double(std::max<std::int64_t>(1, result.kernel_products));
  const double tile_cpu = engine::allreduce_sum(world, result.tile_cpu_seconds) / products;
  const double gemm_cpu = engine::allreduce_sum(world, result.gemm_cpu_seconds) / products;
  const double cores = double(std::thread::hardware_concurrency());

  if (world.is_root()) {
    double max_true = 0;
    for (double r : result.true_relative_residuals) max_true = std::max(max_true, r);
    double max_residual = 0;
    for (double r : result.relative_residuals) max_residual = std::max(max_residual, r);
    std::printf(
        "\n=== matrix-free NTK solve: N = %lld, m = %lld, d = %d, %d ranks x %d threads, tile %lld, "
        "load average %.1f -> %.1f on %.0f cores\n",
        (long long)n, (long long)m, dims, world.size(), result.threads, (long long)params.tile_size, load_before,
        load_after, cores);
    std::printf("preconditioner: %lld Nystrom centres, mu = %.4g, lambda = %g; set-up %.2f s\n",
                (long long)result.num_centres, result.preconditioner_mu, params.lambda, result.setup_seconds);
    std::printf(
        "batches: %d of %lld columns; planned %.2f GiB per rank; peak RSS per rank %.2f GiB (%.2f GiB "
        "before the solve)\n",
        result.batches, (long long)result.batch_columns, result.memory_bytes_planned / double(1ull << 30), rss,
        rss_inputs);
    std::printf("iterations: %d (%s), max relative residual %.3g (tol %g), max true residual %.3g\n", result.iterations,
                result.converged ? "converged" : "NOT converged", max_residual, params.tolerance, max_true);
    std::printf(
        "wall: %.2f s total, %.3f s per iteration; CPU over all ranks: %.2f s per iteration, of which "
        "kernel tiles %.3f and GEMM %.3f per product\n",
        result.seconds, result.seconds_per_iteration,
        cpu_solve / std::max(1.0, double(result.max_residual_history.size()) + 1.0), tile_cpu, gemm_cpu);
    std::printf(
        "dedicated %.0f-core estimate: %.3f s per iteration ((tiles + GEMM CPU) / cores; excludes the "
        "preconditioner, ~2M/N of the GEMM work)\n",
        cores, (tile_cpu + gemm_cpu) / cores);
    if (!result.converged) {
      const double estimate = extrapolate_iterations(result.max_residual_history, params.tolerance);
      std::printf("EXTRAPOLATED iterations to %g: %.0f (geometric rate of the last 10 iterations)\n", params.tolerance,
                  estimate);
    }
    if (m != 978) {
      const double scale = 978.0 / double(m);
      std::printf(
          "EXTRAPOLATED to m = 978 in one batch: dedicated %.0f-core %.3f s per iteration (tiles %.3f + "
          "GEMM %.3f x %.1f, CPU-s)\n",
          cores, (tile_cpu + gemm_cpu * scale) / cores, tile_cpu, gemm_cpu, scale);
    }
    std::printf("worst residual by iteration:");
    for (std::size_t i = 0; i < result.max_residual_history.size(); ++i)
      if (i % 5 == 4 || i + 1 == result.max_residual_history.size())
        std::printf(" %zu:%.2e", i + 1, result.max_residual_history[i]);
    std::printf("\n");
  }

  if (compare_exact) {
    engine::RowShardedMatrix rhs(world, n, m);
    rhs.local() = y;
    solvers::ntk::ExactOptions exact_options;
    const bench::Stopwatch time;
    const auto exact = solvers::ntk::solve_exact(world, kernel, rhs, exact_options);
    const double exact_seconds = time.seconds();
    const Eigen::MatrixXd& xe = exact.solution.local();
    Eigen::VectorXd sums(3 * m);
    for (std::int64_t j = 0; j < m; ++j) {
      sums(j) = (result.x_local.col(j) - xe.col(j)).squaredNorm();
      sums(m + j) = xe.col(j).squaredNorm();
      sums(2 * m + j) = 0;
    }
    engine::allreduce_sum(world, std::span<double>(sums.data(), std::size_t(sums.size())));
    const double rss_exact = engine::allreduce_max(world, peak_rss_gib());
    if (world.is_root()) {
      double worst = 0, diff = 0, norm = 0;
      for (std::int64_t j = 0; j < m; ++j) {
        worst = std::max(worst, std::sqrt(sums(j) / sums(m + j)));
        diff += sums(j);
        norm += sums(m + j);
      }
      std::printf(
          "exact Cholesky path: %.2f s (jitter %g); ||X_mf - X_exact||_F / ||X_exact||_F = %.3g, worst column "
          "%.3g; peak RSS per rank after it %.2f GiB\n",
          exact_seconds, exact.jitter, std::sqrt(diff / norm), worst, rss_exact);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kInfo);
  bench::BenchArgs args(argc, argv,
                        "ntk_matrix_free_bench [--n=20000] [--m=64] [--centres=1000] [--tol=1e-6] "
                        "[--max-iterations=1000] [--lambda=0] [--tile=2048] [--threads=0] [--batch=0] [--dims=32] "
                        "[--seed=1] [--exact] [--budget-gib=0] [--stop-at=K] [--checkpoint=PATH] [--true-residual=1] "
                        "[--shift=-1]");
  return bench::bench_main(world, [&] { return run(world, args); });
}
