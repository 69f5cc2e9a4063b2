// The protocol shared by io/'s parallel slab writers (GctxSlabWriter in io/gctx_writer.h, H5adSlabWriter in
// io/h5ad_writer.h): one HDF5 file whose 2-D dataset (rows x columns, stored row-major, chunked) every rank fills
// with its own blocks of whole rows, straight through the MPI-IO driver of parallel HDF5, so that a rank holds one
// block at a time, never the matrix. Private to io/: the writers own their layouts and metadata, this unit the rest.
//
// Rank 0 creates the file alone (serial HDF5): the writer's create() builds everything but the dataset's values in
// memory and writes it to the temporary name, and the disk blocks the file will grow into are reserved
// (posix_fallocate), so that a disk too small fails there with a clear message naming the space needed, not later
// inside parallel HDF5 (which cannot recover from a failed metadata write: its cleanup at exit crashes, see
// io/hdf5_memory_file.h). Only then do all ranks open it through MPI-IO, where nothing but raw values is written.
// So parallel HDF5 never modifies metadata, and a rank failing half-way through the metadata cannot leave the
// ranks' sequences of collective HDF5 calls out of step. The dataset's chunks are allocated when the ranks open the
// file (parallel HDF5 allocates a dataset's whole storage on open for writing, since independent writes cannot
// allocate) and never filled (every value is written later); HDF5 bypasses its chunk cache for MPI-IO writes, so two
// ranks writing different rows of one chunk do not overwrite each other.
//
// Transfers are independent, not collective: write() is local, and the ranks may make different numbers of calls
// (a rank with no rows makes none) without any risk of a rank waiting in a collective that another rank never
// enters. Collective MPI-IO would mostly merge small scattered pieces into large writes; here every call writes
// whole stored rows (contiguous chunks of the file, megabytes per call at LINCS sizes), so there is little to
// merge, and a fixed number of collective rounds would force every rank to know every other rank's block plan.
//
// Atomic like every Tessera output (io/atomic_file.h): the file is written as "<path>.tmp-<host>-<pid of rank 0>"
// in the same folder; close() checks that the writes of all ranks tiled [0, rows) exactly once, closes the file on
// every rank, agrees through one allreduce that every rank succeeded, and only then rank 0 fsyncs and renames it.
// A rank that fails before close() (an exception unwinding past the writer, a full disk) takes part in that same
// agreement from the destructor, so the other ranks' close() does not hang: they throw an Error naming the path,
// the temporary is removed, and nothing appears under the final name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "io/hdf5_handles.h"

namespace tessera::io {

// How a writer's messages name its file and its dataset's rows.
struct SlabNames {
  std::string cannot_write;  // the start of every message: "cannot write GCTX file '<path>'"
  const char* dataset;       // the HDF5 path of the dataset the ranks fill: "/X"
  const char* rows;          // a range of rows is "<rows> [a, b)<rows_of>": "signatures", "rows"
  const char* rows_of;       // "", " of X"
  const char* row;           // one row: "signature", "row"
};

class SlabFile {
 public:
  // Rank 0 only: writes the file, all but the dataset's values, to `temporary` and returns the bytes to reserve on
  // disk for the whole file (its image plus the dataset's values and chunk index). Throws an Error on failure.
  using Create = std::function<std::uint64_t(const std::filesystem::path& temporary)>;

  // Collective over ctx: rank 0 checks the name, makes the folder, removes stale temporaries of `path`, runs
  // create() and reserves the space; then every rank opens the temporary through MPI-IO and the dataset, which has
  // `rows` x `columns` values. An Error on every rank naming the path when any of it fails; then no file is left.
  SlabFile(const std::filesystem::path& path, const engine::Context& ctx, SlabNames names, std::int64_t rows,
           std::int64_t columns, const Create& create);
  // Collective when close() was not called: takes part in it as a failed rank (see above).
  ~SlabFile();
  SlabFile(const SlabFile&) = delete;
  SlabFile& operator=(const SlabFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::string& cannot_write() const { return names_.cannot_write; }
  bool finished() const { return finished_; }

  // Local (independent transfer): rows [begin, begin + count), `values` row-major with `columns` values per row
  // (the caller checked the range and the shape). An Error naming the path when HDF5 cannot write them.
  template <typename Scalar>
  void write(std::int64_t begin, std::int64_t count, const Scalar* values);

  // Collective: the agreement above. Throws an Error naming the path on every rank when any rank failed, when the
  // writes did not cover every row exactly once, or when closing, syncing or renaming failed.
  void close();

 private:
  std::optional<std::string> finish(bool failed);

  std::filesystem::path path_;
  std::filesystem::path temporary_;
  engine::Context ctx_;
  SlabNames names_;
  std::int64_t rows_ = 0;
  std::int64_t columns_ = 0;
  hdf5::File file_;
  hdf5::Dataset dataset_;               // declared after `file_`, so closed before it
  std::vector<std::int64_t> written_;   // begin, end of each write of this rank
  std::optional<std::string> failure_;  // why a write of this rank failed
  bool finished_ = false;
};

}  // namespace tessera::io
