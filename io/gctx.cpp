#include "io/gctx.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

#include "engine/collectives.h"
#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/gctx_layout.h"
#include "io/hdf5_checks.h"
#include "io/hdf5_handles.h"
#include "io/hdf5_memory_file.h"
#include "io/text_encoding.h"

namespace tessera::io {

namespace {

using namespace hdf5;
using namespace gctx_layout;  // the names and the writing helpers shared with io/gctx_writer.cpp
namespace fs = std::filesystem;

// "GCTX file '<file>', <place>" -- the start of every message about a file's content.
std::string in_file(const fs::path& file, std::string_view place) {
  return detail::concat("GCTX file '", file.string(), "', ", place);
}

template <typename Scalar>
hid_t native_type() {
  return std::is_same_v<Scalar, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

// Every rank checks the same metadata, so these checks fail on all ranks together (no rank is left waiting
// in a collective).
void check_unique_ids(const std::vector<std::string>& ids, const std::string& where, const char* fix) {
  if (const auto duplicate = first_duplicate(ids))
    TESSERA_FAIL(where, ": duplicate id '", ids[duplicate->second], "' at positions ", duplicate->first, " and ",
                 duplicate->second, "; ids must be unique: ", fix);
}

// ---------------------------------------------------------------------------------------------------------
// Reading

File open_collectively(const fs::path& path, const engine::Context& ctx) {
  TESSERA_CHECK(fs::exists(path), "GCTX file '", path.string(),
                "' does not exist; check the path (and TESSERA_DATA_DIR or the input option)");
  TESSERA_CHECK(!fs::is_directory(path), "'", path.string(),
                "' is a folder, not a file; give the path of a .gctx file (inside that folder, if it holds one)");
  TESSERA_CHECK(H5Fis_hdf5(path.c_str()) > 0, "'", path.string(),
                "' is not an HDF5 file (no HDF5 signature), so it cannot be GCTX; if it is GCT text, read it "
                "with read_gct, otherwise check the path");
  PropertyList access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_mpio(access.get(), ctx.comm(), MPI_INFO_NULL);
  File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()));
  if (!file) {
    const std::string why = hdf5_error_detail();
    TESSERA_CHECK(why.find("truncated") == std::string::npos, "GCTX file '", path.string(), "' is truncated (", why,
                  "): it is shorter than its HDF5 header records, as after an "
                  "interrupted copy or write; copy or write it again");
    TESSERA_FAIL("cannot open GCTX file '", path.string(), "': HDF5 cannot read its header (", why,
                 "); the file may be locked by a writer, or ", kDamagedFileFix);
  }
  return file;
}

// One metadata field as stored: strings, floats or integers; -666 becomes NaN for numbers, text is UTF-8
// (io/text_encoding.h). Its length is checked against `expected` (the matrix's side, `what`) and its type and
// storage against themselves (io/hdf5_checks.h) before anything is allocated or read.
MetaColumn read_field(const fs::path& path, hid_t file, const std::string& dataset_path, const std::string& name,
                      std::int64_t expected, const char* what) {
  const std::string where = in_file(path, as_utf8(dataset_path));  // names come from the file, as text does
  Dataset dataset(H5Dopen2(file, dataset_path.c_str(), H5P_DEFAULT));
  if (!dataset) fail_damaged(where, "the dataset's header");
  const Dataspace space(H5Dget_space(dataset.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail_damaged(where, "the dataset's shape");
  TESSERA_CHECK(rank == 1, where, ": metadata must be one-dimensional, found ", rank,
                " dimensions; rewrite the field as a vector with one value per id");
  hsize_t length = 0;
  H5Sget_simple_extent_dims(space.get(), &length, nullptr);
  TESSERA_CHECK(length == hsize_t(expected), where, ": has ", length, " values but ", kMatrixPath, " has ", expected,
                " ", what, "; every field, the id field too, needs one value for each: fix or regenerate the file");
  const Datatype type(H5Dget_type(dataset.get()));
  check_type(type.get(), where, kStrings | kFloats | kIntegers, "strings, float32/64 or integers");
  check_storage(dataset.get(), where);
  const std::size_t size = H5Tget_size(type.get());
  MetaColumn column{name, MetaType::kString, {}, {}};
  auto read_into = [&](hid_t memory_type, void* buffer) {
    return H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  };
  bool ok = true;
  if (H5Tget_class(type.get()) == H5T_STRING) {
    ok = read_string_values(type.get(), std::size_t(length), space.get(), read_into, column.text);
    // Released files mix encodings (LINCS2020 stores pert_idose in Latin-1): every value leaves as UTF-8.
    for (auto& text : column.text) text = as_utf8(text);
  } else if (H5Tget_class(type.get()) == H5T_FLOAT) {
    column.type = size == 4 ? MetaType::kFloat32 : MetaType::kFloat64;
    column.numbers.resize(std::size_t(length));
    if (length > 0) ok = read_into(H5T_NATIVE_DOUBLE, column.numbers.data()) >= 0;
  } else {
    column.type = size <= 4 ? MetaType::kInt32 : MetaType::kInt64;
    std::vector<std::int64_t> integers(static_cast<std::size_t>(length));
    if (length > 0) ok = read_into(H5T_NATIVE_INT64, integers.data()) >= 0;
    column.numbers.assign(integers.begin(), integers.end());
  }
  if (!ok) fail_damaged(where, "the values");
  for (double& v : column.numbers)
    if (v == kMissingNumber) v = std::numeric_limits<double>::quiet_NaN();
  return column;
}

// Field names of a metadata group, in creation order when the writer recorded it (tessera does), otherwise
// in name order (HDF5's default index; what h5py-written files give).
std::vector<std::string> field_names(const fs::path& path, hid_t group, const std::string& group_path) {
  H5G_info_t info{};
  if (H5Gget_info(group, &info) < 0) fail_damaged(in_file(path, group_path), "the list of fields");
  const PropertyList create(H5Gget_create_plist(group));
  unsigned order_flags = 0;
  H5Pget_link_creation_order(create.get(), &order_flags);
  const H5_index_t index = (order_flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length = H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) fail_damaged(in_file(path, group_path), "the list of fields");
    std::string name(std::size_t(length) + 1, '\0');
    H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(std::size_t(length));
    names.push_back(std::move(name));
  }
  return names;
}

// Ids plus every other dataset of /0/META/ROW or /0/META/COL, each checked to have one value per `what` of the
// matrix (`expected` of them) before it is read.
MetaTable read_meta(const fs::path& path, hid_t file, const std::string& group_path, std::int64_t expected,
                    const char* what) {
  const std::string id_path = group_path + "/id";
  TESSERA_CHECK(readable_path_exists(file, id_path, in_file(path, id_path)), in_file(path, id_path),
                ": not found; a GCTX file names its ", what,
                " there (write the file with cmapPy or tessera's write_gctx)");
  MetaTable table;
  MetaColumn id = read_field(path, file, id_path, "id", expected, what);
  if (id.type == MetaType::kString) {
    table.ids = std::move(id.text);
  } else {  // integer (or float) ids, e.g. Entrez gene ids: ids are text everywhere else
    table.ids.reserve(id.size());
    for (std::size_t i = 0; i < id.size(); ++i) table.ids.push_back(id.as_string(i));
  }
  check_unique_ids(table.ids, in_file(path, id_path), "remove or rename the duplicate in the file");

  const Group group(H5Gopen2(file, group_path.c_str(), H5P_DEFAULT));
  if (!group) fail_damaged(in_file(path, group_path), "the group");
  for (const auto& name : field_names(path, group.get(), group_path)) {
    if (name == "id") continue;
    const std::string field_path = group_path + "/" + name;
    {  // Only datasets are fields; anything else a writer left there is not metadata.
      const hid_t object = H5Oopen(group.get(), name.c_str(), H5P_DEFAULT);
      if (object < 0) fail_damaged(in_file(path, as_utf8(field_path)), "the object header");
      const bool is_dataset = H5Iget_type(object) == H5I_DATASET;
      H5Oclose(object);
      if (!is_dataset) continue;
    }
    table.fields.push_back(read_field(path, file, field_path, as_utf8(name), expected, what));
  }
  return table;
}

// An open GCTX file with its metadata read: what GctxReader holds, and what read_gctx_local moves its
// metadata out of (so the tables are not copied).
struct OpenGctx {
  fs::path path;
  engine::Context ctx;
  File file;
  Dataset matrix;  // declared after `file`, so closed before it
  MetaType data_type = MetaType::kFloat32;
  std::int64_t num_signatures = 0;
  std::int64_t num_genes = 0;
  MetaTable rows;
  MetaTable cols;
};

OpenGctx open_gctx(const fs::path& path, const engine::Context& ctx) {
  OpenGctx g{path, ctx, open_collectively(path, ctx), {}, MetaType::kFloat32, 0, 0, {}, {}};
  TESSERA_CHECK(readable_path_exists(g.file.get(), kMatrixPath, in_file(path, kMatrixPath)), in_file(path, kMatrixPath),
                ": data matrix not found; a GCTX file stores its data there (is this another kind of HDF5 "
                "file? convert it with cmapPy or tessera's write_gctx)");
  // No chunk cache: every chunk is read once per call, and the default 1 MiB cache would take chunks of up to
  // 1 MiB (cmapPy's and ours are just under) through an extra copy whenever HDF5 falls back to independent I/O.
  const PropertyList access(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_chunk_cache(access.get(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
  g.matrix = Dataset(H5Dopen2(g.file.get(), kMatrixPath, access.get()));
  if (!g.matrix) fail_damaged(in_file(path, kMatrixPath), "the dataset's header");

  const Datatype type(H5Dget_type(g.matrix.get()));
  if (!type) fail_damaged(in_file(path, kMatrixPath), "the dataset's datatype");
  const std::size_t size = H5Tget_size(type.get());
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_FLOAT && (size == 4 || size == 8), in_file(path, kMatrixPath),
                ": unsupported data type ", describe_type(type.get()),
                "; GCTX data must be float32 or float64: convert the matrix (e.g. with numpy astype('float32'))");
  g.data_type = size == 4 ? MetaType::kFloat32 : MetaType::kFloat64;

  const Dataspace space(H5Dget_space(g.matrix.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  TESSERA_CHECK(rank == 2, in_file(path, kMatrixPath), ": has ", rank,
                " dimensions, expected 2 (signatures x genes); this is not a GCTX data matrix");
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  g.num_signatures = std::int64_t(dims[0]);  // stored (ncol x nrow): one signature per stored row
  g.num_genes = std::int64_t(dims[1]);
  // An empty matrix is a sound file with nothing in it (a filter upstream kept nothing), not a damaged one.
  TESSERA_CHECK(g.num_signatures > 0 && g.num_genes > 0, "GCTX file '", path.string(), "' holds ", g.num_signatures,
                " signatures x ", g.num_genes,
                " genes: there is nothing to read; check the step that wrote it "
                "(e.g. a filter that kept no signature or gene)");
  check_storage(g.matrix.get(), in_file(path, kMatrixPath));

  g.rows = read_meta(path, g.file.get(), kRowMetaPath, g.num_genes, "genes (stored columns)");
  g.cols = read_meta(path, g.file.get(), kColMetaPath, g.num_signatures, "signatures (stored rows)");
  return g;
}

// Collective: signatures [begin, end) of this rank, read straight into the result (genes x signatures,
// column-major = the stored row-major slab, so no reordering and no temporary).
template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> read_block(const OpenGctx& g, std::int64_t begin,
                                                                 std::int64_t end) {
  const bool bad_range = !(0 <= begin && begin <= end && end <= g.num_signatures);
  // A wrong range on one rank must not leave the others inside the collective read.
  if (engine::allreduce_any(g.ctx, bad_range)) {
    TESSERA_CHECK(!bad_range, in_file(g.path, kMatrixPath), ": signature range [", begin, ", ", end,
                  ") is outside [0, ", g.num_signatures, "); pass a block within the file");
    TESSERA_FAIL(in_file(g.path, kMatrixPath), ": another rank asked for a signature range outside [0, ",
                 g.num_signatures, ")");
  }
  const hsize_t count = hsize_t(end - begin);
  const hsize_t elements = count * hsize_t(g.num_genes);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> values(g.num_genes, Eigen::Index(count));

  const Dataspace file_space(H5Dget_space(g.matrix.get()));
  // The memory space has the selection's own 2-D shape. A 1-D memory space of the same size reads the same
  // bytes, but with shapes that differ HDF5 leaves its fast chunk-mapping path and walks the selection element
  // by element: 10x slower on 200k x 978 (BENCHMARKS.md).
  const hsize_t counts[2] = {count, hsize_t(g.num_genes)};
  const hsize_t memory_dims[2] = {std::max<hsize_t>(count, 1), std::max<hsize_t>(counts[1], 1)};
  const Dataspace memory_space(H5Screate_simple(2, memory_dims, nullptr));
  if (elements > 0) {
    const hsize_t start[2] = {hsize_t(begin), 0};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr);
  } else {  // an empty block still takes part in the collective read
    H5Sselect_none(file_space.get());
    H5Sselect_none(memory_space.get());
  }
  const PropertyList transfer(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_COLLECTIVE);
  Scalar unused{};
  const herr_t status = H5Dread(g.matrix.get(), native_type<Scalar>(), memory_space.get(), file_space.get(),
                                transfer.get(), elements > 0 ? static_cast<void*>(values.data()) : &unused);
  const std::string why = status < 0 ? hdf5_error_detail() : std::string("failed on another rank");
  if (engine::allreduce_any(g.ctx, status < 0))
    TESSERA_FAIL(in_file(g.path, kMatrixPath), ": HDF5 cannot read signatures [", begin, ", ", end, ") (", why, "); ",
                 kDamagedFileFix);
  return values;
}

// Runs of consecutive values of a strictly increasing list: (first, length) pairs.
std::vector<std::pair<hsize_t, hsize_t>> runs_of(std::span<const std::int64_t> indices) {
  std::vector<std::pair<hsize_t, hsize_t>> runs;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (!runs.empty() && hsize_t(indices[i]) == runs.back().first + runs.back().second)
      ++runs.back().second;
    else
      runs.emplace_back(hsize_t(indices[i]), 1);
  }
  return runs;
}

// "" when the list is strictly increasing within [0, limit), else what is wrong with it.
std::string check_indices(std::span<const std::int64_t> indices, std::int64_t limit, const char* what) {
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= limit)
      return detail::concat(what, " index ", indices[i], " (position ", i, ") is outside [0, ", limit, ")");
    if (i > 0 && indices[i] <= indices[i - 1])
      return detail::concat(what, " indices must increase strictly, but position ", i, " holds ", indices[i], " after ",
                            indices[i - 1]);
  }
  return "";
}

// Collective: the values of signatures x genes (both strictly increasing), genes x signatures in memory. Each batch
// is one collective H5Dread whose file selection is the union of (signature run) x (gene run) blocks and whose
// memory selection is the batch's own columns of the result, in the same row-major order as the file selection
// (HDF5 walks both in increasing coordinates), so values land in place with no temporary. Batches bound the number
// of blocks HDF5 (and MPI-IO's derived types) must hold at once; every rank makes the same number of calls (a rank
// with fewer batches reads nothing in the last ones), as a collective transfer requires.
template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> read_selected(const OpenGctx& g,
                                                                    std::span<const std::int64_t> signatures,
                                                                    std::span<const std::int64_t> genes,
                                                                    std::int64_t batch_bytes) {
  std::string problem = check_indices(signatures, g.num_signatures, "signature");
  if (problem.empty()) problem = check_indices(genes, g.num_genes, "gene");
  if (problem.empty() && genes.empty()) problem = "the gene selection is empty";
  if (engine::allreduce_any(g.ctx, !problem.empty())) {
    TESSERA_CHECK(problem.empty(), in_file(g.path, kMatrixPath), ": cannot read the selection: ", problem,
                  "; select within the file");
    TESSERA_FAIL(in_file(g.path, kMatrixPath), ": another rank asked for a selection outside the file");
  }
  const hsize_t num_genes = hsize_t(genes.size());
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> values(Eigen::Index(num_genes),
                                                               Eigen::Index(signatures.size()));
  // Selections are built as (signature runs x every gene) AND (every signature x gene runs): HDF5 1.10 adds each
  // OR-ed block by merging it into the whole selection so far, so OR-ing the R x G blocks one by one costs
  // O(R G (R + G)) (~50 s for 5,000 signature runs x 900 gene runs), while the two one-dimensional unions and one
  // intersection cost O(R^2 + G^2 + R G) (0.1 s). The gene union is built once; a batch holds at most 1,024
  // signatures, which keeps the O(R^2) part small.
  const Dataspace gene_columns(H5Dget_space(g.matrix.get()));
  {
    H5S_seloper_t op = H5S_SELECT_SET;
    for (const auto& [gene, width] : runs_of(genes)) {
      const hsize_t offset[2] = {0, gene};
      const hsize_t block[2] = {hsize_t(g.num_signatures), width};
      H5Sselect_hyperslab(gene_columns.get(), op, offset, nullptr, block, nullptr);
      op = H5S_SELECT_OR;
    }
  }
  constexpr hsize_t kMaxBatchSignatures = 1024;
  const hsize_t batch = std::clamp<hsize_t>(
      hsize_t(std::max<std::int64_t>(batch_bytes, 1)) / (num_genes * sizeof(Scalar)), 1, kMaxBatchSignatures);
  const hsize_t my_batches = (hsize_t(signatures.size()) + batch - 1) / batch;
  const auto batches = std::int64_t(engine::allreduce_max(g.ctx, double(my_batches)));

  const PropertyList transfer(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_COLLECTIVE);
  std::string why;
  for (std::int64_t b = 0; b < batches; ++b) {
    const hsize_t first = std::min<hsize_t>(hsize_t(b) * batch, signatures.size());
    const hsize_t last = std::min<hsize_t>(first + batch, signatures.size());
    const hsize_t count = last - first;
    const Dataspace signature_rows(H5Dget_space(g.matrix.get()));
    const hsize_t memory_dims[2] = {std::max<hsize_t>(count, 1), num_genes};
    const Dataspace memory_space(H5Screate_simple(2, memory_dims, nullptr));
    Dataspace file_space;
    if (count > 0) {
      H5S_seloper_t op = H5S_SELECT_SET;
      for (const auto& [start, length] : runs_of(signatures.subspan(first, count))) {
        const hsize_t offset[2] = {start, 0};
        const hsize_t block[2] = {length, hsize_t(g.num_genes)};
        H5Sselect_hyperslab(signature_rows.get(), op, offset, nullptr, block, nullptr);
        op = H5S_SELECT_OR;
      }
      file_space = Dataspace(H5Scombine_select(signature_rows.get(), H5S_SELECT_AND, gene_columns.get()));
    } else {  // no signature left on this rank: it still takes part in the collective read
      file_space = Dataspace(H5Dget_space(g.matrix.get()));
      H5Sselect_none(file_space.get());
      H5Sselect_none(memory_space.get());
    }
    Scalar unused{};
    void* target = count > 0 ? static_cast<void*>(values.data() + first * num_genes) : &unused;
    const herr_t status =
        H5Dread(g.matrix.get(), native_type<Scalar>(), memory_space.get(), file_space.get(), transfer.get(), target);
    if (status < 0 && why.empty()) why = hdf5_error_detail();
  }
  if (engine::allreduce_any(g.ctx, !why.empty()))
    TESSERA_FAIL(in_file(g.path, kMatrixPath), ": HDF5 cannot read the selected signatures and genes (",
                 why.empty() ? std::string("failed on another rank") : why, "); ", kDamagedFileFix);
  return values;
}

// ---------------------------------------------------------------------------------------------------------
// Writing

}  // namespace

// The layout helpers io/gctx_layout.h declares (GctxSlabWriter uses them too).
namespace gctx_layout {

// Chunks hold whole signatures where they fit, so a rank's block of signatures touches only its own rows of
// chunks; bounded by max_chunk_kb as cmapPy bounds them. For 978 float32 genes and 1024 KB: (268, 978).
std::array<hsize_t, 2> chunk_shape(std::int64_t signatures, std::int64_t genes, std::size_t element_size,
                                   std::int64_t max_chunk_kb) {
  const hsize_t max_bytes = std::min<hsize_t>(hsize_t(max_chunk_kb) * 1024, hsize_t(1) << 31);
  const hsize_t gene_chunk = std::clamp<hsize_t>(max_bytes / element_size, 1, std::max<hsize_t>(genes, 1));
  const hsize_t signature_chunk =
      std::clamp<hsize_t>(max_bytes / (gene_chunk * element_size), 1, std::max<hsize_t>(signatures, 1));
  return {signature_chunk, gene_chunk};
}

void check_table_for_write(const fs::path& path, const MetaTable& table, std::int64_t expected,
                           const std::string& group_path, const char* what) {
  const std::string where = detail::concat("cannot write GCTX file '", path.string(), "', ", group_path);
  TESSERA_CHECK(std::int64_t(table.ids.size()) == expected, where, ": the matrix has ", expected, " ", what,
                " but there are ", table.ids.size(), " ids; give one id per ", what);
  check_unique_ids(table.ids, where + "/id", "rename or drop the duplicate before writing");
  for (const auto& field : table.fields) {
    TESSERA_CHECK(!field.name.empty() && field.name.find('/') == std::string::npos && field.name != "id", where,
                  ": field name '", field.name,
                  "' cannot be stored (empty, contains '/', or is 'id'); "
                  "rename the field");
    TESSERA_CHECK(field.size() == table.ids.size(), where, "/", field.name, ": has ", field.size(), " values for ",
                  table.ids.size(), " ids; give one value per id");
  }
  auto no_nul = [&](const std::vector<std::string>& values, const std::string& name) {
    for (const auto& v : values)
      TESSERA_CHECK(v.find('\0') == std::string::npos, where, "/", name,
                    ": a value contains a NUL character, which NUL-padded storage would cut; remove it");
  };
  no_nul(table.ids, "id");
  for (const auto& field : table.fields)
    if (field.type == MetaType::kString) no_nul(field.text, field.name);
}

namespace {

void write_vector(const fs::path& path, hid_t group, const std::string& dataset_path, hid_t file_type,
                  hid_t memory_type, std::size_t count, const void* data) {
  const hsize_t dims[1] = {hsize_t(count)};
  const Dataspace space(H5Screate_simple(1, dims, nullptr));
  const std::string name = dataset_path.substr(dataset_path.rfind('/') + 1);
  const PropertyList create = timeless(H5P_DATASET_CREATE);
  const Dataset dataset(
      H5Dcreate2(group, name.c_str(), file_type, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT));
  if (!dataset || (count > 0 && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0))
    TESSERA_FAIL("cannot write GCTX file '", path.string(), "', ", dataset_path, ": ", hdf5_error_detail());
}

}  // namespace

void write_version(const fs::path& path, hid_t file) {
  const FixedStrings version = pack_fixed_strings({kVersion});
  const Dataspace scalar(H5Screate(H5S_SCALAR));
  const Attribute attribute(
      H5Acreate2(file, kVersionAttribute, version.type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attribute || H5Awrite(attribute.get(), version.type.get(), version.bytes.data()) < 0)
    TESSERA_FAIL("cannot write GCTX file '", path.string(), "', attribute /", kVersionAttribute, ": ",
                 hdf5_error_detail());
}

void write_meta(const fs::path& path, hid_t file, const std::string& group_path, const MetaTable& table) {
  const std::string what = "cannot write GCTX file '" + path.string() + "'";
  create_parent_groups(file, group_path, what);
  // Creation order lets a reader give back the fields in the order they were written.
  const PropertyList group_create = timeless(H5P_GROUP_CREATE);
  H5Pset_link_creation_order(group_create.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  const Group group(H5Gcreate2(file, group_path.c_str(), H5P_DEFAULT, group_create.get(), H5P_DEFAULT));
  if (!group) TESSERA_FAIL("cannot write GCTX file '", path.string(), "', ", group_path, ": ", hdf5_error_detail());

  auto write_text = [&](const std::string& name, const std::vector<std::string>& values) {
    const FixedStrings packed = pack_fixed_strings(values);
    write_vector(path, group.get(), group_path + "/" + name, packed.type.get(), packed.type.get(), values.size(),
                 packed.bytes.data());
  };
  write_text("id", table.ids);
  for (const auto& field : table.fields) {
    if (field.type == MetaType::kString) {
      write_text(field.name, field.text);
      continue;
    }
    std::vector<double> numbers = field.numbers;
    for (double& v : numbers)
      if (std::isnan(v)) v = kMissingNumber;
    hid_t file_type = H5T_IEEE_F64LE;
    if (field.type == MetaType::kFloat32) file_type = H5T_IEEE_F32LE;
    if (field.type == MetaType::kInt32) file_type = H5T_STD_I32LE;
    if (field.type == MetaType::kInt64) file_type = H5T_STD_I64LE;
    // HDF5 converts double -> the stored type (exact for values that came from that type).
    write_vector(path, group.get(), group_path + "/" + field.name, file_type, H5T_NATIVE_DOUBLE, numbers.size(),
                 numbers.data());
  }
}

}  // namespace gctx_layout

namespace {

// The whole file, built in memory (io/hdf5_memory_file.h): no HDF5 call here touches the disk.
template <typename Scalar>
MemoryFile::Image gctx_image(const fs::path& final_path, const BasicGeneMatrix<Scalar>& matrix,
                             const GctxWriteOptions& options) {
  SilenceHdf5Errors silence;
  MemoryFile file(final_path.string());
  write_version(final_path, file.get());
  {
    const std::int64_t signatures = matrix.num_signatures();
    const std::int64_t genes = matrix.num_genes();
    const hsize_t dims[2] = {hsize_t(signatures), hsize_t(genes)};  // stored (ncol x nrow), as cmapPy
    const hsize_t max_dims[2] = {H5S_UNLIMITED, H5S_UNLIMITED};
    const Dataspace space(H5Screate_simple(2, dims, max_dims));
    const PropertyList create = timeless(H5P_DATASET_CREATE);
    const auto chunk = chunk_shape(signatures, genes, sizeof(Scalar), options.max_chunk_kb);
    H5Pset_chunk(create.get(), 2, chunk.data());
    if (options.gzip_level > 0) H5Pset_deflate(create.get(), unsigned(options.gzip_level));
    create_parent_groups(file.get(), kMatrixPath, "cannot write GCTX file '" + final_path.string() + "'");
    const hid_t file_type = std::is_same_v<Scalar, float> ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    const Dataset dataset(
        H5Dcreate2(file.get(), kMatrixPath, file_type, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT));
    // Eigen's column-major genes x signatures buffer is the stored row-major signatures x genes.
    if (!dataset || (matrix.values.size() > 0 && H5Dwrite(dataset.get(), native_type<Scalar>(), H5S_ALL, H5S_ALL,
                                                          H5P_DEFAULT, matrix.values.data()) < 0))
      TESSERA_FAIL("cannot write GCTX file '", final_path.string(), "', ", kMatrixPath, ": ", hdf5_error_detail());
  }
  write_meta(final_path, file.get(), kRowMetaPath, matrix.rows);
  write_meta(final_path, file.get(), kColMetaPath, matrix.cols);
  return file.take_image();
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Public API

struct GctxReader::Impl {
  OpenGctx gctx;
};

GctxReader::GctxReader(const fs::path& path, const engine::Context& ctx) {
  SilenceHdf5Errors silence;
  impl_ = std::make_unique<Impl>(Impl{open_gctx(path, ctx)});
}

GctxReader::~GctxReader() {
  SilenceHdf5Errors silence;
  impl_.reset();  // collective (H5Fclose with the MPI-IO driver): every rank destroys its reader
}

const fs::path& GctxReader::path() const { return impl_->gctx.path; }
std::int64_t GctxReader::num_genes() const { return impl_->gctx.num_genes; }
std::int64_t GctxReader::num_signatures() const { return impl_->gctx.num_signatures; }
MetaType GctxReader::data_type() const { return impl_->gctx.data_type; }
const MetaTable& GctxReader::rows() const { return impl_->gctx.rows; }
const MetaTable& GctxReader::cols() const { return impl_->gctx.cols; }

template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> GctxReader::read_signatures(std::int64_t begin,
                                                                                  std::int64_t end) const {
  SilenceHdf5Errors silence;
  return read_block<Scalar>(impl_->gctx, begin, end);
}

template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> GctxReader::read_selection(
    std::span<const std::int64_t> signatures, std::span<const std::int64_t> genes, std::int64_t batch_bytes) const {
  SilenceHdf5Errors silence;
  return read_selected<Scalar>(impl_->gctx, signatures, genes, batch_bytes);
}

template <typename Scalar>
LocalGctx<Scalar> read_gctx_local(const fs::path& path, const engine::Context& ctx) {
  SilenceHdf5Errors silence;
  OpenGctx g = open_gctx(path, ctx);
  const engine::BlockRange range = engine::block_range(g.num_signatures, ctx.size(), ctx.rank());
  auto values = read_block<Scalar>(g, range.begin, range.end);
  return LocalGctx<Scalar>{std::move(g.rows), std::move(g.cols), range, std::move(values)};
}

template <typename Scalar>
BasicGeneMatrix<Scalar> read_gctx(const fs::path& path, const engine::Context& ctx) {
  SilenceHdf5Errors silence;
  OpenGctx g = open_gctx(path, ctx);
  auto values = read_block<Scalar>(g, 0, g.num_signatures);
  return BasicGeneMatrix<Scalar>{std::move(values), std::move(g.rows), std::move(g.cols)};
}

template <typename Scalar>
void write_gctx(const fs::path& path, const BasicGeneMatrix<Scalar>& matrix, const GctxWriteOptions& options) {
  TESSERA_CHECK(options.gzip_level >= 0 && options.gzip_level <= 9, "cannot write GCTX file '", path.string(),
                "': gzip level ", options.gzip_level, " is outside 0..9 (0 = no compression)");
  TESSERA_CHECK(options.max_chunk_kb >= 1, "cannot write GCTX file '", path.string(), "': max_chunk_kb ",
                options.max_chunk_kb, " must be at least 1");
  TESSERA_CHECK(options.gzip_level == 0 || H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0, "cannot write GCTX file '",
                path.string(), "': this HDF5 library has no gzip filter; write with gzip_level = 0");
  // Checked before anything is created, so a bad table leaves no file behind.
  check_table_for_write(path, matrix.rows, matrix.num_genes(), kRowMetaPath, "genes (rows)");
  check_table_for_write(path, matrix.cols, matrix.num_signatures(), kColMetaPath, "signatures (columns)");
  // The disk sees only checked writes of finished bytes: a full disk is one Error naming `path`, and no file.
  write_bytes_atomically(path, gctx_image(path, matrix, options).view());
}

template Eigen::MatrixXf GctxReader::read_signatures<float>(std::int64_t, std::int64_t) const;
template Eigen::MatrixXd GctxReader::read_signatures<double>(std::int64_t, std::int64_t) const;
template Eigen::MatrixXf GctxReader::read_selection<float>(std::span<const std::int64_t>, std::span<const std::int64_t>,
                                                           std::int64_t) const;
template Eigen::MatrixXd GctxReader::read_selection<double>(std::span<const std::int64_t>,
                                                            std::span<const std::int64_t>, std::int64_t) const;
template LocalGctx<float> read_gctx_local<float>(const fs::path&, const engine::Context&);
template LocalGctx<double> read_gctx_local<double>(const fs::path&, const engine::Context&);
template BasicGeneMatrix<float> read_gctx<float>(const fs::path&, const engine::Context&);
template BasicGeneMatrix<double> read_gctx<double>(const fs::path&, const engine::Context&);
template void write_gctx<float>(const fs::path&, const BasicGeneMatrix<float>&, const GctxWriteOptions&);
template void write_gctx<double>(const fs::path&, const BasicGeneMatrix<double>&, const GctxWriteOptions&);

}  // namespace tessera::io
