// Dense distributed linear algebra through ScaLAPACK (Debian libscalapack-openmpi, BLACS included), and the
// matching one-rank LAPACK calls (OpenBLAS), so that callers use one vocabulary for both.
//
// Layout: ScaLAPACK's 2-D block-cyclic distribution. A global m x n matrix is cut into mb x nb blocks; block
// (I, J) lives on grid process (I mod nprow, J mod npcol), the source process being (0, 0). Each process keeps
// its blocks in one column-major Eigen matrix, local(), of numroc(m) x numroc(n) entries, leading dimension
// max(1, local rows). Global row g is local row (g / (mb nprow)) mb + g mod mb on process row (g / mb) mod nprow.
//
// The grid comes from a Context: its ranks in row-major order, nprow x npcol with nprow <= npcol and as square
// as the rank count allows (1 x 2 for 2 ranks, 1 x 3 for 3, 2 x 2 for 4). Every BlockCyclicMatrix refers to
// the grid it was made on, which must outlive it.
#pragma once

#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <utility>

#include "engine/context.h"
#include "engine/sharded_matrix.h"

namespace tessera::engine {

// The number of rows (or columns) of an n-long dimension cut into nb-blocks that process `iproc` of `nprocs`
// holds, the first block being on process 0 (ScaLAPACK's NUMROC). Local.
std::int64_t numroc(std::int64_t n, std::int64_t nb, int iproc, int nprocs);

// The grid shape BlacsGrid uses for `ranks` ranks: {rows, cols}, rows <= cols, rows the largest divisor of
// ranks not above its square root. Local.
std::pair<int, int> blacs_grid_shape(int ranks);

class BlacsGrid {
 public:
  // Collective over ctx: builds the BLACS process grid. Every rank of ctx is in it.
  explicit BlacsGrid(const Context& ctx);
  ~BlacsGrid();
  BlacsGrid(const BlacsGrid&) = delete;
  BlacsGrid& operator=(const BlacsGrid&) = delete;

  int blacs_context() const { return context_; }
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int my_row() const { return my_row_; }
  int my_col() const { return my_col_; }
  // The Context rank of grid process (row, col).
  int rank_of(int row, int col) const;
  const Context& ctx() const { return ctx_; }

 private:
  Context ctx_;
  int system_handle_ = -1;
  int context_ = -1;
  int rows_ = 1, cols_ = 1, my_row_ = 0, my_col_ = 0;
};

class BlockCyclicMatrix {
 public:
  // Local: allocates this process's blocks of a global rows x cols matrix and its descriptor. zero_fill = false
  // leaves the values unset, and pages never written never become resident (a Cholesky factor's upper triangle).
  BlockCyclicMatrix(const BlacsGrid& grid, std::int64_t rows, std::int64_t cols, std::int64_t row_block,
                    std::int64_t col_block, bool zero_fill = true);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t row_block() const { return mb_; }
  std::int64_t col_block() const { return nb_; }
  const BlacsGrid& grid() const { return *grid_; }
  Eigen::MatrixXd& local() { return local_; }
  const Eigen::MatrixXd& local() const { return local_; }
  // ScaLAPACK's array descriptor (DESCINIT).
  const int* descriptor() const { return descriptor_.data(); }

  // Index maps. Local: global index of a local row / column of this process.
  std::int64_t global_row(std::int64_t local_row) const;
  std::int64_t global_col(std::int64_t local_col) const;
  // Grid row / column that owns a global row / column, and its local index there.
  int row_owner(std::int64_t global_row) const { return int((global_row / mb_) % grid_->rows()); }
  int col_owner(std::int64_t global_col) const { return int((global_col / nb_) % grid_->cols()); }
  std::int64_t local_row(std::int64_t global_row) const;
  std::int64_t local_col(std::int64_t global_col) const;

 private:
  const BlacsGrid* grid_;
  std::int64_t rows_, cols_, mb_, nb_;
  std::array<int, 9> descriptor_{};
  Eigen::MatrixXd local_;
};

// Collective over the grid's ranks: the same global matrix, moved from contiguous row blocks (RowShardedMatrix,
// engine/partition.h) into block-cyclic layout and back (one MPI_Alltoallv each way). The RowShardedMatrix
// must have been made on the grid's Context.
BlockCyclicMatrix to_block_cyclic(const BlacsGrid& grid, const RowShardedMatrix& a, std::int64_t row_block,
                                  std::int64_t col_block);
RowShardedMatrix to_row_sharded(const BlockCyclicMatrix& a);

// Collective: Cholesky factorisation A = L L^T in place (PDPOTRF, lower triangle; the strict upper triangle is
// neither read nor written). Returns 0, or k > 0 when the leading k x k minor is not positive definite (the
// same value on every rank). Throws tessera::Error for an illegal argument.
int cholesky_factor(BlockCyclicMatrix& a);
// Collective: B <- A^-1 B with the factor of cholesky_factor (PDPOTRS). Same block sizes in both.
void cholesky_solve(const BlockCyclicMatrix& factor, BlockCyclicMatrix& b);

// One-rank LAPACK (DPOTRF / DPOTRS, lower triangle), local. Same return convention.
int lapack_cholesky_factor(Eigen::MatrixXd& a);
void lapack_cholesky_solve(const Eigen::MatrixXd& factor, Eigen::MatrixXd& b);

}  // namespace tessera::engine
