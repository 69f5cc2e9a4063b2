// Single-cell expression into one mean profile per group of cells: the pseudobulk that turns a Perturb-seq or
// sci-Plex screen (cells) into the (context x perturbation) table the imputation methods work on.
//
// Each cell may first be scaled to a total count (normalize_total: value x target / the cell's sum over ALL its
// genes, as scanpy.pp.normalize_total; a cell with no counts stays zero) and then log(1 + x) (log1p), as scanpy
// does; duplicate stored entries of a gene are summed before either (as scipy's toarray does). A group's profile
// is the plain mean of its cells' transformed values.
//
// Distributed: each rank reads its engine::block_range of cells through io::H5adCells::for_each_cell (a CSR X: its
// range of indptr, data and indices in bounded batches), adds each cell into its group's sums (double), and one
// allreduce combines the sums, so a file of any size costs each rank its batch plus genes x groups doubles, and
// never a dense cells x genes matrix. Results agree across rank counts to rounding (~1e-15 relative).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "io/h5ad.h"

namespace tessera::io {

struct PseudobulkOptions {
  double normalize_total = 0;  // > 0: each cell scaled to this total first; 0: values as stored
  bool log1p = false;          // log(1 + x) of each (scaled) value
};

struct Pseudobulk {
  Eigen::MatrixXd means;            // genes.size() x num_groups, on every rank (a group without cells: zero)
  std::vector<std::int64_t> cells;  // per group: the cells averaged
};

// Collective over ctx. group_of_cell (one per cell of the file, the same on every rank): the cell's group in
// [0, num_groups), or -1 to leave it out. genes: the var rows kept, in output order (distinct). Errors from the
// file (a negative value with log1p, damaged data) name the file and fail every rank together.
Pseudobulk pseudobulk(const engine::Context& ctx, const H5adCells& file, const std::vector<std::int64_t>& group_of_cell,
                      std::int64_t num_groups, const std::vector<std::int64_t>& genes,
                      const PseudobulkOptions& options);

}  // namespace tessera::io
