#include "io/gctx_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/gctx_layout.h"
#include "io/hdf5_handles.h"
#include "io/hdf5_memory_file.h"

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

// Reserves the disk blocks the file will grow into, so that a disk too small fails here, with a clear message,
// and not later inside parallel HDF5 (which cannot recover from a failed metadata write: its cleanup at exit
// crashes, see io/hdf5_memory_file.h). HDF5 truncates the file to its real end when it closes it.
void reserve_space(const fs::path& path, const fs::path& temporary, std::uint64_t bytes) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) TESSERA_FAIL(cannot_write(path), ": cannot open '", temporary.string(), "': ", std::strerror(errno));
  const int error = ::posix_fallocate(fd, 0, off_t(bytes));
  ::close(fd);
  if (error != 0)
    TESSERA_FAIL(cannot_write(path), ": cannot reserve its ", double(bytes) / 1e9, " GB on disk (",
                 std::strerror(error),
                 "); free space on that file system (or raise the quota), or write to another "
                 "folder");
}

// Rank 0, serially: the whole file but the matrix values, built in memory (io/hdf5_memory_file.h: HDF5 writing
// the disk itself crashes at exit after a full disk) and written to `temporary` with checked writes. The matrix has
// no storage yet: its chunks are allocated when the ranks open the file through MPI-IO (parallel HDF5 allocates a
// dataset's whole storage on open for writing, since independent writes cannot allocate), and never filled (every
// value is written later), so the image is the size of the metadata.
void create_file(const fs::path& path, const fs::path& temporary, const MetaTable& rows, const MetaTable& cols,
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
    const PropertyList create(H5Pcreate(H5P_DATASET_CREATE));
    const auto chunk = chunk_shape(signatures, genes, single ? 4 : 8, options.max_chunk_kb);
    H5Pset_chunk(create.get(), 2, chunk.data());
    H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER);
    const PropertyList link_create(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(link_create.get(), 1);
    const Dataset matrix(H5Dcreate2(file.get(), kMatrixPath, single ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, space.get(),
                                    link_create.get(), create.get(), H5P_DEFAULT));
    if (!matrix) TESSERA_FAIL(cannot_write(path), ", ", kMatrixPath, ": ", hdf5_error_detail());
  }
  write_meta(path, file.get(), kRowMetaPath, rows);
  write_meta(path, file.get(), kColMetaPath, cols);
  const auto image = file.take_image();
  write_bytes_atomically(temporary, image.view());
  reserve_space(path, temporary, std::uint64_t(image.size) + matrix_bytes_with_index(rows, cols, data_type, options));
}

// fsync by name; 0 or the errno.
int sync_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int error = ::fsync(fd) == 0 ? 0 : errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  return error;
}

// "" when the ranges (begin, end pairs of every rank's writes) tile [0, n) exactly once, else what is wrong.
std::string coverage_problem(std::vector<std::int64_t> flat, std::int64_t n) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    if (flat[i] < flat[i + 1]) ranges.emplace_back(flat[i], flat[i + 1]);
  std::sort(ranges.begin(), ranges.end());
  std::int64_t next = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin > next) return detail::concat("signatures [", next, ", ", begin, ") were never written");
    if (begin < next)
      return detail::concat("signatures [", begin, ", ", std::min(next, end), ") were written more than once");
    next = end;
  }
  if (next < n) return detail::concat("signatures [", next, ", ", n, ") were never written");
  return {};
}

}  // namespace

struct GctxSlabWriter::Impl {
  explicit Impl(const engine::Context& context) : ctx(context) {}  // (Context() would be a collective)
  fs::path path;
  fs::path temporary;
  engine::Context ctx;
  File file;
  Dataset matrix;  // declared after `file`, so closed before it
  std::int64_t genes = 0;
  std::int64_t signatures = 0;
  std::vector<std::int64_t> written;   // begin, end of each write of this rank
  std::optional<std::string> failure;  // why a write of this rank failed
  bool finished = false;

  // Collective: the end of the writer, by close() (failed = false) or by the destructor of a rank that did not
  // reach close() (failed = true). Every rank makes the same collective calls in the same order whatever
  // happened: the allgather of the ranges, the collective HDF5 close, one allreduce on the outcome, and one on
  // the rename. Returns the error this rank reports, or nothing when the file is in place.
  std::optional<std::string> finish(bool failed) {
    finished = true;
    SilenceHdf5Errors silence;
    const std::vector<std::int64_t> all = engine::allgatherv(ctx, std::span<const std::int64_t>(written));
    std::optional<std::string> problem = failure;
    if (failed && !problem) problem = "this rank stopped before close()";
    // The same verdict on every rank (the same gathered ranges), reported by all of them.
    const std::string coverage = coverage_problem(all, signatures);
    matrix.reset();
    const bool closed = file && H5Fclose(file.release()) >= 0;
    if (!closed && !problem) problem = "HDF5 cannot close it (" + hdf5_error_detail() + ")";
    const bool any_failed = engine::allreduce_any(ctx, problem.has_value());
    std::string message;
    if (problem)
      message = *problem;
    else if (any_failed)
      message = "another rank failed (see that rank's error)";
    else if (!coverage.empty())
      message = coverage + "; the writes of all ranks together must write every signature once";
    if (message.empty() && ctx.is_root()) {  // everyone finished: the file becomes `path`
      std::error_code ec;
      if (const int error = sync_file(temporary)) {
        message = std::string(std::strerror(error)) + " while syncing it to disk";
      } else {
        fs::rename(temporary, path, ec);
        if (ec) message = ec.message() + " while renaming '" + temporary.string() + "' to it";
      }
    }
    if (engine::allreduce_any(ctx, !message.empty()) && message.empty())
      message = "rank 0 could not put the file in place (see its error)";
    if (message.empty()) return std::nullopt;
    if (ctx.is_root()) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
    }
    return cannot_write(path) + ": " + message;
  }
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

  auto impl = std::make_unique<Impl>(ctx);
  impl->path = path;
  impl->ctx = ctx;
  impl->genes = std::int64_t(rows.size());
  impl->signatures = std::int64_t(cols.size());
  std::string temporary;
  const std::string creating = cannot_write(path) + ": creating it";
  engine::run_agreeing(ctx, creating.c_str(), [&] {
    if (!ctx.is_root()) return;
    std::error_code ec;
    TESSERA_CHECK(!path.filename().empty() && path.filename() != "." && path.filename() != "..", cannot_write(path),
                  ": the name ends in a folder; give the name of a file");
    TESSERA_CHECK(!fs::is_directory(path, ec), cannot_write(path),
                  ": a folder has that name; give the name of a file, or move the folder away");
    if (!path.parent_path().empty()) make_output_folder(path.parent_path());
    remove_stale_temporaries(path);
    temporary = temporary_path(path).string();
    try {
      create_file(path, temporary, rows, cols, data_type, options);
    } catch (...) {
      fs::remove(temporary, ec);
      throw;
    }
  });
  engine::broadcast(ctx, temporary);
  impl->temporary = temporary;

  PropertyList access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_mpio(access.get(), ctx.comm(), MPI_INFO_NULL);
  impl->file = File(H5Fopen(temporary.c_str(), H5F_ACC_RDWR, access.get()));
  if (impl->file) impl->matrix = Dataset(H5Dopen2(impl->file.get(), kMatrixPath, H5P_DEFAULT));
  if (!impl->matrix)
    impl->failure = detail::concat("HDF5 cannot open '", temporary, "' through MPI-IO (", hdf5_error_detail(),
                                   "); check that the folder is on a file system every rank can write");
  // MPI_File_open fails on all ranks or none; a rank that opened the file still closes it (collectively) in
  // finish(), which also removes the temporary.
  if (engine::allreduce_any(ctx, !impl->matrix)) TESSERA_FAIL(impl->finish(false).value());
  impl_ = std::move(impl);
}

GctxSlabWriter::~GctxSlabWriter() {
  if (impl_ && !impl_->finished) impl_->finish(true);  // the others learn of it; the error is this rank's own
}

const fs::path& GctxSlabWriter::path() const { return impl_->path; }
std::int64_t GctxSlabWriter::num_genes() const { return impl_->genes; }
std::int64_t GctxSlabWriter::num_signatures() const { return impl_->signatures; }

template <typename Scalar>
void GctxSlabWriter::write(std::int64_t begin, const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& slab) {
  Impl& w = *impl_;
  TESSERA_CHECK(!w.finished, cannot_write(w.path), ": write() after close(); write every slab before closing");
  const std::int64_t count = slab.cols();
  TESSERA_CHECK(slab.rows() == w.genes, cannot_write(w.path), ": a slab has ", slab.rows(), " genes but the file has ",
                w.genes, "; give genes x signatures slabs with every gene");
  TESSERA_CHECK(0 <= begin && begin + count <= w.signatures, cannot_write(w.path), ": signatures [", begin, ", ",
                begin + count, ") are outside [0, ", w.signatures, "); write within the matrix");
  if (count == 0) return;
  SilenceHdf5Errors silence;
  // Genes x signatures column-major is the stored signatures x genes row-major; the memory space has the
  // selection's 2-D shape so that HDF5 maps whole chunks (see read_block in io/gctx.cpp).
  const hsize_t counts[2] = {hsize_t(count), hsize_t(w.genes)};
  const hsize_t start[2] = {hsize_t(begin), 0};
  const Dataspace file_space(H5Dget_space(w.matrix.get()));
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr);
  const Dataspace memory_space(H5Screate_simple(2, counts, nullptr));
  const PropertyList transfer(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_INDEPENDENT);
  const hid_t memory_type = std::is_same_v<Scalar, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  if (H5Dwrite(w.matrix.get(), memory_type, memory_space.get(), file_space.get(), transfer.get(), slab.data()) < 0) {
    w.failure = detail::concat(kMatrixPath, ": cannot write signatures [", begin, ", ", begin + count, ") (",
                               hdf5_error_detail(), "); check the free space of that file system");
    TESSERA_FAIL(cannot_write(w.path), ", ", *w.failure);
  }
  w.written.push_back(begin);
  w.written.push_back(begin + count);
}

void GctxSlabWriter::close() {
  TESSERA_CHECK(!impl_->finished, cannot_write(impl_->path), ": close() called twice");
  if (const auto error = impl_->finish(false)) TESSERA_FAIL(*error);
}

template void GctxSlabWriter::write<float>(std::int64_t, const Eigen::MatrixXf&);
template void GctxSlabWriter::write<double>(std::int64_t, const Eigen::MatrixXd&);

}  // namespace tessera::io
