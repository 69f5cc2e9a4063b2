// Read + pseudobulk of a simulated single-cell screen (.h5ad, CSR X): the issue-15 benchmark. Times, on the rank
// count it runs with (slowest rank, best of --repeats):
//   read       a plain pread() of each rank's share of the file's bytes: the rate the file system (here, mostly
//              the page cache) gives, the ceiling the phases below are compared with;
//   open       io::H5adCells opened (every rank reads all of obs and var) and the cells' groups made: the part of
//              the pseudobulk that does not shrink with more ranks;
//   pseudobulk io::pseudobulk alone (file opened, groups = (cell_type, perturbation) from obs, cells summed), as
//              stored and with normalize_total = 1e4 + log1p;
//   load_table jobs::load_table's whole path (obs fields cell_type / perturbation, control "control": pseudobulk,
//              then io::aggregate's table), as stored and with normalize_total = 1e4 + log1p.
// and prints cells/s, stored values/s, MB/s of the file, the fraction of the plain read rate, and the peak
// resident memory (VmHWM) of every rank in each phase. At the size the file sits in the page cache and the
// pseudobulk runs at 3-6% of the plain read rate: it is bound by the CPU work per stored value (perf, 1 rank: half
// the time in io::pseudobulk's per-cell sums, a fifth in log1p, about 10% in HDF5's type conversion and copies).
//
//   pseudobulk_bench [--cells=20000] [--genes=2000] [--density=0.1] [--path=/tmp/pseudobulk_bench_CxG_D.h5ad]
//                    [--repeats=3] [--write-means=PREFIX]
//   mpirun -np 2 pseudobulk_bench --cells=1000000 --genes=5000 --density=0.1   (the size: a ~4 GB file)
//
// The file is simulated once when missing (rank 0, bench/h5ad_simulated_file.h) and kept for the next run: delete
// it afterwards. --write-means=PREFIX writes the pseudobulk's group means (rows = groups with cells, columns
// cell_type, perturbation, n_cells, then one per gene) to PREFIX.raw.csv and PREFIX.norm_log1p.csv, which
// bench/pseudobulk_anndata.py checks its anndata + scipy means against.
#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "bench/bench_args.h"
#include "bench/h5ad_simulated_file.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/h5ad.h"
#include "io/pseudobulk.h"
#include "jobs/table_input.h"

namespace {

using namespace tessera;
namespace fs = std::filesystem;

struct Options : bench::SimulatedH5ad {
  fs::path path;  // default: named by the simulation's options, so that a file of another size is never reused
  int repeats = 3;
  std::string write_means;
};

// Peak resident memory (VmHWM) in MiB. reset_peak_rss() restarts VmHWM, while getrusage's ru_maxrss may keep the
// peak of threads that have exited, so each phase's own peak is read here.
double peak_hwm_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// X's shape (cells, genes) and stored values (the length of /X/data).
struct Stored {
  std::int64_t cells = 0, genes = 0, values = 0;
};
Stored stored(const fs::path& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  TESSERA_CHECK(file >= 0, "cannot open ", path.string());
  const hid_t x = H5Gopen2(file, "X", H5P_DEFAULT);
  const hid_t data = x >= 0 ? H5Dopen2(x, "data", H5P_DEFAULT) : -1;
  const hid_t shape = x >= 0 ? H5Aopen(x, "shape", H5P_DEFAULT) : -1;
  TESSERA_CHECK(data >= 0 && shape >= 0, path.string(), ": no CSR /X (data and a shape attribute); delete the file ",
                "so that the bench simulates it again");
  std::int64_t dims[2] = {0, 0};
  H5Aread(shape, H5T_NATIVE_INT64, dims);
  const hid_t space = H5Dget_space(data);
  hsize_t size = 0;
  H5Sget_simple_extent_dims(space, &size, nullptr);
  H5Sclose(space);
  H5Aclose(shape);
  H5Dclose(data);
  H5Gclose(x);
  H5Fclose(file);
  return {dims[0], dims[1], std::int64_t(size)};
}

// This rank's contiguous share of the file's bytes, read with pread() in 16 MiB pieces: what reading the bytes
// alone costs, with no HDF5 and no arithmetic.
void read_bytes(const engine::Context& world, const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  TESSERA_CHECK(fd >= 0, "cannot open ", path.string());
  const auto share = engine::block_range(std::int64_t(fs::file_size(path)), world.size(), world.rank());
  std::vector<char> buffer(std::size_t(1) << 24);
  for (std::int64_t at = share.begin; at < share.end;) {
    const auto got = ::pread(fd, buffer.data(), std::size_t(std::min<std::int64_t>(share.end - at, 1 << 24)), at);
    TESSERA_CHECK(got > 0, "cannot read ", path.string());
    at += got;
  }
  ::close(fd);
}

// Groups = (cell_type, perturbation) pairs, numbered type x perturbations + perturbation over each column's values
// in order of first appearance.
struct CellGroups {
  std::vector<std::int64_t> of_cell;
  std::vector<std::string> cell_type, perturbation;  // per group
};

CellGroups cell_groups(const io::H5adCells& file) {
  const auto& types = file.obs().require("cell_type", file.path().string());
  const auto& perts = file.obs().require("perturbation", file.path().string());
  std::map<std::string, std::int64_t> type_index, pert_index;
  std::vector<std::string> type_names, pert_names;
  for (std::size_t i = 0; i < file.obs().size(); ++i) {
    if (type_index.emplace(types.text[i], std::int64_t(type_names.size())).second) type_names.push_back(types.text[i]);
    if (pert_index.emplace(perts.text[i], std::int64_t(pert_names.size())).second) pert_names.push_back(perts.text[i]);
  }
  CellGroups groups;
  for (std::size_t i = 0; i < file.obs().size(); ++i)
    groups.of_cell.push_back(type_index[types.text[i]] * std::int64_t(pert_names.size()) + pert_index[perts.text[i]]);
  for (const auto& t : type_names)
    for (const auto& p : pert_names) {
      groups.cell_type.push_back(t);
      groups.perturbation.push_back(p);
    }
  return groups;
}

struct GroupMeans {
  io::Pseudobulk result;
  CellGroups groups;
};

GroupMeans pseudobulk(const engine::Context& world, const fs::path& path, const io::PseudobulkOptions& options) {
  const io::H5adCells file(path, world);
  GroupMeans out{{}, cell_groups(file)};
  std::vector<std::int64_t> genes(std::size_t(file.num_genes()));
  for (std::size_t g = 0; g < genes.size(); ++g) genes[g] = std::int64_t(g);
  out.result =
      io::pseudobulk(world, file, out.groups.of_cell, std::int64_t(out.groups.cell_type.size()), genes, options);
  return out;
}

void write_means(const GroupMeans& means, const fs::path& path) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  TESSERA_CHECK(out != nullptr, "cannot write ", path.string());
  std::fprintf(out, "cell_type,perturbation,n_cells");
  for (Eigen::Index g = 0; g < means.result.means.rows(); ++g) std::fprintf(out, ",gene%lld", (long long)g);
  std::fprintf(out, "\n");
  for (std::size_t k = 0; k < means.groups.cell_type.size(); ++k) {
    if (means.result.cells[k] == 0) continue;
    std::fprintf(out, "%s,%s,%lld", means.groups.cell_type[k].c_str(), means.groups.perturbation[k].c_str(),
                 (long long)means.result.cells[k]);
    for (Eigen::Index g = 0; g < means.result.means.rows(); ++g)
      std::fprintf(out, ",%.17g", means.result.means(g, Eigen::Index(k)));
    std::fprintf(out, "\n");
  }
  TESSERA_CHECK(std::fclose(out) == 0, "cannot write ", path.string());
}

struct Timed {
  std::vector<double> seconds;         // per repeat, slowest rank
  std::vector<std::int64_t> peak_kib;  // per rank, the largest over the repeats
};

Timed time_phase(const engine::Context& world, int repeats, const std::function<void()>& body) {
  Timed timed;
  double peak = 0;
  for (int r = 0; r < repeats; ++r) {
    bench::sleepy_barrier(world);
    bench::reset_peak_rss();
    const bench::Stopwatch time;
    body();
    timed.seconds.push_back(engine::allreduce_max(world, time.seconds()));
    peak = std::max(peak, peak_hwm_mib());
  }
  const std::int64_t kib = std::int64_t(peak * 1024);
  timed.peak_kib = engine::allgatherv(world, std::span<const std::int64_t>(&kib, 1));
  return timed;
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  return bench::bench_main(world, [&] {
    bench::BenchArgs args(argc, argv,
                          "pseudobulk_bench [--cells=20000] [--genes=2000] [--density=0.1] "
                          "[--path=/tmp/pseudobulk_bench_CELLSxGENES_DENSITY.h5ad] [--repeats=3] "
                          "[--write-means=PREFIX]");
    Options o;
    o.cells = args.integer("cells", o.cells);
    o.genes = args.integer("genes", o.genes);
    o.density = args.real("density", o.density);
    char name[128];
    std::snprintf(name, sizeof name, "/tmp/pseudobulk_bench_%lldx%lld_%g.h5ad", (long long)o.cells, (long long)o.genes,
                  o.density);
    o.path = args.text("path", name);
    o.repeats = int(args.integer("repeats", o.repeats));
    o.write_means = args.text("write-means", "");
    args.finish();
    TESSERA_CHECK(o.repeats >= 1, "--repeats=", o.repeats, " must be at least 1");
    if (world.is_root() && !fs::exists(o.path)) {
      const bench::Stopwatch time;
      bench::write_simulated_h5ad(o, o.path);
      std::printf("simulated %lld cells x %lld genes at density %.2f: %.0f MB in %.1f s (%s)\n", (long long)o.cells,
                  (long long)o.genes, o.density, double(fs::file_size(o.path)) / 1e6, time.seconds(), o.path.c_str());
    }
    bench::sleepy_barrier(world);
    const Stored file = stored(o.path);
    TESSERA_CHECK(file.cells == o.cells && file.genes == o.genes, o.path.string(), " holds ", file.cells, " cells x ",
                  file.genes, " genes, not the ", o.cells, " x ", o.genes,
                  " asked for: delete it (the bench then simulates the file again) or give another --path");
    const double baseline_mib = bench::current_rss_mib();  // before any phase: MPI, HDF5 and the program itself

    io::PseudobulkOptions raw, normalized;
    normalized.normalize_total = 1e4;
    normalized.log1p = true;
    jobs::TableOptions table;
    table.cell_field = "cell_type";
    table.pert_field = "perturbation";
    table.single_cell.control_values = {"control"};
    table.single_cell_given = true;
    jobs::TableOptions table_normalized = table;
    table_normalized.single_cell.normalize_total = 1e4;
    table_normalized.single_cell.log1p = true;

    GroupMeans raw_means, normalized_means;
    std::size_t table_entries = 0;
    const std::vector<std::pair<std::string, std::function<void()>>> phases = {
        {"read (pread of the bytes)", [&] { read_bytes(world, o.path); }},
        {"open (obs, var) + groups",
         [&] {
           const io::H5adCells cells(o.path, world);
           raw_means.groups = cell_groups(cells);
         }},
        {"pseudobulk", [&] { raw_means = pseudobulk(world, o.path, raw); }},
        {"pseudobulk norm+log1p", [&] { normalized_means = pseudobulk(world, o.path, normalized); }},
        {"load_table", [&] { table_entries = jobs::load_table(world, o.path, table, 0).table.replicates.size(); }},
        {"load_table norm+log1p", [&] { jobs::load_table(world, o.path, table_normalized, 0); }},
    };
    std::vector<Timed> timed;
    for (const auto& [name, body] : phases) timed.push_back(time_phase(world, o.repeats, body));

    if (world.is_root()) {
      const double megabytes = double(fs::file_size(o.path)) / 1e6;
      std::printf("%lld cells x %lld genes, %lld stored values, %.0f MB file, %d rank(s), best of %d:\n",
                  (long long)o.cells, (long long)o.genes, (long long)file.values, megabytes, world.size(), o.repeats);
      std::printf("  %-26s %8s %12s %14s %9s %8s  %s\n", "phase", "s", "cells/s", "values/s", "MB/s", "of read",
                  "peak RSS per rank (MiB) [times]");
      const double read_best = *std::min_element(timed[0].seconds.begin(), timed[0].seconds.end());
      for (std::size_t p = 0; p < phases.size(); ++p) {
        const double best = *std::min_element(timed[p].seconds.begin(), timed[p].seconds.end());
        std::printf("  %-26s %8.3f %12.4g %14.4g %9.0f %7.1f%% ", phases[p].first.c_str(), best,
                    bench::rate(double(o.cells), best), bench::rate(double(file.values), best), megabytes / best,
                    100 * read_best / best);
        for (auto kib : timed[p].peak_kib) std::printf(" %.0f", double(kib) / 1024.0);
        std::printf("  [");
        for (double s : timed[p].seconds) std::printf(" %.3f", s);
        std::printf(" ]\n");
      }
      std::printf(
          "  (load_table's (cell type x perturbation) table: %zu entries; rank 0's RSS before the phases: "
          "%.0f MiB)\n",
          table_entries, baseline_mib);
      if (!o.write_means.empty()) {
        write_means(raw_means, o.write_means + ".raw.csv");
        write_means(normalized_means, o.write_means + ".norm_log1p.csv");
        std::printf("group means written to %s.raw.csv and %s.norm_log1p.csv\n", o.write_means.c_str(),
                    o.write_means.c_str());
      }
    }
    return 0;
  });
}
