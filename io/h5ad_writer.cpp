#include "io/h5ad_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/hdf5_handles.h"
#include "io/hdf5_memory_file.h"
#include "io/slab_file.h"
#include "io/text_encoding.h"

namespace tessera::io {

namespace {

using namespace hdf5;
namespace fs = std::filesystem;

constexpr const char* kX = "/X";

std::string cannot_write(const fs::path& path) {
  return detail::concat("cannot write h5ad file '", path.string(), "'");
}

// Rows of X per chunk: whole rows, as many as fit in max_chunk_kb, at least one and at most all of them.
hsize_t rows_per_chunk(std::int64_t obs, std::int64_t vars, std::int64_t max_chunk_kb) {
  const std::int64_t fit = max_chunk_kb * 1024 / (vars * std::int64_t(sizeof(float)));
  return hsize_t(std::clamp<std::int64_t>(fit, 1, obs));
}

// Every check of a table, before anything is created: ids and field names that anndata can store and read back
// as written (unique, valid UTF-8 without NUL: h5py decodes every string as UTF-8 and C strings end at a NUL).
void check_table(const fs::path& path, const MetaTable& table, const char* group, const char* what) {
  const std::string where = detail::concat(cannot_write(path), ", /", group);
  TESSERA_CHECK(!table.ids.empty(), where, ": there are no ", what, "; an h5ad file needs at least one");
  if (const auto duplicate = first_duplicate(table.ids))
    TESSERA_FAIL(where, "/_index: duplicate id '", table.ids[duplicate->first], "' at positions ", duplicate->first,
                 " and ", duplicate->second, "; give every ", what, " its own id");
  auto check_text = [&](const std::vector<std::string>& values, const std::string& name) {
    for (std::size_t i = 0; i < values.size(); ++i)
      TESSERA_CHECK(values[i].find('\0') == std::string::npos && is_valid_utf8(values[i]), where, "/", name, ": value ",
                    i, " is not UTF-8 text without NUL characters; convert it (io/text_encoding.h)");
  };
  check_text(table.ids, "_index");
  std::set<std::string> names;
  for (const auto& field : table.fields) {
    TESSERA_CHECK(!field.name.empty() && field.name.find('/') == std::string::npos && field.name != "_index" &&
                      field.name != "." && is_valid_utf8(field.name),
                  where, ": field name '", field.name,
                  "' cannot be stored (empty, contains '/', is '_index' or '.', or is not UTF-8); rename the field");
    TESSERA_CHECK(names.insert(field.name).second, where, ": two fields are named '", field.name,
                  "'; rename one of them");
    TESSERA_CHECK(field.size() == table.ids.size(), where, "/", field.name, ": has ", field.size(), " values for ",
                  table.ids.size(), " ", what, "; give one value per id");
    if (field.type == MetaType::kString) check_text(field.text, field.name);
    if (field.type == MetaType::kInt32 || field.type == MetaType::kInt64) {
      const double limit = field.type == MetaType::kInt32 ? 2147483648.0 : 9223372036854775808.0;
      for (std::size_t i = 0; i < field.numbers.size(); ++i) {
        const double v = field.numbers[i];
        TESSERA_CHECK(std::isfinite(v) && v == std::trunc(v) && v >= -limit && v < limit, where, "/", field.name,
                      ": value ", i, " (", v, ") is not a ", field.type == MetaType::kInt32 ? "int32" : "int64",
                      "; integer columns cannot hold missing values: store the field as float64 (NaN = missing)");
      }
    }
  }
}

// Canonical CSR of the tables' shape, every value finite: what scipy and anndata take without conversion.
void check_matrix(const fs::path& path, const CsrMatrix& x, std::int64_t rows, std::int64_t cols) {
  const std::string where = cannot_write(path);
  TESSERA_CHECK(x.rows == rows && x.cols == cols, where, ", /X: the matrix is ", x.rows, " x ", x.cols, " but obs has ",
                rows, " rows and var ", cols, "; give one matrix row per obs row and one column per var row");
  TESSERA_CHECK(cols <= std::numeric_limits<std::int32_t>::max(), where, ", /X: ", cols,
                " columns do not fit int32 indices; split the genes over several files");
  TESSERA_CHECK(std::int64_t(x.indptr.size()) == rows + 1 && x.indptr.front() == 0, where, ", /X/indptr: has ",
                x.indptr.size(), " offsets (first ", x.indptr.empty() ? -1 : x.indptr.front(), ") for ", rows,
                " rows; give rows + 1 offsets starting at 0");
  TESSERA_CHECK(x.indices.size() == x.data.size() && x.indptr.back() == x.nonzeros(), where, ", /X: indptr ends at ",
                x.indptr.back(), " with ", x.indices.size(), " indices and ", x.data.size(),
                " values; the three must agree on the number of stored values");
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto begin = x.indptr[std::size_t(r)], end = x.indptr[std::size_t(r) + 1];
    TESSERA_CHECK(begin <= end, where, ", /X/indptr: offset ", r + 1, " (", end, ") is below offset ", r, " (", begin,
                  "); offsets must not decrease");
    for (auto k = begin; k < end; ++k) {
      const std::int32_t column = x.indices[std::size_t(k)];
      TESSERA_CHECK(column >= 0 && column < cols && (k == begin || column > x.indices[std::size_t(k) - 1]), where,
                    ", /X/indices: row ", r, " stores column ", column, " at position ", k, "; columns must be in [0, ",
                    cols, ") and strictly increasing within a row (sum duplicates)");
      TESSERA_CHECK(std::isfinite(x.data[std::size_t(k)]), where, ", /X/data: row ", r, ", column ", column, " holds ",
                    x.data[std::size_t(k)], "; every stored value must be finite");
    }
  }
}

// --- the elements of the file, each with anndata's encoding attributes ---------------------------------------------

Datatype utf8_string_type() {
  Datatype type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

struct Writer {
  const fs::path& path;

  [[noreturn]] void fail(const std::string& element) const {
    TESSERA_FAIL(cannot_write(path), ", ", element, ": ", hdf5_error_detail());
  }

  // A scalar string attribute, as h5py stores a Python str.
  void text_attribute(hid_t object, const char* name, const std::string& value, const std::string& element) const {
    const Datatype type = utf8_string_type();
    const Dataspace scalar(H5Screate(H5S_SCALAR));
    const Attribute attribute(H5Acreate2(object, name, type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
    const char* pointer = value.c_str();
    if (!attribute || H5Awrite(attribute.get(), type.get(), &pointer) < 0) fail(element + " attribute " + name);
  }

  void encoding(hid_t object, const char* type, const char* version, const std::string& element) const {
    text_attribute(object, "encoding-type", type, element);
    text_attribute(object, "encoding-version", version, element);
  }

  Group group(hid_t parent, const std::string& name, const char* type, const char* version,
              const std::string& element) const {
    const PropertyList create = timeless(H5P_GROUP_CREATE);
    Group made(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, create.get(), H5P_DEFAULT));
    if (!made) fail(element);
    encoding(made.get(), type, version, element);
    return made;
  }

  // A 1-D dataset of `count` values with these encoding attributes ("string-array", "array"); null: none (the
  // parts of a sparse matrix have none).
  void vector(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type, std::size_t count,
              const void* data, const char* encoding_type, const std::string& element) const {
    const hsize_t dims[1] = {hsize_t(count)};
    const Dataspace space(H5Screate_simple(1, dims, nullptr));
    const PropertyList create = timeless(H5P_DATASET_CREATE);
    const Dataset dataset(
        H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT));
    // An empty dataset has nothing to write (and HDF5 wants no buffer for it).
    if (!dataset || (count > 0 && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0))
      fail(element);
    if (encoding_type != nullptr) encoding(dataset.get(), encoding_type, "0.2.0", element);
  }

  void strings(hid_t parent, const std::string& name, const std::vector<std::string>& values,
               const std::string& element) const {
    std::vector<const char*> pointers;
    pointers.reserve(values.size());
    for (const auto& v : values) pointers.push_back(v.c_str());
    const Datatype type = utf8_string_type();
    vector(parent, name, type.get(), type.get(), values.size(), pointers.data(), "string-array", element);
  }

  template <typename T, typename Source>
  void numbers(hid_t parent, const std::string& name, const std::vector<Source>& values, hid_t file_type,
               hid_t memory_type, const char* encoding_type, const std::string& element) const {
    std::vector<T> converted(values.begin(), values.end());
    vector(parent, name, file_type, memory_type, converted.size(), converted.data(), encoding_type, element);
  }

  // A text column as pandas stores a Categorical and anndata writes it: categories = the distinct values sorted
  // by code point (pandas' order; byte order of UTF-8 is code-point order), codes in the smallest signed integer
  // type pandas picks for that many categories, ordered = False (h5py's bool: an int8 enum FALSE/TRUE).
  void categorical(hid_t parent, const MetaColumn& column, const std::string& element) const {
    std::vector<std::string> categories = column.text;
    std::sort(categories.begin(), categories.end());
    categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
    std::vector<double> codes;
    codes.reserve(column.text.size());
    for (const auto& value : column.text)
      codes.push_back(double(std::lower_bound(categories.begin(), categories.end(), value) - categories.begin()));
    const Group made = group(parent, column.name, "categorical", "0.2.0", element);
    {
      const Datatype boolean(H5Tenum_create(H5T_STD_I8LE));
      const std::int8_t no = 0, yes = 1;
      H5Tenum_insert(boolean.get(), "FALSE", &no);
      H5Tenum_insert(boolean.get(), "TRUE", &yes);
      const Dataspace scalar(H5Screate(H5S_SCALAR));
      const Attribute ordered(H5Acreate2(made.get(), "ordered", boolean.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
      if (!ordered || H5Awrite(ordered.get(), boolean.get(), &no) < 0) fail(element + " attribute ordered");
    }
    const std::size_t n = categories.size();
    const std::string codes_element = element + "/codes";
    if (n < 127)
      numbers<std::int8_t>(made.get(), "codes", codes, H5T_STD_I8LE, H5T_NATIVE_INT8, "array", codes_element);
    else if (n < 32767)
      numbers<std::int16_t>(made.get(), "codes", codes, H5T_STD_I16LE, H5T_NATIVE_INT16, "array", codes_element);
    else
      numbers<std::int32_t>(made.get(), "codes", codes, H5T_STD_I32LE, H5T_NATIVE_INT32, "array", codes_element);
    strings(made.get(), "categories", categories, element + "/categories");
  }

  // obs or var: a "dataframe" group, _index, column-order, one element per field.
  void dataframe(hid_t file, const char* name, const MetaTable& table, bool categorical_text) const {
    const std::string element = detail::concat("/", name);
    const Group frame = group(file, name, "dataframe", "0.2.0", element);
    text_attribute(frame.get(), "_index", "_index", element);
    {
      // h5py stores a list of str as variable-length UTF-8 strings and an empty list as an empty float64 array.
      std::vector<const char*> names;
      for (const auto& field : table.fields) names.push_back(field.name.c_str());
      const hsize_t dims[1] = {hsize_t(names.size())};
      const Dataspace space(H5Screate_simple(1, dims, nullptr));
      const Datatype text = utf8_string_type();
      const hid_t type = names.empty() ? H5T_IEEE_F64LE : text.get();
      const Attribute order(H5Acreate2(frame.get(), "column-order", type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
      if (!order || (!names.empty() && H5Awrite(order.get(), type, names.data()) < 0))
        fail(element + " attribute column-order");
    }
    strings(frame.get(), "_index", table.ids, element + "/_index");
    for (const auto& field : table.fields) {
      const std::string field_element = element + "/" + field.name;
      switch (field.type) {
        case MetaType::kString:
          if (categorical_text)
            categorical(frame.get(), field, field_element);
          else
            strings(frame.get(), field.name, field.text, field_element);
          break;
        case MetaType::kInt32:
          numbers<std::int32_t>(frame.get(), field.name, field.numbers, H5T_STD_I32LE, H5T_NATIVE_INT32, "array",
                                field_element);
          break;
        case MetaType::kInt64:
          numbers<std::int64_t>(frame.get(), field.name, field.numbers, H5T_STD_I64LE, H5T_NATIVE_INT64, "array",
                                field_element);
          break;
        case MetaType::kFloat32:
          numbers<float>(frame.get(), field.name, field.numbers, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, "array",
                         field_element);
          break;
        case MetaType::kFloat64:
          numbers<double>(frame.get(), field.name, field.numbers, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, "array",
                          field_element);
          break;
      }
    }
  }

  // X as anndata writes a scipy csr_matrix: the group's shape attribute (int64), then data, indices, indptr.
  void csr(hid_t file, const CsrMatrix& x) const {
    const Group made = group(file, "X", "csr_matrix", "0.1.0", "/X");
    {
      const std::int64_t shape[2] = {x.rows, x.cols};
      const hsize_t dims[1] = {2};
      const Dataspace space(H5Screate_simple(1, dims, nullptr));
      const Attribute attribute(H5Acreate2(made.get(), "shape", H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
      if (!attribute || H5Awrite(attribute.get(), H5T_NATIVE_INT64, shape) < 0) fail("/X attribute shape");
    }
    vector(made.get(), "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, x.data.size(), x.data.data(), nullptr, "/X/data");
    vector(made.get(), "indices", H5T_STD_I32LE, H5T_NATIVE_INT32, x.indices.size(), x.indices.data(), nullptr,
           "/X/indices");
    // scipy keeps int32 offsets while they fit; anndata writes back whatever scipy holds.
    if (x.nonzeros() <= std::numeric_limits<std::int32_t>::max())
      numbers<std::int32_t>(made.get(), "indptr", x.indptr, H5T_STD_I32LE, H5T_NATIVE_INT32, nullptr, "/X/indptr");
    else
      vector(made.get(), "indptr", H5T_STD_I64LE, H5T_NATIVE_INT64, x.indptr.size(), x.indptr.data(), nullptr,
             "/X/indptr");
  }

  // Everything after X, in the order anndata writes the elements (HDF5 lists them by name anyway).
  void metadata(hid_t file, const MetaTable& obs, const MetaTable& var) const {
    for (const char* name : {"layers", "obsm", "obsp"}) group(file, name, "dict", "0.1.0", std::string("/") + name);
    dataframe(file, "obs", obs, true);
    group(file, "uns", "dict", "0.1.0", "/uns");
    dataframe(file, "var", var, false);
    for (const char* name : {"varm", "varp"}) group(file, name, "dict", "0.1.0", std::string("/") + name);
  }
};

// X's bytes plus room for its chunk index (a B-tree entry per chunk, with a generous margin).
std::uint64_t x_bytes_with_index(std::int64_t obs, std::int64_t vars, hsize_t chunk_rows) {
  const std::uint64_t chunks = (std::uint64_t(obs) + chunk_rows - 1) / chunk_rows;
  return std::uint64_t(obs) * std::uint64_t(vars) * sizeof(float) + 256 * chunks + (4u << 20);
}

// Rank 0, serially (SlabFile's create()): the whole file but X's values, built in memory (io/hdf5_memory_file.h)
// and written with checked writes. X gets no storage here (io/slab_file.h). Returns the bytes to reserve for the
// whole file.
std::uint64_t create_file(const fs::path& path, const fs::path& temporary, const MetaTable& obs, const MetaTable& var,
                          hsize_t chunk_rows) {
  MemoryFile file(path.string());
  const Writer w{path};
  w.encoding(file.get(), "anndata", "0.1.0", "/");
  {
    const hsize_t dims[2] = {hsize_t(obs.size()), hsize_t(var.size())};
    const Dataspace space(H5Screate_simple(2, dims, nullptr));
    const PropertyList create = timeless(H5P_DATASET_CREATE);
    const hsize_t chunk[2] = {chunk_rows, hsize_t(var.size())};
    H5Pset_chunk(create.get(), 2, chunk);
    H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER);
    const Dataset x(H5Dcreate2(file.get(), kX, H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT));
    if (!x) w.fail(kX);
    w.encoding(x.get(), "array", "0.2.0", kX);
  }
  w.metadata(file.get(), obs, var);
  const auto image = file.take_image();
  try {
    write_bytes_atomically(temporary, image.view());
  } catch (const Error& error) {  // name the file the caller asked for, not only the temporary
    TESSERA_FAIL(cannot_write(path), ": ", error.what());
  }
  return std::uint64_t(image.size) + x_bytes_with_index(std::int64_t(obs.size()), std::int64_t(var.size()), chunk_rows);
}

}  // namespace

struct H5adSlabWriter::Impl {
  Impl(const fs::path& path, const engine::Context& ctx, std::int64_t obs, std::int64_t vars,
       const SlabFile::Create& create)
      : file(path, ctx, {cannot_write(path), kX, "rows", " of X", "row"}, obs, vars, create), obs(obs), vars(vars) {}
  SlabFile file;  // X, obs x var
  std::int64_t obs;
  std::int64_t vars;
};

H5adSlabWriter::H5adSlabWriter(const fs::path& path, const engine::Context& ctx, const MetaTable& obs,
                               const MetaTable& var, const H5adWriteOptions& options) {
  SilenceHdf5Errors silence;
  // The same arguments on every rank: these throw on every rank together.
  TESSERA_CHECK(options.max_chunk_kb >= 1, cannot_write(path), ": max_chunk_kb ", options.max_chunk_kb,
                " must be at least 1");
  check_table(path, obs, "obs", "obs rows (entries)");
  check_table(path, var, "var", "genes (var)");

  const std::int64_t rows = std::int64_t(obs.size()), vars = std::int64_t(var.size());
  const hsize_t chunk_rows = rows_per_chunk(rows, vars, options.max_chunk_kb);
  impl_ = std::make_unique<Impl>(path, ctx, rows, vars, [&](const fs::path& temporary) {
    return create_file(path, temporary, obs, var, chunk_rows);
  });
}

H5adSlabWriter::~H5adSlabWriter() = default;  // SlabFile's destructor takes part in close() when it was not called

const fs::path& H5adSlabWriter::path() const { return impl_->file.path(); }
std::int64_t H5adSlabWriter::num_obs() const { return impl_->obs; }
std::int64_t H5adSlabWriter::num_vars() const { return impl_->vars; }

template <typename Scalar>
void H5adSlabWriter::write_rows(std::int64_t first_row,
                                const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& values) {
  Impl& w = *impl_;
  const std::string& cannot = w.file.cannot_write();
  TESSERA_CHECK(!w.file.finished(), cannot, ": write_rows() after close(); write every row before closing");
  const std::int64_t count = values.cols();
  TESSERA_CHECK(values.rows() == w.vars, cannot, ": a block has ", values.rows(), " genes but the file has ", w.vars,
                "; give genes x rows blocks with every gene");
  TESSERA_CHECK(0 <= first_row && first_row + count <= w.obs, cannot, ": rows [", first_row, ", ", first_row + count,
                ") are outside [0, ", w.obs, "); write within X");
  // Genes x rows column-major is X's rows x genes row-major.
  w.file.write(first_row, count, values.data());
}

void H5adSlabWriter::close() { impl_->file.close(); }

template void H5adSlabWriter::write_rows<float>(std::int64_t, const Eigen::MatrixXf&);
template void H5adSlabWriter::write_rows<double>(std::int64_t, const Eigen::MatrixXd&);

void write_h5ad_csr(const fs::path& path, const MetaTable& obs, const MetaTable& var, const CsrMatrix& x) {
  SilenceHdf5Errors silence;
  check_table(path, obs, "obs", "obs rows (cells)");
  check_table(path, var, "var", "genes (var)");
  check_matrix(path, x, std::int64_t(obs.size()), std::int64_t(var.size()));

  MemoryFile file(path.string());
  const Writer w{path};
  w.encoding(file.get(), "anndata", "0.1.0", "/");
  w.csr(file.get(), x);
  w.metadata(file.get(), obs, var);
  const auto image = file.take_image();
  write_bytes_atomically(path, image.view());
}

}  // namespace tessera::io
