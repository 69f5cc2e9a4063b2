#include "bench/h5ad_simulated_file.h"

#include <hdf5.h>

#include <random>
#include <string>
#include <vector>

#include "engine/error.h"

namespace tessera::bench {

namespace {

namespace fs = std::filesystem;

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

// An obs column stored as anndata stores a pandas categorical: int8 codes (cell i: codes[i]) and its categories.
struct Categorical {
  std::string name;
  std::vector<std::string> categories;
  std::vector<std::int8_t> codes;
};

void categorical(hid_t group, const Categorical& c) {
  const hid_t column = H5Gcreate2(group, c.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
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
  strings(column, "categories", c.categories, "string-array");
  const hsize_t count = c.codes.size();
  const hid_t space = H5Screate_simple(1, &count, nullptr);
  const hid_t dataset = H5Dcreate2(column, "codes", H5T_STD_I8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  TESSERA_CHECK(dataset >= 0 && H5Dwrite(dataset, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.codes.data()) >= 0,
                "cannot write the codes of obs column ", c.name);
  encoding(dataset, "array", "0.2.0");
  H5Dclose(dataset);
  H5Sclose(space);
  H5Gclose(column);
}

void dataframe(hid_t file, const char* name, const std::string& prefix, std::int64_t n,
               const std::vector<Categorical>& columns) {
  const hid_t group = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  encoding(group, "dataframe", "0.2.0");
  attribute(group, "_index", "_index");
  std::vector<std::string> ids;
  for (std::int64_t i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
  strings(group, "_index", ids, "string-array");
  {
    std::vector<const char*> pointers;
    for (const auto& c : columns) pointers.push_back(c.name.c_str());
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
  for (const auto& c : columns) categorical(group, c);
  H5Gclose(group);
}

std::vector<Categorical> simulated_obs(std::int64_t cells) {
  Categorical perturbation{"perturbation", {"control"}, {}}, cell_type{"cell_type", {}, {}};
  for (int p = 1; p < kSimulatedPerturbations; ++p)
    perturbation.categories.push_back(std::string("P").append(std::to_string(p)));
  for (int t = 0; t < kSimulatedCellTypes; ++t)
    cell_type.categories.push_back(std::string("type").append(std::to_string(t)));
  for (std::int64_t i = 0; i < cells; ++i) {
    perturbation.codes.push_back(std::int8_t(i % kSimulatedPerturbations));
    cell_type.codes.push_back(std::int8_t(i / kSimulatedPerturbations % kSimulatedCellTypes));
  }
  return {perturbation, cell_type};
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

}  // namespace

void write_simulated_h5ad(const SimulatedH5ad& o, const fs::path& path) {
  const fs::path temporary = path.string() + ".tmp";
  const hid_t file = H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  TESSERA_CHECK(file >= 0, "cannot create ", temporary.string());
  encoding(file, "anndata", "0.1.0");
  dataframe(file, "obs", "cell", o.cells, simulated_obs(o.cells));
  dataframe(file, "var", "gene", o.genes, {});
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
  fs::rename(temporary, path);
}

}  // namespace tessera::bench
