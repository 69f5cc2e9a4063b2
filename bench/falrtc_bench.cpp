// FaLRTC (solvers/imputation/falrtc.h) time per iteration, total time and peak memory per rank.
//
//   falrtc_bench [--drugs=2000] [--cells=50] [--genes=978] [--observed=0.1] [--rank=10] [--noise=0.1]
//                [--iterations=20] [--seed=1]
//   mpirun -np 2 falrtc_bench ...
//
// Workload: T[d, g, c] = sum_r a_dr b_gr c_cr / sqrt(rank) + noise * N(0, 1), factors N(0, 1), each (cell, drug)
// gene fiber observed with probability --observed. Every rank generates only its own gene slab (the factors and
// the mask are replicated and drawn per unit of work from the seed), so the figures are FaLRTC's own memory, not
// a whole table per rank. Default FaLRTC parameters (Hodos: weights 1, 0.01, 1) except --iterations; tolerance 0,
// so every iteration runs.
// Figures: per iteration its line-search trials (each one gradient evaluation: three Grams, three operators and
// three Gram-only evaluations of the trial point) and wall seconds; the total; seconds per trial; the relative
// error on the unobserved fibers against the noiseless tensor; peak RSS (getrusage ru_maxrss) and CPU seconds of
// every rank (wall time is only meaningful on an otherwise idle machine; CPU time is not). BLAS threads follow
// OpenBLAS: set OPENBLAS_NUM_THREADS=1 to time one core per rank.
#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/random.h"
#include "solvers/imputation/falrtc.h"

namespace {

using namespace tessera;
using solvers::imputation::FalrtcParams;
using solvers::imputation::SlabLayout;
using solvers::imputation::TensorShape;

struct Options {
  TensorShape shape{2000, 978, 50};
  double observed = 0.1;
  int rank = 10;
  double noise = 0.1;
  int iterations = 20;
  std::uint64_t seed = 1;
};

Options parse(int argc, char** argv) {
  bench::BenchArgs args(argc, argv,
                        "falrtc_bench [--drugs=2000] [--cells=50] [--genes=978] [--observed=0.1] [--rank=10] "
                        "[--noise=0.1] [--iterations=20] [--seed=1]");
  Options o;
  o.shape.drugs = args.integer("drugs", o.shape.drugs);
  o.shape.cells = args.integer("cells", o.shape.cells);
  o.shape.genes = args.integer("genes", o.shape.genes);
  o.observed = args.real("observed", o.observed);
  o.rank = int(args.integer("rank", o.rank));
  o.noise = args.real("noise", o.noise);
  o.iterations = int(args.integer("iterations", o.iterations));
  o.seed = std::uint64_t(args.integer("seed", std::int64_t(o.seed)));
  args.finish();
  TESSERA_CHECK(o.shape.drugs > 0 && o.shape.cells > 0 && o.shape.genes > 0 && o.rank > 0 && o.iterations > 0,
                "sizes, rank and iterations must be positive");
  TESSERA_CHECK(o.observed > 0 && o.observed <= 1, "--observed is a share in (0, 1]");
  return o;
}

Eigen::MatrixXd normal_matrix(std::uint64_t seed, const char* purpose, std::int64_t rows, std::int64_t cols) {
  engine::RandomStream stream(seed, purpose);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = stream.normal();
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);
  try {
    const Options o = parse(argc, argv);
    const TensorShape& shape = o.shape;
    const SlabLayout layout(world, shape);
    const auto rows = layout.genes();

    // This rank's gene slab: the noiseless low-rank tensor (kept for the error) and the noisy data.
    const bench::Stopwatch setup_time;
    const Eigen::MatrixXd a = normal_matrix(o.seed, "bench/falrtc/drug", shape.drugs, o.rank);
    const Eigen::MatrixXd b = normal_matrix(o.seed, "bench/falrtc/gene", shape.genes, o.rank);
    const Eigen::MatrixXd c =
        normal_matrix(o.seed, "bench/falrtc/cell", shape.cells, o.rank) / std::sqrt(double(o.rank));
    const Eigen::MatrixXd b_local = b.middleRows(rows.begin, rows.size());
    Eigen::MatrixXd truth(rows.size(), shape.entries()), data(rows.size(), shape.entries());
    std::vector<std::uint8_t> observed(std::size_t(shape.entries()));
    engine::RandomStream mask(o.seed, "bench/falrtc/mask");
    for (std::int64_t cell = 0; cell < shape.cells; ++cell) {
      // d x rank weights of this cell, times the local gene factor: genes x drugs at once.
      const Eigen::MatrixXd weights = a * c.row(cell).asDiagonal();
      truth.middleCols(cell * shape.drugs, shape.drugs).noalias() = b_local * weights.transpose();
    }
    for (std::int64_t e = 0; e < shape.entries(); ++e) {
      observed[std::size_t(e)] = mask.uniform() < o.observed;
      // Noise drawn per (entry, gene) so that it does not depend on the rank count.
      engine::RandomStream noise(o.seed, "bench/falrtc/noise", std::uint64_t(e));
      for (std::int64_t g = 0; g < shape.genes; ++g) {
        const double z = noise.normal();
        if (rows.contains(g)) data(g - rows.begin, e) = truth(g - rows.begin, e) + o.noise * z;
      }
    }
    const double setup_seconds = setup_time.seconds();
    const double base_rss = bench::peak_rss_mib();

    FalrtcParams params;
    params.iterations = o.iterations;
    params.tolerance = 0;
    Eigen::MatrixXd completed;
    world.barrier();
    const double cpu_start = bench::cpu_seconds();
    const auto result = solvers::imputation::falrtc_complete(layout, data, observed, params, completed);
    const double cpu = bench::cpu_seconds() - cpu_start;

    double err[2] = {0, 0};
    for (std::int64_t e = 0; e < shape.entries(); ++e) {
      if (observed[std::size_t(e)]) continue;
      err[0] += (completed.col(e) - truth.col(e)).squaredNorm();
      err[1] += truth.col(e).squaredNorm();
    }
    engine::allreduce_sum(world, std::span<double>(err));
    const double rss = bench::peak_rss_mib();
    const std::vector<double> all_rss = engine::allgatherv(world, std::span<const double>(&rss, 1));
    const std::vector<double> all_base = engine::allgatherv(world, std::span<const double>(&base_rss, 1));
    const std::vector<double> all_cpu = engine::allgatherv(world, std::span<const double>(&cpu, 1));

    if (world.is_root()) {
      std::int64_t n_observed = 0;
      for (const auto f : observed) n_observed += f;
      std::printf(
          "FaLRTC benchmark: %lld drugs x %lld genes x %lld cells (%.1f M values, %.0f MiB per tensor), "
          "%lld of %lld fibers observed (%.1f%%), CP rank %d, noise %.2f, %d ranks\n",
          (long long)shape.drugs, (long long)shape.genes, (long long)shape.cells, double(shape.size()) / 1e6,
          double(shape.size()) * 8 / 1048576.0, (long long)n_observed, (long long)shape.entries(),
          100.0 * double(n_observed) / double(shape.entries()), o.rank, o.noise, world.size());
      std::printf("data setup %.2f s (not timed below)\n", setup_seconds);
      std::printf("%5s %7s %12s %10s %12s %14s\n", "iter", "trials", "L", "seconds", "s/trial", "rel. change");
      for (const auto& it : result.history)
        std::printf("%5d %7d %12.4g %10.3f %12.3f %14.4e\n", it.iteration, it.trials, it.lipschitz, it.seconds,
                    it.seconds / it.trials, it.relative_change);
      const double iter_seconds = result.history.empty() ? 0 : [&] {
        double s = 0;
        for (const auto& it : result.history) s += it.seconds;
        return s / double(result.history.size());
      }();
      std::printf("total %.2f s for %zu iterations and %d trials: %.3f s per iteration, %.3f s per trial%s\n",
                  result.seconds, result.history.size(), result.evaluations, iter_seconds,
                  result.seconds / std::max(1, result.evaluations),
                  result.lipschitz_limit ? " (stopped: Lipschitz limit)" : "");
      std::printf("relative error on unobserved fibers vs the noiseless tensor: %.4f\n", std::sqrt(err[0] / err[1]));
      for (std::size_t r = 0; r < all_rss.size(); ++r)
        std::printf(
            "rank %zu: peak RSS %.0f MiB (%.0f MiB before FaLRTC: data + noiseless copy), FaLRTC CPU %.1f s "
            "(user + system, all threads)\n",
            r, all_rss[r], all_base[r], all_cpu[r]);
    }
  } catch (const std::exception& e) {
    engine::any_rank_error(e.what());
    world.abort(1);
  }
  return 0;
}
