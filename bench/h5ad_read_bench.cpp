// AnnData (.h5ad) read of a simulated single-cell screen with a CSR X: io::read_h5ad_local's wall time (slowest
// rank), stored MB/s, and peak resident memory per rank against the rank's dense block.
//
//   h5ad_read_bench [--cells=20000] [--genes=2000] [--density=0.1] [--path=/tmp/bench.h5ad] [--repeats=3]
//   mpirun -np 2 h5ad_read_bench ...
//
// The file is simulated once when missing (rank 0, the HDF5 C API, the layout anndata 0.8 writes): counts 1..9 as
// float32 at `density` of the cells x genes, int32 indices, int64 indptr, obs with a categorical `perturbation`
// (100 values) and var with ids only; written cell block by cell block, so the simulation's memory is bounded too.
#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "io/h5ad.h"

namespace {

using namespace tessera;
namespace fs = std::filesystem;

struct Options {
  std::int64_t cells = 20000;
  std::int64_t genes = 2000;
  double density = 0.1;
  fs::path path = "/tmp/bench.h5ad";
  int repeats = 3;
};

void attribute(hid_t object, const char* name, const std::string& value) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t id = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* text = value.c_str();
  TESSERA_CHECK(id >= 0 && H5Awrite(id, type, &text) >= 0, "cannot write attribute ", name);
  H5Aclose(id);
  H5Sclose(space);
  H5Tclose(type);
}

void encoding(hid_t object, const char* type, const char* version) {
  attribute(object, "encoding-type", type);
  attribute(object, "encoding-version", version);
}

void strings(hid_t group, const char* name, const std::vector<std::string>& values, const char* type) {
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  const hid_t string_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(string_type, H5T_VARIABLE);
  H5Tset_cset(string_type, H5T_CSET_UTF8);
  const hsize_t n = values.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t dataset = H5Dcreate2(group, name, string_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  TESSERA_CHECK(dataset >= 0 && H5Dwrite(dataset, string_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) >= 0,
                "cannot write ", name);
  if (type != nullptr) encoding(dataset, type, "0.2.0");
  H5Dclose(dataset);
  H5Sclose(space);
  H5Tclose(string_type);
}

void dataframe(hid_t file, const char* name, const std::string& prefix, std::int64_t n, bool with_perturbation) {
  const hid_t group = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  encoding(group, "dataframe", "0.2.0");
  attribute(group, "_index", "_index");
  std::vector<std::string> ids;
  for (std::int64_t i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
  strings(group, "_index", ids, "string-array");
  std::vector<std::string> order;
  if (with_perturbation) order.push_back("perturbation");
  {
    std::vector<const char*> pointers;
    for (const auto& v : order) pointers.push_back(v.c_str());
    // No columns: an empty float64 array, as h5py stores an empty list.
    const hsize_t count = pointers.size();
    const hid_t type = H5Tcopy(count > 0 ? H5T_C_S1 : H5T_IEEE_F64LE);
    if (count > 0) H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    const hid_t id = H5Acreate2(group, "column-order", type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (count > 0) H5Awrite(id, type, pointers.data());
    H5Aclose(id);
    H5Sclose(space);
    H5Tclose(type);
  }
  if (with_perturbation) {
    const hid_t column = H5Gcreate2(group, "perturbation", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    encoding(column, "categorical", "0.2.0");
    {  // ordered = False, as h5py stores a numpy bool: an int8 enum FALSE/TRUE (anndata requires the attribute)
      const hid_t boolean = H5Tenum_create(H5T_NATIVE_INT8);
      std::int8_t no = 0, yes = 1;
      H5Tenum_insert(boolean, "FALSE", &no);
      H5Tenum_insert(boolean, "TRUE", &yes);
      const hid_t scalar = H5Screate(H5S_SCALAR);
      const hid_t ordered = H5Acreate2(column, "ordered", boolean, scalar, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(ordered, boolean, &no);
      H5Aclose(ordered);
      H5Sclose(scalar);
      H5Tclose(boolean);
    }
    std::vector<std::string> categories{"control"};
    for (int p = 1; p < 100; ++p) categories.push_back(std::string("P").append(std::to_string(p)));
    strings(column, "categories", categories, "string-array");
    std::vector<std::int8_t> codes(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) codes[std::size_t(i)] = std::int8_t(i % 100);
    const hsize_t count = codes.size();
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    const hid_t dataset = H5Dcreate2(column, "codes", H5T_STD_I8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dataset, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, codes.data());
    encoding(dataset, "array", "0.2.0");
    H5Dclose(dataset);
    H5Sclose(space);
    H5Gclose(column);
  }
  H5Gclose(group);
}

// An unlimited 1-D chunked dataset, grown by append().
struct Growing {
  hid_t dataset = -1;
  hsize_t size = 0;
  Growing(hid_t group, const char* name, hid_t file_type) {
    const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = 1 << 18;
    const hid_t space = H5Screate_simple(1, &zero, &unlimited);
    const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(create, 1, &chunk);
    dataset = H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, create, H5P_DEFAULT);
    H5Pclose(create);
    H5Sclose(space);
  }
  template <typename T>
  void append(hid_t memory_type, const std::vector<T>& values) {
    if (values.empty()) return;
    hsize_t count = values.size();
    const hsize_t grown = size + count;
    H5Dset_extent(dataset, &grown);
    const hid_t file_space = H5Dget_space(dataset);
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &size, nullptr, &count, nullptr);
    const hid_t memory_space = H5Screate_simple(1, &count, nullptr);
    TESSERA_CHECK(H5Dwrite(dataset, memory_type, memory_space, file_space, H5P_DEFAULT, values.data()) >= 0,
                  "cannot write the simulated X");
    H5Sclose(memory_space);
    H5Sclose(file_space);
    size = grown;
  }
  ~Growing() { H5Dclose(dataset); }
};

void write_simulated(const Options& o) {
  const fs::path temporary = o.path.string() + ".tmp";
  const hid_t file = H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  TESSERA_CHECK(file >= 0, "cannot create ", temporary.string());
  encoding(file, "anndata", "0.1.0");
  dataframe(file, "obs", "cell", o.cells, true);
  dataframe(file, "var", "gene", o.genes, false);
  {
    const hid_t x = H5Gcreate2(file, "X", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    encoding(x, "csr_matrix", "0.1.0");
    const std::int64_t shape[2] = {o.cells, o.genes};
    const hsize_t two = 2;
    const hid_t shape_space = H5Screate_simple(1, &two, nullptr);
    const hid_t shape_attribute = H5Acreate2(x, "shape", H5T_STD_I64LE, shape_space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(shape_attribute, H5T_NATIVE_INT64, shape);
    H5Aclose(shape_attribute);
    H5Sclose(shape_space);
    Growing data(x, "data", H5T_IEEE_F32LE), indices(x, "indices", H5T_STD_I32LE), indptr(x, "indptr", H5T_STD_I64LE);
    std::mt19937_64 random(20261207);
    std::bernoulli_distribution present(o.density);
    std::uniform_int_distribution<int> count(1, 9);
    std::vector<std::int64_t> pointers{0};
    std::int64_t nnz = 0;
    std::vector<float> values;
    std::vector<std::int32_t> columns;
    for (std::int64_t cell = 0; cell < o.cells; ++cell) {
      for (std::int64_t gene = 0; gene < o.genes; ++gene)
        if (present(random)) {
          values.push_back(float(count(random)));
          columns.push_back(std::int32_t(gene));
        }
      pointers.push_back(nnz + std::int64_t(values.size()));
      if (values.size() >= (1u << 20) || cell + 1 == o.cells) {
        nnz += std::int64_t(values.size());
        data.append(H5T_NATIVE_FLOAT, values);
        indices.append(H5T_NATIVE_INT32, columns);
        indptr.append(H5T_NATIVE_INT64, pointers);
        values.clear();
        columns.clear();
        pointers.clear();
      }
    }
    H5Gclose(x);
  }
  TESSERA_CHECK(H5Fclose(file) >= 0, "cannot close ", temporary.string());
  fs::rename(temporary, o.path);
}

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
      write_simulated(o);
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
