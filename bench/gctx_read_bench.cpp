// GCTX read throughput: io::read_gctx_local (MPI-IO, collective hyperslab per rank) against the plain HDF5
// C API reading the whole matrix in one H5Dread on one process.
//
//   gctx_read_bench [--signatures=200000] [--genes=978] [--path=/tmp/bench.gctx] [--repeats=3] [--cold]
//                   [--select-genes=978 --select-fraction=0.5]
//   mpirun -np 2 gctx_read_bench ...
//
// With --select-genes (and --select-fraction, the share of signatures kept), it also times the selected read that
// LINCS2020 beta's side tables ask for (GctxReader::read_selection: a random sorted subset of that many genes, as
// the 978 landmarks lie scattered among 12,328 genes, x a random subset of the signatures, each rank its block of
// them) against (d) one process reading the same bytes with one plain H5Dread of the same hyperslab union (built
// as read_selection builds each batch's: one OR-ed block per run would take ~50 s in HDF5 1.10).
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
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/partition.h"
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
  std::int64_t select_genes = 0;  // 0: no selected-read phase
  double select_fraction = 0.5;
};

Options parse(int argc, char** argv) {
  bench::BenchArgs args(argc, argv,
                        "gctx_read_bench [--signatures=200000] [--genes=978] [--path=/tmp/bench.gctx] [--repeats=3] "
                        "[--cold] [--select-genes=978 --select-fraction=0.5]");
  Options options;
  options.signatures = args.integer("signatures", options.signatures);
  options.genes = args.integer("genes", options.genes);
  options.path = args.text("path", options.path.string());
  options.repeats = int(args.integer("repeats", options.repeats));
  options.cold = args.flag("cold");
  options.select_genes = args.integer("select-genes", options.select_genes);
  options.select_fraction = args.real("select-fraction", options.select_fraction);
  args.finish();
  TESSERA_CHECK(options.select_genes >= 0 && options.select_genes <= options.genes, "--select-genes must be in [0, ",
                options.genes, "]");
  TESSERA_CHECK(options.select_fraction > 0 && options.select_fraction <= 1, "--select-fraction must be in (0, 1]");
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

// The selection: `count` of `n` indices, random and sorted (seeded, so every rank draws the same).
std::vector<std::int64_t> random_subset(std::int64_t n, std::int64_t count, const char* stream) {
  engine::RandomStream random(11, stream);
  std::vector<std::int64_t> all(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) all[std::size_t(i)] = i;
  random.shuffle(all);
  all.resize(std::size_t(count));
  std::sort(all.begin(), all.end());
  return all;
}

// (d) One process, the serial driver, one H5Dread of the union of (signature run) x (gene run) hyperslabs, the
// selection built as read_selection builds it; open, selection and close are timed too.
double plain_selected_seconds(const fs::path& path, const std::vector<std::int64_t>& signatures,
                              const std::vector<std::int64_t>& genes) {
  const bench::Stopwatch time;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t dataset = H5Dopen2(file, "/0/DATA/0/matrix", H5P_DEFAULT);
  const hid_t space = H5Dget_space(dataset);
  auto runs = [](const std::vector<std::int64_t>& indices) {
    std::vector<std::pair<hsize_t, hsize_t>> out;
    for (const auto i : indices) {
      if (!out.empty() && hsize_t(i) == out.back().first + out.back().second)
        ++out.back().second;
      else
        out.emplace_back(hsize_t(i), 1);
    }
    return out;
  };
  // (signature runs x all genes) AND (all signatures x gene runs), as read_selection builds it (io/gctx.cpp).
  hsize_t extent[2] = {0, 0};
  H5Sget_simple_extent_dims(space, extent, nullptr);
  const hid_t gene_columns = H5Scopy(space);
  H5S_seloper_t op = H5S_SELECT_SET;
  for (const auto& [gene, width] : runs(genes)) {
    const hsize_t offset[2] = {0, gene};
    const hsize_t block[2] = {extent[0], width};
    H5Sselect_hyperslab(gene_columns, op, offset, nullptr, block, nullptr);
    op = H5S_SELECT_OR;
  }
  op = H5S_SELECT_SET;
  for (const auto& [start, length] : runs(signatures)) {
    const hsize_t offset[2] = {start, 0};
    const hsize_t block[2] = {length, extent[1]};
    H5Sselect_hyperslab(space, op, offset, nullptr, block, nullptr);
    op = H5S_SELECT_OR;
  }
  const hid_t selection = H5Scombine_select(space, H5S_SELECT_AND, gene_columns);
  H5Sclose(gene_columns);
  const hsize_t dims[2] = {hsize_t(signatures.size()), hsize_t(genes.size())};
  const hid_t memory = H5Screate_simple(2, dims, nullptr);
  std::unique_ptr<float[]> buffer(new float[signatures.size() * genes.size()]);
  const herr_t status = H5Dread(dataset, H5T_NATIVE_FLOAT, memory, selection, H5P_DEFAULT, buffer.get());
  H5Sclose(selection);
  H5Sclose(memory);
  H5Sclose(space);
  H5Dclose(dataset);
  H5Fclose(file);
  TESSERA_CHECK(status >= 0, "plain selected H5Dread of ", path.string(), " failed");
  const double seconds = time.seconds();
  volatile float sink = buffer[signatures.size() * genes.size() - 1];
  (void)sink;
  return seconds;
}

// (c) against (d), printed by rank 0.
void selected_phase(const engine::Context& world, const Options& options) {
  const auto genes = random_subset(options.genes, options.select_genes, "bench/genes");
  const auto signatures = random_subset(
      options.signatures, std::max<std::int64_t>(1, std::int64_t(options.select_fraction * double(options.signatures))),
      "bench/signatures");
  std::vector<double> plain;
  if (world.is_root()) {
    bench::reset_peak_rss();
    for (int r = 0; r < options.repeats; ++r) {
      if (options.cold) evict_from_page_cache(options.path);
      plain.push_back(plain_selected_seconds(options.path, signatures, genes));
    }
  }
  const double plain_peak = bench::peak_rss_mib();
  bench::sleepy_barrier(world);
  std::vector<double> selected;
  bench::reset_peak_rss();
  const auto range = engine::block_range(std::int64_t(signatures.size()), world.size(), world.rank());
  const auto mine =
      std::span<const std::int64_t>(signatures).subspan(std::size_t(range.begin), std::size_t(range.size()));
  for (int r = 0; r < options.repeats; ++r) {
    if (options.cold && world.is_root()) evict_from_page_cache(options.path);
    world.barrier();
    const bench::Stopwatch time;
    const io::GctxReader reader(options.path, world);
    const Eigen::MatrixXf values = reader.read_selection<float>(mine, genes);
    const double seconds = time.seconds();
    selected.push_back(engine::allreduce_max(world, seconds));
  }
  const std::int64_t my_peak_kib = std::int64_t(bench::peak_rss_mib() * 1024);
  const auto peaks = engine::allgatherv(world, std::span<const std::int64_t>(&my_peak_kib, 1));
  if (!world.is_root()) return;
  const double bytes = double(signatures.size()) * double(genes.size()) * sizeof(float);
  const double best_plain = *std::min_element(plain.begin(), plain.end());
  const double best = *std::min_element(selected.begin(), selected.end());
  std::printf("selection: %zu of %lld genes x %zu of %lld signatures = %.0f MB of float32\n", genes.size(),
              (long long)options.genes, signatures.size(), (long long)options.signatures, bytes / 1e6);
  std::printf("(d) plain H5Dread of the selection, 1 process: %8.0f MB/s  %.3f s  [", bytes / best_plain / 1e6,
              best_plain);
  for (double s : plain) std::printf(" %.3f", s);
  std::printf(" ]  peak RSS %.0f MiB\n", plain_peak);
  std::printf("(c) read_selection, %d rank(s)              : %8.0f MB/s  %.3f s  [", world.size(), bytes / best / 1e6,
              best);
  for (double s : selected) std::printf(" %.3f", s);
  std::printf(" ]  ratio to (d) %.2f\n    peak RSS per rank (MiB):", best_plain / best);
  for (auto kib : peaks) std::printf(" %.0f", double(kib) / 1024.0);
  std::printf("  (rank's slab %.0f MiB)\n", bytes / double(world.size()) / 1048576.0);
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
    if (options.select_genes > 0) selected_phase(world, options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gctx_read_bench rank %d: %s\n", world.rank(), error.what());
    world.abort(1);
  }
  return 0;
}
