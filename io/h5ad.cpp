#include "io/h5ad.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/agree.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/hdf5_checks.h"
#include "io/hdf5_handles.h"
#include "io/text_encoding.h"

namespace tessera::io {

namespace {

using namespace hdf5;
namespace fs = std::filesystem;

// Nonzeros read at a time from data/indices: bounds the memory beside the dense result (at most 16 MiB: values
// in Scalar, indices as int64).
constexpr hsize_t kSparsePiece = hsize_t(1) << 20;

constexpr const char* kResaveFix =
    "re-save it with anndata >= 0.8 (adata = anndata.read_h5ad(path); adata.write_h5ad(path))";

// "h5ad file '<file>', <place>" -- the start of every message about a file's content.
std::string in_file(const fs::path& file, std::string_view place) {
  return detail::concat("h5ad file '", file.string(), "', ", place);
}

template <typename Scalar>
hid_t native_type() {
  return std::is_same_v<Scalar, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

File open_collectively(const fs::path& path, const engine::Context& ctx) {
  TESSERA_CHECK(fs::exists(path), "h5ad file '", path.string(),
                "' does not exist; check the path (and TESSERA_DATA_DIR or the input option)");
  TESSERA_CHECK(!fs::is_directory(path), "'", path.string(),
                "' is a folder, not a file; give the path of a .h5ad file (inside that folder, if it holds one)");
  TESSERA_CHECK(H5Fis_hdf5(path.c_str()) > 0, "'", path.string(),
                "' is not an HDF5 file (no HDF5 signature), so it cannot be an .h5ad (AnnData) file; check the "
                "path (a .zarr folder or .loom file must be converted with anndata first)");
  PropertyList access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_mpio(access.get(), ctx.comm(), MPI_INFO_NULL);
  File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()));
  if (!file) {
    const std::string why = hdf5_error_detail();
    TESSERA_FAIL("cannot open h5ad file '", path.string(), "': HDF5 cannot read its header (", why,
                 "); the file may be locked by a writer, or ", kDamagedFileFix);
  }
  return file;
}

// ---------------------------------------------------------------------------------------------------------
// Attributes

// A string attribute (scalar, fixed- or variable-length), or nothing when the object has no such attribute.
std::optional<std::string> string_attribute(hid_t object, const char* name, const std::string& where) {
  const htri_t exists = H5Aexists(object, name);
  if (exists < 0) fail_damaged(where, std::string("the attribute '") + name + "'");
  if (exists == 0) return std::nullopt;
  const Attribute attribute(H5Aopen(object, name, H5P_DEFAULT));
  const Datatype type(H5Aget_type(attribute.get()));
  const Dataspace space(H5Aget_space(attribute.get()));
  if (!attribute || !type || !space) fail_damaged(where, std::string("the attribute '") + name + "'");
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_STRING && H5Sget_simple_extent_npoints(space.get()) == 1, where,
                ": attribute '", name, "' is not one string (stored as ", describe_type(type.get()),
                "); the file was not written by anndata: ", kResaveFix);
  check_type(type.get(), where + " attribute " + name, kStrings, "a string");
  std::vector<std::string> values;
  auto read = [&](hid_t memory_type, void* buffer) { return H5Aread(attribute.get(), memory_type, buffer); };
  if (!read_string_values(type.get(), 1, space.get(), read, values))
    fail_damaged(where, std::string("the attribute '") + name + "'");
  return as_utf8(values.front());
}

// The element's encoding-type; an Error when it has none (anndata writes one on every element since 0.8).
std::string encoding_of(hid_t object, const std::string& where) {
  const auto encoding = string_attribute(object, "encoding-type", where);
  TESSERA_CHECK(encoding.has_value(), where,
                ": no 'encoding-type' attribute, so the element's AnnData encoding is unknown (the file is not "
                "AnnData, or was written by anndata < 0.8); ",
                kResaveFix);
  return *encoding;
}

// `column-order`: strings; h5py stores an empty list as an empty float64 array, accepted as no columns.
std::vector<std::string> column_order(hid_t group, const std::string& where) {
  const htri_t exists = H5Aexists(group, "column-order");
  if (exists < 0) fail_damaged(where, "the attribute 'column-order'");
  TESSERA_CHECK(exists > 0, where, ": no 'column-order' attribute (an AnnData dataframe lists its columns there); ",
                kResaveFix);
  const Attribute attribute(H5Aopen(group, "column-order", H5P_DEFAULT));
  const Datatype type(H5Aget_type(attribute.get()));
  const Dataspace space(H5Aget_space(attribute.get()));
  if (!attribute || !type || !space) fail_damaged(where, "the attribute 'column-order'");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) fail_damaged(where, "the attribute 'column-order'");
  std::vector<std::string> names;
  if (count == 0) return names;
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_STRING, where, ": attribute 'column-order' holds ",
                describe_type(type.get()), ", not column names; ", kResaveFix);
  check_type(type.get(), where + " attribute column-order", kStrings, "strings");
  auto read = [&](hid_t memory_type, void* buffer) { return H5Aread(attribute.get(), memory_type, buffer); };
  if (!read_string_values(type.get(), std::size_t(count), space.get(), read, names))
    fail_damaged(where, "the attribute 'column-order'");
  for (auto& name : names) name = as_utf8(name);
  return names;
}

// ---------------------------------------------------------------------------------------------------------
// Datasets

struct OpenDataset {
  Dataset dataset;
  Datatype type;
  std::vector<hsize_t> dims;
};

OpenDataset open_dataset(hid_t location, const std::string& name, const std::string& where) {
  OpenDataset d;
  d.dataset = Dataset(H5Dopen2(location, name.c_str(), H5P_DEFAULT));
  if (!d.dataset) fail_damaged(where, "the dataset's header");
  d.type = Datatype(H5Dget_type(d.dataset.get()));
  const Dataspace space(H5Dget_space(d.dataset.get()));
  const int rank = space ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (!d.type || rank < 0) fail_damaged(where, "the dataset's shape");
  d.dims.resize(std::size_t(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.dims.data(), nullptr);
  return d;
}

// Whether `location` (a group) has a link `name` (one component, as anndata writes them; a name with a '/' would
// be a path); an Error naming `where` when HDF5 cannot read the group. (io/hdf5_checks.h's readable_path_exists
// takes absolute paths, from the file's root.)
bool has_child(hid_t location, const std::string& name, const std::string& where) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return false;
  const htri_t exists = H5Lexists(location, name.c_str(), H5P_DEFAULT);
  if (exists < 0) fail_damaged(where, "the group that holds it");
  return exists > 0;
}

// Whether the object at `name` below `location` is a group (false: a dataset or anything else).
bool is_group(hid_t location, const std::string& name, const std::string& where) {
  const hid_t object = H5Oopen(location, name.c_str(), H5P_DEFAULT);
  if (object < 0) fail_damaged(where, "the object header");
  const bool group = H5Iget_type(object) == H5I_GROUP;
  H5Oclose(object);
  return group;
}

// Elements [first, first + count) of a 1-D dataset, converted to memory_type (independent I/O: no other rank
// takes part, so a rank may read as many pieces as it needs).
void read_range(const OpenDataset& d, hid_t memory_type, hsize_t first, hsize_t count, void* buffer,
                const std::string& where) {
  if (count == 0) return;
  const Dataspace file_space(H5Dget_space(d.dataset.get()));
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &first, nullptr, &count, nullptr);
  const Dataspace memory_space(H5Screate_simple(1, &count, nullptr));
  if (H5Dread(d.dataset.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, buffer) < 0)
    fail_damaged(where, "values [" + std::to_string(first) + ", " + std::to_string(first + count) + ")");
}

std::vector<std::int64_t> read_integers(const OpenDataset& d, hsize_t first, hsize_t count, const std::string& where) {
  std::vector<std::int64_t> values(count);
  read_range(d, H5T_NATIVE_INT64, first, count, values.data(), where);
  return values;
}

// A 1-D dataset of integers (indptr, indices, codes), checked before reading.
OpenDataset open_integer_vector(hid_t group, const std::string& name, const std::string& where) {
  TESSERA_CHECK(has_child(group, name, where), where, ": not found; ", kResaveFix);
  OpenDataset d = open_dataset(group, name, where);
  TESSERA_CHECK(d.dims.size() == 1, where, ": has ", d.dims.size(), " dimensions, expected 1; ", kResaveFix);
  check_type(d.type.get(), where, kIntegers, "integers");
  check_storage(d.dataset.get(), where);
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// Dataframes (obs, var)

// A whole 1-D dataset of strings, numbers or booleans, as a column named `name` (values checked to number
// `expected` unless it is negative).
MetaColumn read_array(hid_t group, const std::string& dataset, const std::string& name, std::int64_t expected,
                      const std::string& where) {
  TESSERA_CHECK(has_child(group, dataset, where), where, ": not found; ", kResaveFix);
  OpenDataset d = open_dataset(group, dataset, where);
  TESSERA_CHECK(d.dims.size() == 1, where, ": has ", d.dims.size(),
                " dimensions; a dataframe column holds one value per row");
  const hsize_t length = d.dims[0];
  TESSERA_CHECK(expected < 0 || length == hsize_t(expected), where, ": has ", length, " values for ", expected,
                " rows of its dataframe; fix or regenerate the file");
  MetaColumn column{name, MetaType::kString, {}, {}};
  const hid_t type = d.type.get();
  auto read_all = [&](hid_t memory_type, void* buffer) {
    return H5Dread(d.dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  };
  if (H5Tget_class(type) == H5T_ENUM) {  // numpy bool, as h5py stores it: an int8 enum FALSE = 0, TRUE = 1
    TESSERA_CHECK(H5Tget_size(type) == 1 && H5Tget_nmembers(type) == 2, where, ": stored as an enum of ",
                  H5Tget_nmembers(type), " members; only booleans (h5py's 2-member enum) are read");
    check_storage(d.dataset.get(), where);
    std::vector<std::int8_t> flags(length);
    const Datatype memory(H5Tget_native_type(type, H5T_DIR_ASCEND));
    if (length > 0 && read_all(memory.get(), flags.data()) < 0) fail_damaged(where, "the values");
    column.text.reserve(length);
    for (std::int8_t f : flags) column.text.emplace_back(f != 0 ? "True" : "False");
    return column;
  }
  check_type(type, where, kStrings | kFloats | kIntegers, "strings, numbers or booleans");
  check_storage(d.dataset.get(), where);
  bool ok = true;
  const std::size_t size = H5Tget_size(type);
  if (H5Tget_class(type) == H5T_STRING) {
    const Dataspace space(H5Dget_space(d.dataset.get()));
    ok = read_string_values(type, std::size_t(length), space.get(), read_all, column.text);
    for (auto& text : column.text) text = as_utf8(text);
  } else {
    if (H5Tget_class(type) == H5T_FLOAT)
      column.type = size == 4 ? MetaType::kFloat32 : MetaType::kFloat64;
    else  // uint32 needs 64 bits; uint64 beyond 2^63 does not occur in metadata
      column.type = size < 4 || (size == 4 && H5Tget_sign(type) != H5T_SGN_NONE) ? MetaType::kInt32 : MetaType::kInt64;
    column.numbers.resize(length);
    if (length > 0) ok = read_all(H5T_NATIVE_DOUBLE, column.numbers.data()) >= 0;
  }
  if (!ok) fail_damaged(where, "the values");
  return column;
}

// A categorical column: each code replaced by its category's text; -1 (missing) by "".
MetaColumn read_categorical(hid_t group, const std::string& name, std::int64_t expected, const std::string& where) {
  const MetaColumn categories = read_array(group, "categories", name, -1, where + "/categories");
  const std::string codes_where = where + "/codes";
  const OpenDataset codes = open_integer_vector(group, "codes", codes_where);
  TESSERA_CHECK(codes.dims[0] == hsize_t(expected), codes_where, ": has ", codes.dims[0], " values for ", expected,
                " rows of its dataframe; fix or regenerate the file");
  const std::vector<std::int64_t> values = read_integers(codes, 0, codes.dims[0], codes_where);
  const auto count = std::int64_t(categories.size());
  MetaColumn column{name, MetaType::kString, {}, {}};
  column.text.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::int64_t code = values[i];
    TESSERA_CHECK(code >= -1 && code < count, codes_where, ": code ", code, " at row ", i, " is outside [-1, ", count,
                  ") (", count, " categories; -1 = missing); ", kDamagedFileFix);
    column.text.push_back(code < 0 ? std::string() : categories.as_string(std::size_t(code)));
  }
  return column;
}

// nullable-integer / nullable-boolean: `values` plus `mask` (true = missing).
MetaColumn read_nullable(hid_t group, const std::string& name, std::int64_t expected, bool boolean,
                         const std::string& where) {
  MetaColumn column = read_array(group, "values", name, expected, where + "/values");
  const MetaColumn mask = read_array(group, "mask", name, expected, where + "/mask");
  TESSERA_CHECK(mask.type == MetaType::kString && boolean == (column.type == MetaType::kString), where,
                ": 'values' or 'mask' has the wrong type for a ", boolean ? "nullable-boolean" : "nullable-integer",
                " column; ", kResaveFix);
  for (std::size_t i = 0; i < mask.text.size(); ++i) {
    if (mask.text[i] != "True") continue;
    if (boolean)
      column.text[i].clear();
    else
      column.numbers[i] = std::numeric_limits<double>::quiet_NaN();
  }
  return column;
}

// One column (dataset or group) of a dataframe, by its encoding-type.
MetaColumn read_column(hid_t frame, const std::string& name, std::int64_t expected, const std::string& where) {
  TESSERA_CHECK(has_child(frame, name, where), where,
                ": listed in the dataframe's column-order but not in the file; fix or regenerate the file");
  if (!is_group(frame, name, where)) {
    OpenDataset d = open_dataset(frame, name, where);
    const std::string encoding = encoding_of(d.dataset.get(), where);
    TESSERA_CHECK(encoding == "array" || encoding == "string-array", where, ": unknown encoding-type '",
                  as_utf8(encoding),
                  "' for a dataframe column (read: array, string-array, categorical, "
                  "nullable-integer, nullable-boolean); convert the column, e.g. to strings");
    return read_array(frame, name, as_utf8(name), expected, where);
  }
  const Group column(H5Gopen2(frame, name.c_str(), H5P_DEFAULT));
  if (!column) fail_damaged(where, "the group");
  const std::string encoding = encoding_of(column.get(), where);
  if (encoding == "categorical") return read_categorical(column.get(), as_utf8(name), expected, where);
  if (encoding == "nullable-integer" || encoding == "nullable-boolean")
    return read_nullable(column.get(), as_utf8(name), expected, encoding == "nullable-boolean", where);
  TESSERA_FAIL(where, ": unknown encoding-type '", as_utf8(encoding),
               "' for a dataframe column (read: array, string-array, categorical, nullable-integer, "
               "nullable-boolean); convert the column, e.g. to strings");
}

// obs or var: the index as ids (unique), then every column in column-order.
MetaTable read_dataframe(const fs::path& path, hid_t file, const std::string& name, const char* fix_duplicates) {
  const std::string where = in_file(path, "/" + name);
  TESSERA_CHECK(readable_path_exists(file, "/" + name, where), where, ": not found; an AnnData file has /obs and /var");
  TESSERA_CHECK(is_group(file, name, where), where,
                ": a dataset, not a group (the compound-dataset layout of anndata < 0.7); ", kResaveFix);
  const Group frame(H5Gopen2(file, name.c_str(), H5P_DEFAULT));
  if (!frame) fail_damaged(where, "the group");
  const std::string encoding = encoding_of(frame.get(), where);
  TESSERA_CHECK(encoding == "dataframe", where, ": unknown encoding-type '", as_utf8(encoding),
                "' (expected 'dataframe'); ", kResaveFix);
  const auto index = string_attribute(frame.get(), "_index", where);
  TESSERA_CHECK(index.has_value(), where, ": no '_index' attribute naming the index dataset; ", kResaveFix);
  const std::string index_where = where + "/" + *index;
  MetaTable table;
  {
    const MetaColumn ids = read_array(frame.get(), *index, "id", -1, index_where);
    if (ids.type == MetaType::kString) {
      table.ids = ids.text;
    } else {  // numeric names (rare): ids are text everywhere else
      table.ids.clear();
      for (std::size_t i = 0; i < ids.size(); ++i) table.ids.push_back(ids.as_string(i));
    }
  }
  if (const auto duplicate = first_duplicate(table.ids))
    TESSERA_FAIL(index_where, ": duplicate id '", table.ids[duplicate->second], "' at positions ", duplicate->first,
                 " and ", duplicate->second, "; ids must be unique: ", fix_duplicates);
  const auto rows = std::int64_t(table.ids.size());
  for (const auto& column : column_order(frame.get(), where))
    table.fields.push_back(read_column(frame.get(), column, rows, where + "/" + column));
  return table;
}

// ---------------------------------------------------------------------------------------------------------
// X

struct Shape {
  std::int64_t cells = 0;
  std::int64_t genes = 0;
};

void check_shape(const std::string& where, std::int64_t rows, std::int64_t cols, const Shape& expected) {
  TESSERA_CHECK(rows == expected.cells && cols == expected.genes, where, ": shape (", rows, ", ", cols,
                ") differs from obs x var (", expected.cells, " cells x ", expected.genes,
                " genes); X must have one row per obs entry and one column per var entry: fix or regenerate the "
                "file");
}

template <typename Scalar>
void check_finite(const Scalar* values, std::size_t count, const std::string& where, std::int64_t first) {
  for (std::size_t i = 0; i < count; ++i)
    TESSERA_CHECK(std::isfinite(values[i]), where, ": value ", double(values[i]), " at position ",
                  first + std::int64_t(i), " is not finite", std::is_same_v<Scalar, float> ? " as float32" : "",
                  "; expression values must be finite numbers: replace NaN/inf (e.g. with 0) before reading");
}

template <typename Scalar>
using Block = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// Dense X (cells x genes, row-major): this rank's rows are exactly the column-major genes x cells block.
template <typename Scalar>
Block<Scalar> read_dense(const OpenDataset& d, const Shape& shape, engine::BlockRange cells, const std::string& where) {
  Block<Scalar> values(shape.genes, cells.size());
  if (values.size() == 0) return values;
  // In batches of at most 256 MiB of cells: MPI-IO in HDF5 1.10 cannot move 2 GiB or more in one independent read.
  const std::int64_t batch =
      std::max<std::int64_t>(1, (std::int64_t(1) << 28) / (shape.genes * std::int64_t(sizeof(Scalar))));
  for (std::int64_t first = 0; first < cells.size(); first += batch) {
    const std::int64_t count = std::min(batch, cells.size() - first);
    const Dataspace file_space(H5Dget_space(d.dataset.get()));
    const hsize_t start[2] = {hsize_t(cells.begin + first), 0};
    const hsize_t counts[2] = {hsize_t(count), hsize_t(shape.genes)};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr);
    const Dataspace memory_space(H5Screate_simple(2, counts, nullptr));
    if (H5Dread(d.dataset.get(), native_type<Scalar>(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                values.data() + first * shape.genes) < 0)
      fail_damaged(where, "cells [" + std::to_string(cells.begin + first) + ", " +
                              std::to_string(cells.begin + first + count) + ")");
  }
  for (Eigen::Index c = 0; c < values.cols(); ++c)
    for (Eigen::Index g = 0; g < values.rows(); ++g)
      TESSERA_CHECK(std::isfinite(values(g, c)), where, ": value ", double(values(g, c)), " at cell ", cells.begin + c,
                    ", gene ", g, " is not finite", std::is_same_v<Scalar, float> ? " as float32" : "",
                    "; expression values must be finite numbers: replace NaN/inf (e.g. with 0) before reading");
  return values;
}

// The parts of a csr_matrix / csc_matrix group, with the checks every rank can make on the whole.
struct Sparse {
  OpenDataset data, indices, indptr;
  std::int64_t nnz = 0;
  std::int64_t major = 0;  // rows of the compressed axis (cells for CSR, genes for CSC)
  std::int64_t minor = 0;  // the other axis: indices are in [0, minor)
  const char* minor_name = "genes";
  std::string where;  // "h5ad file '...', /X"
};

Sparse open_sparse(hid_t group, const Shape& shape, bool csr, const std::string& where) {
  // shape attribute: (cells, genes) for both layouts.
  const Attribute attribute(H5Aexists(group, "shape") > 0 ? H5Aopen(group, "shape", H5P_DEFAULT) : -1);
  TESSERA_CHECK(attribute.valid(), where, ": no 'shape' attribute (a sparse X records its shape there); ", kResaveFix);
  const Dataspace shape_space(H5Aget_space(attribute.get()));
  const Datatype shape_type(H5Aget_type(attribute.get()));
  TESSERA_CHECK(H5Sget_simple_extent_npoints(shape_space.get()) == 2 && H5Tget_class(shape_type.get()) == H5T_INTEGER,
                where, ": attribute 'shape' is not two integers; ", kResaveFix);
  std::int64_t dims[2] = {0, 0};
  if (H5Aread(attribute.get(), H5T_NATIVE_INT64, dims) < 0) fail_damaged(where, "the attribute 'shape'");
  check_shape(where, dims[0], dims[1], shape);

  Sparse s;
  s.where = where;
  s.major = csr ? shape.cells : shape.genes;
  s.minor = csr ? shape.genes : shape.cells;
  s.minor_name = csr ? "genes" : "cells";
  TESSERA_CHECK(has_child(group, "data", where + "/data"), where + "/data", ": not found; ", kResaveFix);
  s.data = open_dataset(group, "data", where + "/data");
  TESSERA_CHECK(s.data.dims.size() == 1, where, "/data: has ", s.data.dims.size(), " dimensions, expected 1; ",
                kResaveFix);
  check_type(s.data.type.get(), where + "/data", kFloats | kIntegers, "float32/64 or integers");
  check_storage(s.data.dataset.get(), where + "/data");
  s.indices = open_integer_vector(group, "indices", where + "/indices");
  s.indptr = open_integer_vector(group, "indptr", where + "/indptr");
  s.nnz = std::int64_t(s.data.dims[0]);
  TESSERA_CHECK(s.indices.dims[0] == s.data.dims[0], where, "/indices: has ", s.indices.dims[0], " values but ", where,
                "/data has ", s.nnz, "; they must be equally long: ", kDamagedFileFix);
  TESSERA_CHECK(std::int64_t(s.indptr.dims[0]) == s.major + 1, where, "/indptr: has ", s.indptr.dims[0], " values; a ",
                csr ? "CSR" : "CSC", " X of ", s.major, csr ? " cells" : " genes", " needs ", s.major + 1, ": ",
                kDamagedFileFix);
  const std::int64_t first = read_integers(s.indptr, 0, 1, where + "/indptr").front();
  const std::int64_t last = read_integers(s.indptr, hsize_t(s.major), 1, where + "/indptr").front();
  TESSERA_CHECK(first == 0, where, "/indptr: starts at ", first, ", not 0; ", kDamagedFileFix);
  TESSERA_CHECK(last == s.nnz, where, "/indptr: ends at ", last, " but ", where, "/data holds ", s.nnz,
                " values; the last entry must be the number of stored values: ", kDamagedFileFix);
  return s;
}

// Checks that indptr[first .. first + pointers.size()) (the file's positions) never decreases and stays within
// [0, nnz] (a rank sees only its part of indptr, so a value past the data is caught before it is read).
void check_monotone(const std::vector<std::int64_t>& pointers, std::int64_t first, std::int64_t nnz,
                    const std::string& where) {
  for (std::size_t i = 0; i < pointers.size(); ++i)
    TESSERA_CHECK(pointers[i] >= 0 && pointers[i] <= nnz, where, "/indptr: value ", pointers[i], " at position ",
                  first + std::int64_t(i), " is outside [0, ", nnz, "] (", nnz, " stored values); ", kDamagedFileFix);
  for (std::size_t i = 1; i < pointers.size(); ++i)
    TESSERA_CHECK(pointers[i] >= pointers[i - 1], where, "/indptr: decreases at position ", first + std::int64_t(i),
                  " (", pointers[i - 1], " then ", pointers[i], "); it must never decrease: ", kDamagedFileFix);
}

// Reads stored values [begin, begin + count) of data (as Scalar) and indices into the buffers, with the values
// checked finite and the indices within [0, minor): what every reader of a sparse X checks before using them.
template <typename Scalar>
void read_stored(const Sparse& s, std::int64_t begin, std::int64_t count, std::vector<Scalar>& data,
                 std::vector<std::int64_t>& indices) {
  data.resize(std::size_t(count));
  indices.resize(std::size_t(count));
  read_range(s.data, native_type<Scalar>(), hsize_t(begin), hsize_t(count), data.data(), s.where + "/data");
  read_range(s.indices, H5T_NATIVE_INT64, hsize_t(begin), hsize_t(count), indices.data(), s.where + "/indices");
  check_finite(data.data(), data.size(), s.where + "/data", begin);
  for (std::size_t k = 0; k < indices.size(); ++k)
    TESSERA_CHECK(indices[k] >= 0 && indices[k] < s.minor, s.where, "/indices: index ", indices[k], " at position ",
                  begin + std::int64_t(k), " is outside [0, ", s.minor, ") (", s.minor, " ", s.minor_name, "); ",
                  kDamagedFileFix);
}

// Reads stored values [begin, end) of data and indices in pieces of kSparsePiece and calls
// visit(position, index, value) for each, with indices checked against [0, minor) and values finite.
template <typename Scalar, typename Visit>
void scan_sparse(const Sparse& s, std::int64_t begin, std::int64_t end, Visit&& visit) {
  std::vector<Scalar> data;
  std::vector<std::int64_t> indices;
  for (std::int64_t piece = begin; piece < end; piece += std::int64_t(kSparsePiece)) {
    read_stored(s, piece, std::min<std::int64_t>(end - piece, std::int64_t(kSparsePiece)), data, indices);
    for (std::size_t k = 0; k < data.size(); ++k) visit(piece + std::int64_t(k), indices[k], data[k]);
  }
}

// CSR: this rank's cells' range of indptr, then the matching data/indices.
template <typename Scalar>
Block<Scalar> read_csr(const Sparse& s, std::int64_t genes, engine::BlockRange cells) {
  Block<Scalar> values = Block<Scalar>::Zero(genes, cells.size());
  if (cells.size() == 0) return values;
  const std::vector<std::int64_t> pointers =
      read_integers(s.indptr, hsize_t(cells.begin), hsize_t(cells.size() + 1), s.where + "/indptr");
  check_monotone(pointers, cells.begin, s.nnz, s.where);
  std::int64_t cell = 0;  // local column of the stored value being visited
  scan_sparse<Scalar>(s, pointers.front(), pointers.back(), [&](std::int64_t position, std::int64_t gene, Scalar v) {
    while (position >= pointers[std::size_t(cell) + 1]) ++cell;  // skips empty cells
    values(gene, cell) += v;                                     // duplicates summed, as scipy does
  });
  return values;
}

// CSC: every rank reads all of indptr, data and indices (bounded pieces) and keeps its cells' entries.
template <typename Scalar>
Block<Scalar> read_csc(const Sparse& s, engine::BlockRange cells) {
  Block<Scalar> values = Block<Scalar>::Zero(s.major, cells.size());
  const std::vector<std::int64_t> pointers = read_integers(s.indptr, 0, hsize_t(s.major + 1), s.where + "/indptr");
  check_monotone(pointers, 0, s.nnz, s.where);
  std::int64_t gene = 0;
  scan_sparse<Scalar>(s, 0, s.nnz, [&](std::int64_t position, std::int64_t cell, Scalar v) {
    while (position >= pointers[std::size_t(gene) + 1]) ++gene;
    if (cells.contains(cell)) values(gene, cell - cells.begin) += v;
  });
  return values;
}

// X, opened and checked once: its layout, and for a sparse X the parts of its group.
struct OpenX {
  enum class Layout { kDense, kCsr, kCsc } layout = Layout::kDense;
  OpenDataset dense;
  std::optional<Sparse> sparse;
  Shape shape;
  std::string where;  // "h5ad file '...', /X"
};

OpenX open_x(const fs::path& path, hid_t file, const Shape& shape) {
  OpenX x;
  x.shape = shape;
  x.where = in_file(path, "/X");
  const std::string& where = x.where;
  TESSERA_CHECK(readable_path_exists(file, "/X", where), where,
                ": not found; the file has no expression matrix (X) to read");
  if (!is_group(file, "X", where)) {
    x.dense = open_dataset(file, "X", where);
    const std::string encoding = encoding_of(x.dense.dataset.get(), where);
    TESSERA_CHECK(encoding == "array", where, ": unknown encoding-type '", as_utf8(encoding),
                  "' for a dataset (expected 'array'); ", kResaveFix);
    const OpenDataset& d = x.dense;
    TESSERA_CHECK(d.dims.size() == 2, where, ": has ", d.dims.size(), " dimensions; a dense X is 2-D (cells x genes)");
    check_shape(where, std::int64_t(d.dims[0]), std::int64_t(d.dims[1]), shape);
    check_type(d.type.get(), where, kFloats | kIntegers, "float32/64 or integers");
    check_storage(d.dataset.get(), where);
    return x;
  }
  const Group group(H5Gopen2(file, "X", H5P_DEFAULT));
  if (!group) fail_damaged(where, "the group");
  const std::string encoding = encoding_of(group.get(), where);
  TESSERA_CHECK(encoding == "csr_matrix" || encoding == "csc_matrix", where, ": unknown encoding-type '",
                as_utf8(encoding),
                "' (read: array, csr_matrix, csc_matrix); convert X, e.g. adata.X = scipy.sparse.csr_matrix(adata.X)");
  const bool csr = encoding == "csr_matrix";
  x.layout = csr ? OpenX::Layout::kCsr : OpenX::Layout::kCsc;
  x.sparse = open_sparse(group.get(), shape, csr, where);
  return x;
}

template <typename Scalar>
Block<Scalar> read_block(const OpenX& x, engine::BlockRange cells) {
  switch (x.layout) {
    case OpenX::Layout::kDense:
      return read_dense<Scalar>(x.dense, x.shape, cells, x.where);
    case OpenX::Layout::kCsr:
      return read_csr<Scalar>(*x.sparse, x.shape.genes, cells);
    case OpenX::Layout::kCsc:
      break;
  }
  return read_csc<Scalar>(*x.sparse, cells);
}

// Stored values of one batch of CSR cells (16 MiB of values and indices): at most this many, unless one cell
// alone holds more.
constexpr std::int64_t kCellBatchValues = std::int64_t(1) << 20;
// Cells of a dense X read at a time: at most this many values (16 MiB of double).
constexpr std::int64_t kDenseBatchValues = std::int64_t(1) << 21;

// CSR: the range's indptr once, then batches of whole cells with at most kCellBatchValues stored values.
void visit_csr(const Sparse& s, engine::BlockRange cells, const H5adCells::CellVisitor& visit) {
  const std::vector<std::int64_t> pointers =
      read_integers(s.indptr, hsize_t(cells.begin), hsize_t(cells.size() + 1), s.where + "/indptr");
  check_monotone(pointers, cells.begin, s.nnz, s.where);
  std::vector<double> data;
  std::vector<std::int64_t> indices;
  for (std::int64_t first = 0; first < cells.size();) {
    std::int64_t last = first + 1;  // batch [first, last) of local cells
    while (last < cells.size() && pointers[std::size_t(last + 1)] - pointers[std::size_t(first)] <= kCellBatchValues)
      ++last;
    const std::int64_t begin = pointers[std::size_t(first)];
    read_stored(s, begin, pointers[std::size_t(last)] - begin, data, indices);
    for (std::int64_t cell = first; cell < last; ++cell) {
      const auto offset = std::size_t(pointers[std::size_t(cell)] - begin);
      const auto stored = std::size_t(pointers[std::size_t(cell + 1)] - pointers[std::size_t(cell)]);
      visit(cells.begin + cell, std::span<const std::int64_t>(indices).subspan(offset, stored),
            std::span<const double>(data).subspan(offset, stored));
    }
    first = last;
  }
}

}  // namespace

struct H5adCells::Impl {
  fs::path path;
  File file;
  MetaTable obs, var;
  OpenX x;
};

H5adCells::H5adCells(const fs::path& path, const engine::Context& ctx) : impl_(std::make_unique<Impl>()) {
  SilenceHdf5Errors silence;
  impl_->path = path;
  impl_->file = open_collectively(path, ctx);
  const std::string what = "opening h5ad file '" + path.string() + "'";
  engine::run_agreeing(ctx, what.c_str(), [&] {
    impl_->var =
        read_dataframe(path, impl_->file.get(), "var", "make them unique, e.g. with adata.var_names_make_unique()");
    impl_->obs =
        read_dataframe(path, impl_->file.get(), "obs", "make them unique, e.g. with adata.obs_names_make_unique()");
    const Shape shape{std::int64_t(impl_->obs.size()), std::int64_t(impl_->var.size())};
    TESSERA_CHECK(shape.cells > 0 && shape.genes > 0, "h5ad file '", path.string(), "' holds ", shape.cells,
                  " cells x ", shape.genes,
                  " genes: there is nothing to read; check the step that wrote it (e.g. a filter that kept no cell "
                  "or gene)");
    impl_->x = open_x(path, impl_->file.get(), shape);
  });
}

H5adCells::~H5adCells() = default;

const fs::path& H5adCells::path() const { return impl_->path; }
const MetaTable& H5adCells::obs() const { return impl_->obs; }
const MetaTable& H5adCells::var() const { return impl_->var; }
std::int64_t H5adCells::num_cells() const { return impl_->x.shape.cells; }
std::int64_t H5adCells::num_genes() const { return impl_->x.shape.genes; }

template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> H5adCells::read(engine::BlockRange cells) const {
  SilenceHdf5Errors silence;
  return read_block<Scalar>(impl_->x, cells);
}

void H5adCells::for_each_cell(engine::BlockRange cells, const CellVisitor& visit) const {
  SilenceHdf5Errors silence;
  const OpenX& x = impl_->x;
  if (x.layout == OpenX::Layout::kCsr) return visit_csr(*x.sparse, cells, visit);
  // Dense or CSC: dense blocks of cells (CSC: one block, as each read scans the whole matrix), every gene stored.
  std::vector<std::int64_t> every_gene(std::size_t(x.shape.genes));
  std::iota(every_gene.begin(), every_gene.end(), std::int64_t(0));
  const std::int64_t batch = x.layout == OpenX::Layout::kCsc
                                 ? std::max<std::int64_t>(1, cells.size())
                                 : std::max<std::int64_t>(1, kDenseBatchValues / x.shape.genes);
  for (std::int64_t first = cells.begin; first < cells.end; first += batch) {
    const engine::BlockRange part{first, std::min(cells.end, first + batch)};
    const Block<double> values = read_block<double>(x, part);
    for (Eigen::Index c = 0; c < values.cols(); ++c)
      visit(part.begin + c, every_gene, std::span<const double>(values.col(c).data(), std::size_t(values.rows())));
  }
}

template <typename Scalar>
LocalGctx<Scalar> read_h5ad_local(const fs::path& path, const engine::Context& ctx) {
  const H5adCells file(path, ctx);
  LocalGctx<Scalar> result;
  result.rows = file.var();
  result.cols = file.obs();
  result.signatures = engine::block_range(file.num_cells(), ctx.size(), ctx.rank());
  const std::string what = "reading h5ad file '" + path.string() + "'";
  engine::run_agreeing(ctx, what.c_str(), [&] { result.values = file.read<Scalar>(result.signatures); });
  return result;
}

template LocalGctx<float> read_h5ad_local<float>(const fs::path&, const engine::Context&);
template LocalGctx<double> read_h5ad_local<double>(const fs::path&, const engine::Context&);
template Eigen::MatrixXf H5adCells::read<float>(engine::BlockRange) const;
template Eigen::MatrixXd H5adCells::read<double>(engine::BlockRange) const;

}  // namespace tessera::io
