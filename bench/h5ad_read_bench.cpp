// AnnData (.h5ad) read of a simulated single-cell screen with a CSR X: io::read_h5ad_local's wall time (slowest
// rank), stored MB/s, and peak resident memory per rank against the rank's dense block.
//
//   h5ad_read_bench [--cells=20000] [--genes=2000] [--density=0.1] [--path=/tmp/bench.h5ad] [--repeats=3]
//   mpirun -np 2 h5ad_read_bench ...
//
// The file is simulated once when missing (rank 0; bench/h5ad_simulated_file.h: counts 1..9 at `density`, obs
// with categoricals `perturbation` and `cell_type`), cell block by cell block, so its memory is bounded too.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "bench/bench_args.h"
#include "bench/h5ad_simulated_file.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "io/h5ad.h"

namespace {

using namespace tessera;
namespace fs = std::filesystem;

struct Options : bench::SimulatedH5ad {
  fs::path path = "/tmp/bench.h5ad";
  int repeats = 3;
};

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  return bench::bench_main(world, [&] {
    bench::BenchArgs args(argc, argv,
                          "h5ad_read_bench [--cells=20000] [--genes=2000] [--density=0.1] [--path=/tmp/bench.h5ad] "
                          "[--repeats=3]");
    Options o;
    o.cells = args.integer("cells", o.cells);
    o.genes = args.integer("genes", o.genes);
    o.density = args.real("density", o.density);
    o.path = args.text("path", o.path.string());
    o.repeats = int(args.integer("repeats", o.repeats));
    args.finish();
    if (world.is_root() && !fs::exists(o.path)) {
      const bench::Stopwatch time;
      bench::write_simulated_h5ad(o, o.path);
      std::printf("simulated %lld cells x %lld genes at density %.2f: %.0f MB in %.1f s (%s)\n", (long long)o.cells,
                  (long long)o.genes, o.density, double(fs::file_size(o.path)) / 1e6, time.seconds(), o.path.c_str());
    }
    bench::sleepy_barrier(world);
    std::vector<double> seconds;
    bench::reset_peak_rss();
    double block_mib = 0;
    for (int r = 0; r < o.repeats; ++r) {
      world.barrier();
      const bench::Stopwatch time;
      const auto local = io::read_h5ad_local<float>(o.path, world);
      seconds.push_back(engine::allreduce_max(world, time.seconds()));
      block_mib = double(local.values.size()) * sizeof(float) / 1048576.0;
    }
    const std::int64_t peak_kib = std::int64_t(bench::peak_rss_mib() * 1024);
    const auto peaks = engine::allgatherv(world, std::span<const std::int64_t>(&peak_kib, 1));
    if (world.is_root()) {
      const double best = *std::min_element(seconds.begin(), seconds.end());
      const double megabytes = double(fs::file_size(o.path)) / 1e6;
      std::printf("read_h5ad_local, %d rank(s): %.3f s best of [", world.size(), best);
      for (double s : seconds) std::printf(" %.3f", s);
      std::printf(" ]  %.0f MB/s of file\n  peak RSS per rank (MiB):", megabytes / best);
      for (auto kib : peaks) std::printf(" %.0f", double(kib) / 1024.0);
      std::printf("  (rank 0's dense block %.0f MiB)\n", block_mib);
    }
    return 0;
  });
}
