// GCTX read throughput: io::read_gctx_local (MPI-IO, collective hyperslab per rank) against the plain HDF5
// C API reading the whole matrix in one H5Dread on one process.
//
//   gctx_read_bench [--signatures=200000] [--genes=978] [--path=/tmp/bench.gctx] [--repeats=3] [--cold]
//   mpirun -np 2 gctx_read_bench ...
//
// The file is simulated once (float32 N(0,1) values, ids, cell_id and pert_id; no compression) when missing.
// Figures are data bytes / seconds, with the slowest rank's time for the distributed read. --cold evicts the
// file from the page cache (posix_fadvise DONTNEED) before each repetition; otherwise it is read warm.
#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "io/gctx.h"

namespace {

using namespace tessera;
namespace fs = std::filesystem;

struct Options {
  std::int64_t signatures = 200000;
  std::int64_t genes = 978;
  fs::path path = "/tmp/bench.gctx";
  int repeats = 3;
  bool cold = false;
};

Options parse(int argc, char** argv) {
  bench::BenchArgs args(argc, argv,
                        "gctx_read_bench [--signatures=200000] [--genes=978] [--path=/tmp/bench.gctx] [--repeats=3] "
                        "[--cold]");
  Options options;
  options.signatures = args.integer("signatures", options.signatures);
  options.genes = args.integer("genes", options.genes);
  options.path = args.text("path", options.path.string());
  options.repeats = int(args.integer("repeats", options.repeats));
  options.cold = args.flag("cold");
  args.finish();
  TESSERA_CHECK(options.signatures > 0 && options.genes > 0 && options.repeats > 0, "sizes must be positive");
  return options;
}

void evict_from_page_cache(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

void write_simulated(const Options& options) {
  io::GeneMatrix m;
  m.values.resize(options.genes, options.signatures);
  engine::RandomStream random(7, "bench/gctx");
  for (Eigen::Index i = 0; i < m.values.size(); ++i) m.values.data()[i] = float(random.normal());
  for (std::int64_t g = 0; g < options.genes; ++g) m.rows.ids.push_back("gene_" + std::to_string(g));
  io::MetaColumn cell{"cell_id", io::MetaType::kString, {}, {}};
  io::MetaColumn pert{"pert_id", io::MetaType::kString, {}, {}};
  for (std::int64_t s = 0; s < options.signatures; ++s) {
    m.cols.ids.push_back("BENCH_SIG_" + std::to_string(s));
    cell.text.push_back("CELL" + std::to_string(s % 40));
    pert.text.push_back("BRD-K" + std::to_string(10000000 + s % 5000));
  }
  m.cols.fields = {std::move(cell), std::move(pert)};
  io::write_gctx(options.path, m, {0, 1024});
}

// (a) One process, the serial (sec2) driver, one H5Dread of the whole dataset into one fresh buffer. Open and
// close are timed too, as read_gctx_local's are. With `no_chunk_cache` (a2) the dataset is opened as
// read_gctx_local opens it, so the two differ only in the driver and the per-rank selection.
double plain_read_seconds(const fs::path& path, bool no_chunk_cache, std::int64_t* elements) {
  const bench::Stopwatch time;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t access = H5Pcreate(H5P_DATASET_ACCESS);
  if (no_chunk_cache) H5Pset_chunk_cache(access, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
  const hid_t dataset = H5Dopen2(file, "/0/DATA/0/matrix", access);
  H5Pclose(access);
  const hid_t space = H5Dget_space(dataset);
  *elements = H5Sget_simple_extent_npoints(space);
  std::unique_ptr<float[]> buffer(new float[std::size_t(*elements)]);
  const herr_t status = H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.get());
  H5Sclose(space);
  H5Dclose(dataset);
  H5Fclose(file);
  TESSERA_CHECK(status >= 0, "plain H5Dread of ", path.string(), " failed");
  const double seconds = time.seconds();
  volatile float sink = buffer[std::size_t(*elements) - 1];  // keep the read observable
  (void)sink;
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  try {
    const Options options = parse(argc, argv);
    bool wrote = false;
    if (world.is_root() && !fs::exists(options.path)) {
      std::printf("writing simulated %lld x %lld float32 file %s ...\n", (long long)options.signatures,
                  (long long)options.genes, options.path.c_str());
      std::fflush(stdout);
      const bench::Stopwatch time;
      write_simulated(options);
      wrote = true;
      std::printf("  written in %.1f s (%.0f MB)\n", time.seconds(), double(fs::file_size(options.path)) / 1e6);
    }
    bench::sleepy_barrier(world);

    // (a) plain HDF5 on rank 0 alone.
    std::vector<double> plain, plain_no_cache;
    std::int64_t elements = 0;
    if (world.is_root()) {
      bench::reset_peak_rss();
      for (int r = 0; r < options.repeats; ++r) {
        if (options.cold) evict_from_page_cache(options.path);
        plain.push_back(plain_read_seconds(options.path, false, &elements));
        if (options.cold) evict_from_page_cache(options.path);
        plain_no_cache.push_back(plain_read_seconds(options.path, true, &elements));
      }
    }
    const double plain_peak = bench::peak_rss_mib();
    bench::sleepy_barrier(world);

    // (b) read_gctx_local on every rank; a repetition takes as long as its slowest rank.
    std::vector<double> distributed;
    bench::reset_peak_rss();
    for (int r = 0; r < options.repeats; ++r) {
      if (options.cold && world.is_root()) evict_from_page_cache(options.path);
      world.barrier();
      const bench::Stopwatch time;
      const auto local = io::read_gctx_local<float>(options.path, world);
      const double seconds = time.seconds();
      distributed.push_back(engine::allreduce_max(world, seconds));
      if (r == 0) elements = std::int64_t(local.rows.size()) * std::int64_t(local.cols.size());
    }
    const std::int64_t my_peak_kib = std::int64_t(bench::peak_rss_mib() * 1024);
    const auto peaks = engine::allgatherv(world, std::span<const std::int64_t>(&my_peak_kib, 1));

    if (world.is_root()) {
      const double bytes = double(elements) * sizeof(float);
      const double best_plain = *std::min_element(plain.begin(), plain.end());
      const double best_distributed = *std::min_element(distributed.begin(), distributed.end());
      std::printf("file %s: %.0f MB of float32 data, %s page cache, %d repetitions (best shown, then all)\n",
                  options.path.c_str(), bytes / 1e6, options.cold ? "cold (evicted)" : "warm", options.repeats);
      std::printf("(a) plain H5Dread, 1 process     : %8.0f MB/s  %.3f s  [", bytes / best_plain / 1e6, best_plain);
      for (double s : plain) std::printf(" %.3f", s);
      std::printf(" ]  peak RSS %.0f MiB\n", plain_peak);
      const double best_no_cache = *std::min_element(plain_no_cache.begin(), plain_no_cache.end());
      std::printf("(a2) same, chunk cache off       : %8.0f MB/s  %.3f s  [", bytes / best_no_cache / 1e6,
                  best_no_cache);
      for (double s : plain_no_cache) std::printf(" %.3f", s);
      std::printf(" ]\n");
      std::printf("(b) read_gctx_local, %d rank(s)   : %8.0f MB/s  %.3f s  [", world.size(),
                  bytes / best_distributed / 1e6, best_distributed);
      for (double s : distributed) std::printf(" %.3f", s);
      std::printf(" ]  ratio to (a) %.2f, to (a2) %.2f\n", best_plain / best_distributed,
                  best_no_cache / best_distributed);
      std::printf("    peak RSS per rank (MiB):");
      for (auto kib : peaks) std::printf(" %.0f", double(kib) / 1024.0);
      std::printf("%s\n", wrote ? "  (rank 0 wrote the file in this run)" : "");
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gctx_read_bench rank %d: %s\n", world.rank(), error.what());
    world.abort(1);
  }
  return 0;
}
