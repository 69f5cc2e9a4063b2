// A GCTX writer for matrices too large for one rank's memory: every rank writes its own column slabs (genes x
// signatures) straight into one file through the MPI-IO driver of parallel HDF5, as many slabs as it likes, so a
// rank holds one slab at a time, never the matrix.
//
// The file has write_gctx's layout byte for byte where it matters (io/gctx_layout.h): /0/DATA/0/matrix stored
// (num_signatures x num_genes) row-major, in the same chunk shape, /0/META/ROW and /0/META/COL with the same types,
// the version attribute; io::GctxReader and cmapPy read it as they read write_gctx's files. Compression is not
// offered: HDF5 compresses in parallel only through collective writes, which this writer avoids (below).
//
// Transfers are independent, not collective: write() is local, and the ranks may make different numbers of calls
// (a rank with no columns makes none) without any risk of a rank waiting in a collective that another rank never
// enters. Collective MPI-IO would mostly merge small scattered pieces into large writes; here every call writes
// whole stored rows (contiguous chunks of the file, megabytes per call at LINCS sizes), so there is little to
// merge, and a fixed number of collective rounds would force every rank to know every other rank's slab plan. The
// dataset's chunks are allocated when it is created (parallel HDF5's rule) and HDF5 bypasses its chunk cache for
// MPI-IO writes, so two ranks writing different columns of one chunk do not overwrite each other.
//
// Rank 0 creates the file alone (serial HDF5): the version, the metadata (with its values) and the matrix dataset
// with all its chunks allocated and no fill. Only then do all ranks open it through MPI-IO, where nothing but raw
// matrix data is written. So parallel HDF5 never modifies metadata, and a rank failing half-way through the
// metadata (a full disk) cannot leave the ranks' sequences of collective HDF5 calls out of step.
//
// Atomic like every Tessera output (io/atomic_file.h): the file is written as "<path>.tmp-<host>-<pid of rank 0>"
// in the same folder; close() checks that the writes tiled [0, num_signatures) exactly once, closes the file on
// every rank, agrees through one allreduce that every rank succeeded, and only then rank 0 fsyncs and renames it.
// A rank that fails before close() (an exception unwinding past the writer, a full disk) takes part in that same
// agreement from the destructor, so the other ranks' close() does not hang: they throw an Error naming the path,
// the temporary is removed, and nothing appears under the final name.
//
// Memory per rank: the metadata tables (every rank passes them; rank 0 writes them) plus the caller's slab; HDF5 adds
// at most its 1 MiB type-conversion buffer when a double slab goes to a float file.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine/context.h"
#include "io/gctx.h"
#include "io/meta_table.h"

namespace tessera::io {

class GctxSlabWriter {
 public:
  // Collective over ctx: checks the tables (as write_gctx does), creates the temporary file, the matrix
  // (rows.size() genes x cols.size() signatures, stored in data_type: kFloat32 or kFloat64) and the metadata on
  // rank 0, then opens the file on every rank. Every rank passes the same path, tables, type and options. An Error on
  // every rank naming `path` when any of it fails; then no file is left behind.
  GctxSlabWriter(const std::filesystem::path& path, const engine::Context& ctx, const MetaTable& rows,
                 const MetaTable& cols, MetaType data_type = MetaType::kFloat32, const GctxWriteOptions& options = {});
  // Collective when close() was not called (a rank unwinding from an error): takes part in close() as a failed
  // rank, so the others fail instead of waiting, and the temporary is removed.
  ~GctxSlabWriter();
  GctxSlabWriter(const GctxSlabWriter&) = delete;
  GctxSlabWriter& operator=(const GctxSlabWriter&) = delete;

  const std::filesystem::path& path() const;
  std::int64_t num_genes() const;
  std::int64_t num_signatures() const;

  // Local (independent transfer): signatures [begin, begin + slab.cols()), slab = genes x signatures. Any number
  // of calls per rank; the calls of all ranks together must write every signature once. An Error naming the path
  // for a range outside the matrix, a slab with the wrong number of genes, or a failed write (a full disk).
  template <typename Scalar>
  void write(std::int64_t begin, const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& slab);

  // Collective: see above. Throws an Error naming the path on every rank when any rank failed, when the writes did
  // not cover every signature exactly once, or when closing or renaming failed.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::io
