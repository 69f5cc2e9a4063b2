// A GCTX writer for matrices too large for one rank's memory: every rank writes its own column slabs (genes x
// signatures) straight into one file through the MPI-IO driver of parallel HDF5, as many slabs as it likes, so a
// rank holds one slab at a time, never the matrix.
//
// The file has write_gctx's layout byte for byte where it matters (io/gctx_layout.h): /0/DATA/0/matrix stored
// (num_signatures x num_genes) row-major, in the same chunk shape, /0/META/ROW and /0/META/COL with the same types,
// the version attribute; io::GctxReader and cmapPy read it as they read write_gctx's files. Compression is not
// offered: HDF5 compresses in parallel only through collective writes, which the slab writers avoid.
//
// How the ranks share the file, why transfers are independent, and how close() makes it atomic and safe against a
// failing rank is the slab-writer protocol of io/slab_file.h (read it): here the dataset is the matrix, its rows
// the signatures, and rank 0 writes the version and the metadata with their values.
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

  // Collective (io/slab_file.h). Throws an Error naming the path on every rank when any rank failed, when the writes
  // did not cover every signature exactly once, or when closing or renaming failed.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::io
