// AnnData (.h5ad) writing. H5adSlabWriter: a file whose rows are written by every rank in parallel: obs are table
// entries (one row per (cell type, perturbation) pair, ids "<cell>:<perturbation>"), var are genes, X is dense float32
// (obs x var). python3-anndata (0.8) opens the file unchanged: the on-disk format 0.1.0/0.2.0 with the `encoding-type`
// and `encoding-version` attributes anndata writes on every element.
//
// Layout (what anndata.write_h5ad writes for the same AnnData, except X's chunking):
//   /            encoding-type "anndata", encoding-version "0.1.0"
//   /X           float32 (n_obs x n_var), row-major, chunked by whole rows ("array", "0.2.0")
//   /obs, /var   "dataframe" "0.2.0", _index = "_index", column-order = the caller's field order (an empty float64
//                array when there is none, as h5py stores an empty list); ids in _index ("string-array")
//                obs text fields: "categorical" groups (codes int8/int16/int32 as pandas sizes them, categories
//                sorted as pandas sorts them, ordered = False); var text fields: "string-array"; numbers in their
//                own type (int32, int64, float32, float64; integers must not be missing)
//   /uns, /obsm, /varm, /layers, /obsp, /varp   empty "dict" groups
// Strings are variable-length UTF-8, as h5py stores Python str. Object modification times are not stored, so the
// bytes of a file depend only on its content, never on when or by how many ranks it was written.
//
// How the ranks share the file, why transfers are independent, and how close() makes it atomic and safe against a
// failing rank is the slab-writer protocol of io/slab_file.h (read it), as for GctxSlabWriter: here the dataset is
// X, its rows the obs rows, and rank 0 writes every other element above.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine/context.h"
#include "io/meta_table.h"

namespace tessera::io {

struct H5adWriteOptions {
  // Largest chunk of X in KiB: a chunk is as many whole rows as fit (at least one row).
  std::int64_t max_chunk_kb = 1024;
};

class H5adSlabWriter {
 public:
  // Collective over ctx: checks the tables, creates the temporary file with X (obs.size() x var.size()) and all
  // metadata on rank 0, then opens it on every rank. Every rank passes the same path, tables and options. An Error
  // on every rank naming `path` when any of it fails; then no file is left behind.
  H5adSlabWriter(const std::filesystem::path& path, const engine::Context& ctx, const MetaTable& obs,
                 const MetaTable& var, const H5adWriteOptions& options = {});
  // Collective when close() was not called (a rank unwinding from an error): takes part in close() as a failed
  // rank, so the others fail instead of waiting, and the temporary is removed.
  ~H5adSlabWriter();
  H5adSlabWriter(const H5adSlabWriter&) = delete;
  H5adSlabWriter& operator=(const H5adSlabWriter&) = delete;

  const std::filesystem::path& path() const;
  std::int64_t num_obs() const;
  std::int64_t num_vars() const;

  // Local (independent transfer): obs rows [first_row, first_row + values.cols()); values = genes x rows, as
  // GctxSlabWriter's slabs (its column-major bytes are X's row-major rows), stored as float32 (doubles rounded to
  // nearest). An Error naming the path for rows outside X, a wrong number of genes, or a failed write.
  template <typename Scalar>
  void write_rows(std::int64_t first_row, const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& values);

  // Collective: throws an Error naming the path on every rank when any rank failed, when the writes of all ranks
  // did not write every row exactly once, or when closing or renaming failed.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- A whole file with a CSR X, written by one process ---------------------------------------------------------
// Single-cell counts are mostly zeros, so a dense X would be mostly zeros on disk. For files one process builds
// whole, such as the simulator's single-cell screens (solvers/simulation/single_cell_screen.h). Layout: what
// anndata.write_h5ad writes for a scipy.sparse.csr_matrix X (python3-anndata 0.8 opens it unchanged and writes it
// back identically): /X a group "csr_matrix" "0.1.0" with attribute shape = [n_obs, n_var] (int64) and datasets
// without encoding attributes: data float32, indices int32, indptr int32 (int64 once there are 2^31 or more
// stored values: scipy's own choice, so anndata writes back the same types); every other element as above.
// Local: the file is built in memory (io/hdf5_memory_file.h: a full disk is one Error, never a crash inside HDF5)
// and written atomically (io/atomic_file.h): nothing under `path` until it is complete. Memory: the file's bytes
// twice (about 16 bytes per stored value), fine for simulated screens; a distributed writer would follow
// io/slab_file.h with each rank's rows of data/indices.

// A rows x cols CSR matrix in scipy's layout: row r's values are data[indptr[r] .. indptr[r + 1]) at columns
// indices[...], strictly increasing within a row (canonical: no duplicates, sorted).
struct CsrMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int64_t> indptr{0};  // rows + 1 offsets, from 0 to data.size()
  std::vector<std::int32_t> indices;    // column of each stored value
  std::vector<float> data;              // the stored values

  std::int64_t nonzeros() const { return std::int64_t(data.size()); }
};

// Writes obs x var with X = `x` (x.rows == obs.size(), x.cols == var.size()). Throws a tessera::Error naming `path`
// and the element (X/indptr, X/indices, X/data, /obs/<field>, ...) with the fix when the matrix is not canonical
// CSR of that shape, a value is not finite, or the tables cannot be stored (empty, duplicate ids, text that is not
// UTF-8 without NUL, a field of the wrong length, integers out of range); nothing is written then.
void write_h5ad_csr(const std::filesystem::path& path, const MetaTable& obs, const MetaTable& var, const CsrMatrix& x);

}  // namespace tessera::io
