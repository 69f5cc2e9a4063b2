// Exact NTK solve at scale: kernel build time, Cholesky and triangular-solve GFLOP/s as a fraction of this
// machine's own DPOTRF rate (measured in the same run, on one rank with all cores), and peak memory per rank
// against the kernel's share.
//
//   ntk_exact_bench [--n=20000] [--genes=978] [--block=128]
//   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 ntk_exact_bench --n=20000
//   ntk_exact_bench --device=cuda --n=50000 [--queries=2000] [--check]     (one rank, one GPU)
//   ntk_exact_bench --device=cuda --n=500000 --genes=16 --matrix-free=3    (PCG products on the GPU)
//
// With --device=cuda the same problem is solved on the GPU (solvers/ntk/device/device_exact.h): kernel build,
// cuSOLVER Cholesky GFLOP/s, solve, and the predictions of --queries reference-cell pairs; --check also solves it
// on the CPU (all cores) and prints the predictions' relative difference. --matrix-free=K instead runs K
// iterations of the matrix-free solver (1,000 Nystrom centres) with its kernel products on the GPU and prints the
// seconds per PCG iteration (the iterations to 1e-6 are the CPU bench's: the same system).
//
// The problem is a synthetic (cell type x drug) table: a reference cell type that measured every drug plus 40
// cell types x N/40 drugs, every entry a training pair with random signatures, so the kernel has N training
// rows (reference prior, published defaults alpha 0.75, beta 1.5, depth 1). Order of work: features, kernel
// build + Cholesky + solve (solve_exact), peak memory read (getrusage), then the reference DPOTRF of a random SPD
// matrix of the same N on rank 0 while the other ranks wait without spinning, so neither disturbs the other.
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/device.h"
#include "engine/log.h"
#include "engine/random.h"
#include "engine/scalapack.h"
#include "solvers/ntk/device/device_exact.h"
#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/flat_tables.h"
#include "solvers/ntk/kernel/ntk_operator.h"
#include "solvers/ntk/solve/exact.h"
#include "solvers/ntk/solve/matrix_free.h"

namespace {

using namespace tessera;

// "prefix" followed by k (built with += : GCC 12 warns falsely on "literal" + std::to_string).
std::string numbered(const char* prefix, std::int64_t k) {
  std::string id(prefix);
  id += std::to_string(k);
  return id;
}

io::PerturbationTable synthetic_table(std::int64_t n, std::int64_t genes) {
  const std::int64_t other_cells = 40, drugs = (n + other_cells - 1) / other_cells;
  io::PerturbationTable t;
  for (std::int64_t g = 0; g < genes; ++g) t.genes.push_back(numbered("g", g));
  t.cells.push_back("REF");
  for (std::int64_t c = 0; c < other_cells; ++c) t.cells.push_back(numbered("cell", c));
  for (std::int64_t d = 0; d < drugs; ++d) t.perts.push_back(numbered("drug", d));
  const auto entries = t.num_entries();
  Eigen::MatrixXd dense(genes, entries);
  t.observed.assign(std::size_t(entries), 0);
  t.replicates.assign(std::size_t(entries), 0);
  engine::RandomStream random(1, "bench/ntk-exact");
  std::int64_t kept = 0;
  for (std::int64_t e = 0; e < entries; ++e) {
    // Reference: every drug; other cell types: the first n pairs.
    const bool observed = t.cell_of(e) == 0 || kept++ < n;
    for (std::int64_t g = 0; g < genes; ++g) dense(g, e) = observed ? random.normal() : 0.0;
    t.observed[std::size_t(e)] = observed ? 1 : 0;
  }
  t.set_dense(dense);
  t.controls = Eigen::MatrixXd::Zero(genes, t.num_cells());
  t.control_counts.assign(std::size_t(t.num_cells()), 0);
  return t;
}

// The GPU run of the same problem (--device=cuda), on this rank's device; with `check` the CPU's answer too.
void run_on_device(const engine::Context& world, const io::PerturbationTable& table,
                   const solvers::ntk::PairFeatures& features, const solvers::ntk::NtkOperator& kernel,
                   const std::vector<std::int64_t>& pairs, std::int64_t genes, std::int64_t query_count, bool check) {
  TESSERA_CHECK(world.size() == 1, "--device=cuda runs on one rank (one GPU)");
  const auto device = engine::select_device(world, engine::DeviceRequest::kCuda, "--device");
  std::vector<std::int64_t> queries;  // reference-cell pairs: never in the kernel
  for (std::int64_t d = 0; d < table.num_perts() && std::int64_t(queries.size()) < query_count; ++d)
    queries.push_back(table.entry(0, d));
  const auto query_pairs = features.encode(queries);
  Eigen::MatrixXd rhs(kernel.size(), genes);
  for (std::int64_t i = 0; i < kernel.size(); ++i) rhs.row(i) = table.signature(pairs[std::size_t(i)]).transpose();

  bench::Stopwatch time;
  const auto result =
      solvers::ntk::solve_exact_on_device(features, kernel.pairs(), query_pairs, solvers::ntk::NtkShape{}, rhs);
  const double total = time.seconds();
  const double nn = double(kernel.size());
  std::printf("ntk_exact_bench: N = %lld training pairs, %lld genes, %zu queries on %s\n", (long long)kernel.size(),
              (long long)genes, queries.size(), device.description().c_str());
  std::printf("  kernel build (GPU)    %8.3f s   (%.0f M entries/s over the lower triangle)\n", result.build_seconds,
              nn * (nn + 1) / 2 / result.build_seconds / 1e6);
  std::printf("  Cholesky (cuSOLVER)   %8.3f s   %8.1f GFLOP/s (%d factorisation(s), jitter %g)\n",
              result.factor_seconds, nn * nn * nn / 3.0 / result.factor_seconds / 1e9, result.factorisations,
              result.jitter);
  std::printf("  Y up + potrs          %8.3f s   %8.1f GFLOP/s\n", result.solve_seconds,
              2.0 * nn * nn * double(genes) / result.solve_seconds / 1e9);
  std::printf("  predictions           %8.3f s\n", result.predict_seconds);
  std::printf(
      "  total on the GPU      %8.3f s   (device memory estimate %.2f GB)\n", total,
      solvers::ntk::device_exact_bytes(kernel.size(), genes, solvers::ntk::rho_table_bytes(features.rho_tables())) /
          1e9);
  if (!check) return;
  time.restart();
  const auto cpu =
      solvers::ntk::solve_exact(world, kernel, engine::RowShardedMatrix::scatter_from_replicated(world, rhs));
  Eigen::MatrixXd cross(kernel.size(), Eigen::Index(queries.size()));
  kernel.cross_tile(query_pairs, 0, 0, cross);
  const Eigen::MatrixXd expected = cpu.solution.local().transpose() * cross;
  const double cpu_seconds = time.seconds();
  std::printf("  CPU exact (same N)    %8.3f s   predictions' relative difference GPU vs CPU %.2e\n", cpu_seconds,
              (result.predictions - expected).norm() / expected.norm());
}

// K iterations of the matrix-free solver with the kernel products on this rank's GPU (--matrix-free=K).
void run_matrix_free_on_device(const engine::Context& world, const io::PerturbationTable& table,
                               const std::shared_ptr<const solvers::ntk::PairFeatures>& features,
                               const std::vector<std::int64_t>& pairs, std::int64_t genes, int iterations) {
  const auto device = engine::select_device(world, engine::DeviceRequest::kCuda, "--device");
  const solvers::ntk::NtkOperator kernel(features, features->encode(pairs), solvers::ntk::NtkShape{}, device);
  const auto mine = engine::block_range(kernel.size(), world.size(), world.rank());
  Eigen::MatrixXd rhs(mine.size(), genes);
  for (auto i = mine.begin; i < mine.end; ++i)
    rhs.row(i - mine.begin) = table.signature(pairs[std::size_t(i)]).transpose();
  solvers::ntk::MatrixFreeParams params;
  params.max_iterations = iterations;
  const auto result = solvers::ntk::solve_matrix_free(world, kernel, rhs, params);
  if (!world.is_root()) return;
  std::printf("ntk_exact_bench --matrix-free: N = %lld training pairs, %lld genes, %d rank(s), products on %s\n",
              (long long)kernel.size(), (long long)genes, world.size(), device.description().c_str());
  std::printf("  preconditioner set-up %8.2f s   (%lld Nystrom centres, on the CPU)\n", result.setup_seconds,
              (long long)result.num_centres);
  std::printf(
      "  PCG iterations        %8d     %.3f s per iteration (GPU block products %.3f s in all), worst "
      "residual %.3g\n",
      result.iterations, result.seconds_per_iteration, result.tile_cpu_seconds,
      result.max_residual_history.empty() ? 0.0 : result.max_residual_history.back());
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);

  try {
    bench::BenchArgs args(argc, argv,
                          "ntk_exact_bench [--n=20000] [--genes=978] [--block=128] [--device=cpu|cuda] "
                          "[--queries=2000] [--check] [--matrix-free=iterations]");
    const std::int64_t n = args.integer("n", 20000);
    const std::int64_t genes = args.integer("genes", 978);
    const std::int64_t block = args.integer("block", 128);
    const std::string device = args.text("device", "cpu");
    const std::int64_t queries = args.integer("queries", 2000);
    const bool check = args.flag("check");
    const int matrix_free_iterations = int(args.integer("matrix-free", 0));
    args.finish();

    // Features and the training pairs (every non-reference entry).
    bench::Stopwatch time;
    const auto table = synthetic_table(n, genes);
    std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
    solvers::ntk::FeatureOptions options;
    options.reference_cells = {0};
    const auto features = std::make_shared<const solvers::ntk::PairFeatures>(table, train, options);
    std::vector<std::int64_t> pairs;
    for (std::int64_t e = 0; e < table.num_entries(); ++e)
      if (table.observed[std::size_t(e)] && table.cell_of(e) != 0) pairs.push_back(e);
    const solvers::ntk::NtkOperator kernel(features, features->encode(pairs), solvers::ntk::NtkShape{});
    engine::RowShardedMatrix rhs(world, kernel.size(), genes);
    for (auto i = rhs.range().begin; i < rhs.range().end; ++i)
      rhs.local().row(i - rhs.range().begin) = table.signature(pairs[std::size_t(i)]).transpose();
    const double feature_seconds = time.seconds();
    if (device == "cuda" && matrix_free_iterations > 0) {
      run_matrix_free_on_device(world, table, features, pairs, genes, matrix_free_iterations);
      return 0;
    }
    if (device == "cuda") {
      run_on_device(world, table, *features, kernel, pairs, genes, queries, check);
      return 0;
    }
    TESSERA_CHECK(device == "cpu", "--device must be cpu or cuda, not '", device, "'");

    world.barrier();
    time.restart();
    solvers::ntk::ExactOptions exact;
    exact.block_size = block;
    const auto result = solvers::ntk::solve_exact(world, kernel, rhs, exact);
    const double total_seconds = time.seconds();
    const double rss = bench::peak_rss_mib() * 1048576.0;
    const double rss_max = engine::allreduce_max(world, rss), rss_min = -engine::allreduce_max(world, -rss);
    const double kernel_share = double(result.kernel_values) * 8.0;
    const double kernel_share_max = engine::allreduce_max(world, kernel_share);
    const double build = engine::allreduce_max(world, result.build_seconds);
    const double factor = engine::allreduce_max(world, result.factor_seconds);
    const double solve = engine::allreduce_max(world, result.solve_seconds);

    // The machine's own DPOTRF rate: rank 0 alone, all cores, same N.
    double reference_seconds = 0;
    if (world.is_root()) {
      engine::RandomStream random(2, "bench/spd");
      Eigen::MatrixXd spd(kernel.size(), kernel.size());
      // A well-conditioned SPD matrix without an N^3 product: the NTK kernel's own tiles plus a diagonal shift.
      kernel.tile(0, 0, spd);
      spd.diagonal().array() += 1.0;
      const bench::Stopwatch reference_time;
      const int info = engine::lapack_cholesky_factor(spd);
      reference_seconds = reference_time.seconds();
      if (info != 0) std::fprintf(stderr, "reference DPOTRF failed: info %d\n", info);
    }
    bench::sleepy_barrier(world);

    if (world.is_root()) {
      const double nn = double(kernel.size());
      const double potrf_flops = nn * nn * nn / 3.0, potrs_flops = 2.0 * nn * nn * double(genes);
      const double reference_rate = potrf_flops / reference_seconds / 1e9;
      const double factor_rate = potrf_flops / factor / 1e9;
      const auto [grid_rows, grid_cols] = engine::blacs_grid_shape(world.size());
      std::printf(
          "ntk_exact_bench: N = %lld training pairs, %lld genes, %d rank(s) (grid %d x %d, block %lld), "
          "%u hardware threads\n",
          (long long)kernel.size(), (long long)genes, world.size(), grid_rows, grid_cols, (long long)block,
          std::thread::hardware_concurrency());
      std::printf("  features + table      %8.2f s\n", feature_seconds);
      std::printf("  kernel build          %8.2f s   (%.1f M entries/s per job over the lower triangle)\n", build,
                  nn * (nn + 1) / 2 / build / 1e6);
      std::printf(
          "  Cholesky (%s)  %8.2f s   %7.1f GFLOP/s = %.2f of this machine's DPOTRF (%.1f GFLOP/s, "
          "%.2f s, one rank, all cores)\n",
          world.size() == 1 ? "DPOTRF " : "PDPOTRF", factor, factor_rate, factor_rate / reference_rate, reference_rate,
          reference_seconds);
      std::printf("  triangular solves     %8.2f s   %7.1f GFLOP/s (%lld right-hand sides, incl. redistribution)\n",
                  solve, potrs_flops / solve / 1e9, (long long)genes);
      std::printf("  solve_exact total     %8.2f s   (%d factorisation(s), jitter %g)\n", total_seconds,
                  result.factorisations, result.jitter);
      std::printf(
          "  peak memory per rank  %8.2f GB max, %.2f GB min; kernel share %.2f GB per rank "
          "(%.2f of peak); B + X %.2f GB per rank\n",
          rss_max / 1e9, rss_min / 1e9, kernel_share_max / 1e9, kernel_share_max / rss_max,
          2.0 * nn * double(genes) * 8 / world.size() / 1e9);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ntk_exact_bench: %s\n", e.what());
    world.abort(1);
  }
  return 0;
}
