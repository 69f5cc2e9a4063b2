// AnnData (.h5ad) reading: single-cell files (scPerturb, GEARS, CPA, pertpy) into the same LocalGctx a GCTX file
// gives, so that io/aggregate.h pseudobulks cells exactly as it aggregates signatures.
//
// Mapping: rows = genes = AnnData `var` (ids = var's index, fields = var's columns); cols = ALL cells = `obs`
// (ids = obs's index, fields = obs's columns, in `column-order`); values = genes x this rank's
// engine::block_range of cells, converted to Scalar.
//
// The on-disk layout read (anndata >= 0.8; every element carries `encoding-type` / `encoding-version`):
// - X: a 2-D dataset (encoding-type `array`: float32/64 or integers), or a group `csr_matrix` / `csc_matrix`
//   with `data`, `indices`, `indptr` (int32 or int64) and a `shape` attribute. Duplicate entries of a row are
//   summed (as scipy's toarray does).
//   * dense and CSR: each rank reads only its cells: its rows of the dataset, or its range of `indptr` and the
//     matching range of `data` / `indices`, in pieces of at most 2^20 nonzeros, so the memory a rank uses is
//     its dense block plus at most 16 MiB, whatever the file's size (measured: 100,000 cells x 2,000 genes at
//     10% nonzero, 169 MB: peak RSS 822 MiB for a 763 MiB block on 1 rank, 440 MiB for 381 MiB on each of 2).
//   * CSC (one column per gene): a cell's values are spread over the whole file, so every rank scans all of
//     `indices` and `data` in pieces of 2^20 nonzeros and keeps the entries of its cells: each rank reads the
//     whole matrix once (I/O grows with the rank count), memory stays bounded as for CSR. Convert big files to
//     CSR for parallel reading (adata.X = adata.X.tocsr()).
// - obs / var: groups with encoding-type `dataframe`, attributes `_index` (the index dataset's name) and
//   `column-order`. Columns: `string-array` (text), `array` (integers -> kInt32/kInt64, floats ->
//   kFloat32/kFloat64, booleans -> text "True"/"False"), `categorical` (codes int8..int64 with -1 = missing,
//   plus categories; stored as the category's text, a missing code as "" (MetaColumn's missing text); numeric
//   categories as their text; the `ordered` attribute is not kept), `nullable-integer` / `nullable-boolean`
//   (values + mask; masked = NaN / ""). The anndata 0.7 layout (categories in `__categories`, columns without
//   encoding-type) is not read: the error says how to re-save the file with a newer anndata.
//
// Errors (tessera::Error naming the file and the dataset, with the fix): missing or unknown encoding-type,
// `indptr` not starting at 0, decreasing, or not ending at the number of stored values, indices out of range,
// X's shape different from obs/var lengths, duplicate obs or var ids, a value of X that is not finite (NaN or
// infinite, or too large for Scalar). All ranks fail together (engine::run_agreeing): a rank that found the
// problem in its own cells throws its message, the others say that reading failed on another rank.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>

#include "engine/context.h"
#include "engine/partition.h"
#include "io/gctx.h"

namespace tessera::io {

// An .h5ad file opened for reading its cells a range at a time, so that a file larger than memory is never held
// whole (io/pseudobulk.h sums cells as it reads them).
class H5adCells {
 public:
  // Collective over ctx: opens the file, reads obs and var on every rank and checks X's encoding and shape (the
  // errors above, on every rank together). The destructor closes the file, collectively.
  H5adCells(const std::filesystem::path& path, const engine::Context& ctx);
  ~H5adCells();
  H5adCells(const H5adCells&) = delete;
  H5adCells& operator=(const H5adCells&) = delete;

  const std::filesystem::path& path() const;
  const MetaTable& obs() const;  // ids = obs index, fields = obs columns
  const MetaTable& var() const;  // ids = var index, fields = var columns
  std::int64_t num_cells() const;
  std::int64_t num_genes() const;

  // Local: genes x cells.size() values of these cells (the layouts' costs as for read_h5ad_local). Errors are
  // this rank's alone: wrap calls in engine::run_agreeing.
  template <typename Scalar>
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> read(engine::BlockRange cells) const;

  // Local: calls visit(cell, genes, values) for each cell of `cells` in order, with the cell's stored entries as
  // double (exact for every stored type). CSR: its stored genes (as stored: unsorted or repeated genes are
  // possible) and values, read in batches of whole cells of at most 1 Mi values (16 MiB with their indices).
  // Dense X (batches of 2 Mi values) and CSC (one block: each read scans the whole matrix): every gene. The spans
  // are valid during the call only. Errors as read().
  using CellVisitor =
      std::function<void(std::int64_t cell, std::span<const std::int64_t> genes, std::span<const double> values)>;
  void for_each_cell(engine::BlockRange cells, const CellVisitor& visit) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for an AnnData file name (.h5ad): how every command tells an AnnData input or output from a GCTX.
inline bool is_h5ad_path(const std::filesystem::path& path) { return path.extension() == ".h5ad"; }

// Collective over ctx: every rank reads all of obs and var and its own block of cells of X.
template <typename Scalar = float>
LocalGctx<Scalar> read_h5ad_local(const std::filesystem::path& path, const engine::Context& ctx);

}  // namespace tessera::io
