#include "io/gctx_writer.h"

#include <string>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/gctx_layout.h"
#include "io/hdf5_handles.h"
#include "io/hdf5_memory_file.h"
#include "io/slab_file.h"

namespace tessera::io {

namespace {

using namespace hdf5;
using namespace gctx_layout;
namespace fs = std::filesystem;

std::string cannot_write(const fs::path& path) {
  return detail::concat("cannot write GCTX file '", path.string(), "'");
}

// The matrix's bytes plus room for its chunk index (a B-tree entry per chunk, with a generous margin).
std::uint64_t matrix_bytes_with_index(const MetaTable& rows, const MetaTable& cols, MetaType data_type,
                                      const GctxWriteOptions& options) {
  const std::int64_t signatures = std::int64_t(cols.size()), genes = std::int64_t(rows.size());
  const std::int64_t bytes = data_type == MetaType::kFloat32 ? 4 : 8;
  const auto chunk = chunk_shape(signatures, genes, bytes, options.max_chunk_kb);
  const std::uint64_t chunks =
      ((std::uint64_t(signatures) + chunk[0] - 1) / chunk[0]) * ((std::uint64_t(genes) + chunk[1] - 1) / chunk[1]);
  return std::uint64_t(signatures) * std::uint64_t(genes) * std::uint64_t(bytes) + 256 * chunks + (4u << 20);
}

// Rank 0, serially (SlabFile's create()): the whole file but the matrix values, built in memory
// (io/hdf5_memory_file.h: HDF5 writing the disk itself crashes at exit after a full disk) and written to `temporary`
// with checked writes. The matrix has no storage yet (io/slab_file.h), so the image is the size of the metadata.
// Returns the bytes to reserve for the whole file.
std::uint64_t create_file(const fs::path& path, const fs::path& temporary, const MetaTable& rows, const MetaTable& cols,
                          MetaType data_type, const GctxWriteOptions& options) {
  MemoryFile file(path.string());
  write_version(path, file.get());
  {
    const std::int64_t signatures = std::int64_t(cols.size());
    const std::int64_t genes = std::int64_t(rows.size());
    const hsize_t dims[2] = {hsize_t(signatures), hsize_t(genes)};  // stored (ncol x nrow), as cmapPy
    const hsize_t max_dims[2] = {H5S_UNLIMITED, H5S_UNLIMITED};     // as write_gctx
    const Dataspace space(H5Screate_simple(2, dims, max_dims));
    const bool single = data_type == MetaType::kFloat32;
    const PropertyList create = timeless(H5P_DATASET_CREATE);
    const auto chunk = chunk_shape(signatures, genes, single ? 4 : 8, options.max_chunk_kb);
    H5Pset_chunk(create.get(), 2, chunk.data());
    H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER);
    create_parent_groups(file.get(), kMatrixPath, cannot_write(path));
    const Dataset matrix(H5Dcreate2(file.get(), kMatrixPath, single ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, space.get(),
                                    H5P_DEFAULT, create.get(), H5P_DEFAULT));
    if (!matrix) TESSERA_FAIL(cannot_write(path), ", ", kMatrixPath, ": ", hdf5_error_detail());
  }
  write_meta(path, file.get(), kRowMetaPath, rows);
  write_meta(path, file.get(), kColMetaPath, cols);
  const auto image = file.take_image();
  write_bytes_atomically(temporary, image.view());
  return std::uint64_t(image.size) + matrix_bytes_with_index(rows, cols, data_type, options);
}

}  // namespace

struct GctxSlabWriter::Impl {
  Impl(const fs::path& path, const engine::Context& ctx, std::int64_t genes, std::int64_t signatures,
       const SlabFile::Create& create)
      : file(path, ctx, {cannot_write(path), kMatrixPath, "signatures", "", "signature"}, signatures, genes, create),
        genes(genes),
        signatures(signatures) {}
  SlabFile file;  // stored (signatures x genes), as cmapPy
  std::int64_t genes;
  std::int64_t signatures;
};

GctxSlabWriter::GctxSlabWriter(const fs::path& path, const engine::Context& ctx, const MetaTable& rows,
                               const MetaTable& cols, MetaType data_type, const GctxWriteOptions& options) {
  SilenceHdf5Errors silence;
  // These checks see the same arguments on every rank, so they throw on every rank together.
  TESSERA_CHECK(data_type == MetaType::kFloat32 || data_type == MetaType::kFloat64, cannot_write(path),
                ": the data type must be float32 or float64");
  TESSERA_CHECK(options.gzip_level == 0, cannot_write(path), ": gzip level ", options.gzip_level,
                " asked, but the slab writer writes uncompressed (HDF5 compresses in parallel only through collective "
                "writes); write with gzip_level = 0, or compress the file afterwards (h5repack -f GZIP=6)");
  TESSERA_CHECK(options.max_chunk_kb >= 1, cannot_write(path), ": max_chunk_kb ", options.max_chunk_kb,
                " must be at least 1");
  TESSERA_CHECK(!rows.ids.empty() && !cols.ids.empty(), cannot_write(path), ": the matrix has ", rows.size(),
                " genes x ", cols.size(), " signatures; a GCTX file needs at least one of each");
  check_table_for_write(path, rows, std::int64_t(rows.size()), kRowMetaPath, "genes (rows)");
  check_table_for_write(path, cols, std::int64_t(cols.size()), kColMetaPath, "signatures (columns)");

  impl_ = std::make_unique<Impl>(
      path, ctx, std::int64_t(rows.size()), std::int64_t(cols.size()),
      [&](const fs::path& temporary) { return create_file(path, temporary, rows, cols, data_type, options); });
}

GctxSlabWriter::~GctxSlabWriter() = default;  // SlabFile's destructor takes part in close() when it was not called

const fs::path& GctxSlabWriter::path() const { return impl_->file.path(); }
std::int64_t GctxSlabWriter::num_genes() const { return impl_->genes; }
std::int64_t GctxSlabWriter::num_signatures() const { return impl_->signatures; }

template <typename Scalar>
void GctxSlabWriter::write(std::int64_t begin, const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& slab) {
  Impl& w = *impl_;
  const std::string& cannot = w.file.cannot_write();
  TESSERA_CHECK(!w.file.finished(), cannot, ": write() after close(); write every slab before closing");
  const std::int64_t count = slab.cols();
  TESSERA_CHECK(slab.rows() == w.genes, cannot, ": a slab has ", slab.rows(), " genes but the file has ", w.genes,
                "; give genes x signatures slabs with every gene");
  TESSERA_CHECK(0 <= begin && begin + count <= w.signatures, cannot, ": signatures [", begin, ", ", begin + count,
                ") are outside [0, ", w.signatures, "); write within the matrix");
  // Genes x signatures column-major is the stored signatures x genes row-major.
  w.file.write(begin, count, slab.data());
}

void GctxSlabWriter::close() { impl_->file.close(); }

template void GctxSlabWriter::write<float>(std::int64_t, const Eigen::MatrixXf&);
template void GctxSlabWriter::write<double>(std::int64_t, const Eigen::MatrixXd&);

}  // namespace tessera::io
