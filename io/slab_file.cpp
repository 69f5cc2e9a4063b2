#include "io/slab_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "io/atomic_file.h"

namespace tessera::io {

namespace {

using namespace hdf5;
namespace fs = std::filesystem;

// Reserves the disk blocks the file will grow into (see the header). HDF5 truncates the file to its real end when
// it closes it.
void reserve_space(const std::string& cannot_write, const fs::path& temporary, std::uint64_t bytes) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) TESSERA_FAIL(cannot_write, ": cannot open '", temporary.string(), "': ", std::strerror(errno));
  const int error = ::posix_fallocate(fd, 0, off_t(bytes));
  ::close(fd);
  if (error != 0)
    TESSERA_FAIL(cannot_write, ": cannot reserve its ", double(bytes) / 1e9, " GB on disk (", std::strerror(error),
                 "); free space on that file system (or raise the quota), or write to another folder");
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
std::string coverage_problem(const std::vector<std::int64_t>& flat, std::int64_t n, const SlabNames& names) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    if (flat[i] < flat[i + 1]) ranges.emplace_back(flat[i], flat[i + 1]);
  std::sort(ranges.begin(), ranges.end());
  std::int64_t next = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin > next)
      return detail::concat(names.rows, " [", next, ", ", begin, ")", names.rows_of, " were never written");
    if (begin < next)
      return detail::concat(names.rows, " [", begin, ", ", std::min(next, end), ")", names.rows_of,
                            " were written more than once");
    next = end;
  }
  if (next < n) return detail::concat(names.rows, " [", next, ", ", n, ")", names.rows_of, " were never written");
  return {};
}

}  // namespace

SlabFile::SlabFile(const fs::path& path, const engine::Context& ctx, SlabNames names, std::int64_t rows,
                   std::int64_t columns, const Create& create)
    : path_(path), ctx_(ctx), names_(std::move(names)), rows_(rows), columns_(columns) {
  SilenceHdf5Errors silence;
  const std::string& cannot_write = names_.cannot_write;
  std::string temporary;
  const std::string creating = cannot_write + ": creating it";
  engine::run_agreeing(ctx, creating.c_str(), [&] {
    if (!ctx.is_root()) return;
    std::error_code ec;
    TESSERA_CHECK(!path.filename().empty() && path.filename() != "." && path.filename() != "..", cannot_write,
                  ": the name ends in a folder; give the name of a file");
    TESSERA_CHECK(!fs::is_directory(path, ec), cannot_write,
                  ": a folder has that name; give the name of a file, or move the folder away");
    if (!path.parent_path().empty()) make_output_folder(path.parent_path());
    remove_stale_temporaries(path);
    temporary = temporary_path(path).string();
    try {
      reserve_space(cannot_write, temporary, create(temporary));
    } catch (...) {
      fs::remove(temporary, ec);
      throw;
    }
  });
  engine::broadcast(ctx, temporary);
  temporary_ = temporary;

  PropertyList access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_mpio(access.get(), ctx.comm(), MPI_INFO_NULL);
  file_ = File(H5Fopen(temporary.c_str(), H5F_ACC_RDWR, access.get()));
  if (file_) dataset_ = Dataset(H5Dopen2(file_.get(), names_.dataset, H5P_DEFAULT));
  if (!dataset_)
    failure_ = detail::concat("HDF5 cannot open '", temporary, "' through MPI-IO (", hdf5_error_detail(),
                              "); check that the folder is on a file system every rank can write");
  // MPI_File_open fails on all ranks or none; a rank that opened the file still closes it (collectively) in
  // finish(), which also removes the temporary.
  if (engine::allreduce_any(ctx, !dataset_)) TESSERA_FAIL(finish(false).value());
}

SlabFile::~SlabFile() {
  if (!finished_) finish(true);  // the others learn of it; the error is this rank's own
}

template <typename Scalar>
void SlabFile::write(std::int64_t begin, std::int64_t count, const Scalar* values) {
  if (count == 0) return;
  SilenceHdf5Errors silence;
  // The memory space has the selection's 2-D shape so that HDF5 maps whole chunks (see read_block in io/gctx.cpp).
  const hsize_t counts[2] = {hsize_t(count), hsize_t(columns_)};
  const hsize_t start[2] = {hsize_t(begin), 0};
  const Dataspace file_space(H5Dget_space(dataset_.get()));
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr);
  const Dataspace memory_space(H5Screate_simple(2, counts, nullptr));
  const PropertyList transfer(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_INDEPENDENT);
  const hid_t memory_type = std::is_same_v<Scalar, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  if (H5Dwrite(dataset_.get(), memory_type, memory_space.get(), file_space.get(), transfer.get(), values) < 0) {
    failure_ = detail::concat(names_.dataset, ": cannot write ", names_.rows, " [", begin, ", ", begin + count, ") (",
                              hdf5_error_detail(), "); check the free space of that file system");
    TESSERA_FAIL(names_.cannot_write, ", ", *failure_);
  }
  written_.push_back(begin);
  written_.push_back(begin + count);
}

void SlabFile::close() {
  TESSERA_CHECK(!finished_, names_.cannot_write, ": close() called twice");
  if (const auto error = finish(false)) TESSERA_FAIL(*error);
}

// Collective: the end of the file, by close() (failed = false) or by the destructor of a rank that did not reach
// close() (failed = true). Every rank makes the same collective calls in the same order whatever happened: the
// allgather of the ranges, the collective HDF5 close, one allreduce on the outcome, and one on the rename. Returns
// the error this rank reports, or nothing when the file is in place.
std::optional<std::string> SlabFile::finish(bool failed) {
  finished_ = true;
  SilenceHdf5Errors silence;
  const std::vector<std::int64_t> all = engine::allgatherv(ctx_, std::span<const std::int64_t>(written_));
  std::optional<std::string> problem = failure_;
  if (failed && !problem) problem = "this rank stopped before close()";
  // The same verdict on every rank (the same gathered ranges), reported by all of them.
  const std::string coverage = coverage_problem(all, rows_, names_);
  dataset_.reset();
  const bool closed = file_ && H5Fclose(file_.release()) >= 0;
  if (!closed && !problem) problem = "HDF5 cannot close it (" + hdf5_error_detail() + ")";
  const bool any_failed = engine::allreduce_any(ctx_, problem.has_value());
  std::string message;
  if (problem)
    message = *problem;
  else if (any_failed)
    message = "another rank failed (see that rank's error)";
  else if (!coverage.empty())
    message = coverage + "; the writes of all ranks together must write every " + names_.row + " once";
  if (message.empty() && ctx_.is_root()) {  // everyone finished: the file becomes `path`
    std::error_code ec;
    if (const int error = sync_file(temporary_)) {
      message = std::string(std::strerror(error)) + " while syncing it to disk";
    } else {
      fs::rename(temporary_, path_, ec);
      if (ec) message = ec.message() + " while renaming '" + temporary_.string() + "' to it";
    }
  }
  if (engine::allreduce_any(ctx_, !message.empty()) && message.empty())
    message = "rank 0 could not put the file in place (see its error)";
  if (message.empty()) return std::nullopt;
  if (ctx_.is_root()) {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
  }
  return names_.cannot_write + ": " + message;
}

template void SlabFile::write<float>(std::int64_t, std::int64_t, const float*);
template void SlabFile::write<double>(std::int64_t, std::int64_t, const double*);

}  // namespace tessera::io
