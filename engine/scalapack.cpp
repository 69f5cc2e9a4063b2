#include "engine/scalapack.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>
#include <tuple>
#include <vector>

#include "engine/collectives.h"
#include "engine/error.h"

// BLACS (C interface) and ScaLAPACK / LAPACK (Fortran; character arguments carry a hidden length).
extern "C" {
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int* context, char* order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int* nprow, int* npcol, int* myrow, int* mycol);
void Cblacs_gridexit(int context);
int Cblacs_pnum(int context, int prow, int pcol);

void descinit_(int* desc, const int* m, const int* n, const int* mb, const int* nb, const int* irsrc, const int* icsrc,
               const int* ictxt, const int* lld, int* info);
void pdpotrf_(const char* uplo, const int* n, double* a, const int* ia, const int* ja, const int* desca, int* info,
              std::size_t uplo_len);
void pdpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* ia, const int* ja,
              const int* desca, double* b, const int* ib, const int* jb, const int* descb, int* info,
              std::size_t uplo_len);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t uplo_len);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b,
             const int* ldb, int* info, std::size_t uplo_len);
}

namespace tessera::engine {

namespace {

int as_int(std::int64_t value, const char* what) {
  TESSERA_CHECK(value >= 0 && value <= INT_MAX, what, " = ", value, " exceeds ScaLAPACK's 32-bit index range");
  return int(value);
}

// Counts of one all-to-all exchange (engine::alltoallv), with where each rank's run starts in the send and
// receive buffers.
struct Exchange {
  std::vector<std::int64_t> send_counts, recv_counts, send_offsets, recv_offsets;
  explicit Exchange(int ranks) : send_counts(std::size_t(ranks), 0), recv_counts(std::size_t(ranks), 0) {}
  void finish_counts() {
    send_offsets.assign(send_counts.size() + 1, 0);
    recv_offsets.assign(recv_counts.size() + 1, 0);
    std::partial_sum(send_counts.begin(), send_counts.end(), send_offsets.begin() + 1);
    std::partial_sum(recv_counts.begin(), recv_counts.end(), recv_offsets.begin() + 1);
  }
};

// Local rows [first, last) of `a` whose global rows fall in [begin, end): local rows increase with global rows,
// so they form one range.
std::pair<std::int64_t, std::int64_t> local_rows_within(const BlockCyclicMatrix& a, std::int64_t begin,
                                                        std::int64_t end) {
  const auto& g = a.grid();
  const auto first = numroc(begin, a.row_block(), g.my_row(), g.rows());
  const auto last = numroc(end, a.row_block(), g.my_row(), g.rows());
  return {first, last};
}

}  // namespace

std::int64_t numroc(std::int64_t n, std::int64_t nb, int iproc, int nprocs) {
  const std::int64_t blocks = n / nb;
  std::int64_t count = (blocks / nprocs) * nb;
  const std::int64_t extra = blocks % nprocs;
  if (iproc < extra) {
    count += nb;
  } else if (iproc == extra) {
    count += n % nb;
  }
  return count;
}

std::pair<int, int> blacs_grid_shape(int ranks) {
  TESSERA_CHECK(ranks >= 1, "blacs_grid_shape: ", ranks, " ranks");
  int rows = int(std::sqrt(double(ranks)));
  while (rows * rows > ranks) --rows;
  while (rows > 1 && ranks % rows != 0) --rows;
  rows = std::max(rows, 1);
  return {rows, ranks / rows};
}

BlacsGrid::BlacsGrid(const Context& ctx) : ctx_(ctx) {
  const int size = ctx.size();
  std::tie(rows_, cols_) = blacs_grid_shape(size);
  system_handle_ = Csys2blacs_handle(ctx.comm());
  context_ = system_handle_;
  char order[] = "Row";
  Cblacs_gridinit(&context_, order, rows_, cols_);
  int nprow = 0, npcol = 0;
  Cblacs_gridinfo(context_, &nprow, &npcol, &my_row_, &my_col_);
  TESSERA_CHECK(nprow == rows_ && npcol == cols_ && my_row_ >= 0 && my_col_ >= 0, "BLACS grid ", rows_, " x ", cols_,
                " could not be made on ", size, " ranks (got ", nprow, " x ", npcol, ")");
  TESSERA_CHECK(rank_of(my_row_, my_col_) == ctx.rank(), "BLACS grid: process (", my_row_, ", ", my_col_,
                ") is not rank ", ctx.rank(), " of the communicator");
}

BlacsGrid::~BlacsGrid() {
  if (context_ >= 0) Cblacs_gridexit(context_);
  if (system_handle_ >= 0) Cfree_blacs_system_handle(system_handle_);
}

int BlacsGrid::rank_of(int row, int col) const { return Cblacs_pnum(context_, row, col); }

BlockCyclicMatrix::BlockCyclicMatrix(const BlacsGrid& grid, std::int64_t rows, std::int64_t cols,
                                     std::int64_t row_block, std::int64_t col_block, bool zero_fill)
    : grid_(&grid), rows_(rows), cols_(cols), mb_(row_block), nb_(col_block) {
  TESSERA_CHECK(rows >= 0 && cols >= 0 && row_block >= 1 && col_block >= 1, "BlockCyclicMatrix: bad shape ", rows,
                " x ", cols, " in ", row_block, " x ", col_block, " blocks");
  const auto local_rows = numroc(rows, mb_, grid.my_row(), grid.rows());
  const auto local_cols = numroc(cols, nb_, grid.my_col(), grid.cols());
  local_.resize(local_rows, local_cols);
  if (zero_fill) local_.setZero();
  const int m = as_int(rows, "rows"), n = as_int(cols, "cols"), mb = as_int(mb_, "row block"),
            nb = as_int(nb_, "col block"), zero = 0, context = grid.blacs_context();
  const int lld = as_int(std::max<std::int64_t>(1, local_rows), "local rows");
  int info = 0;
  descinit_(descriptor_.data(), &m, &n, &mb, &nb, &zero, &zero, &context, &lld, &info);
  TESSERA_CHECK(info == 0, "DESCINIT failed (argument ", -info, ") for a ", rows, " x ", cols, " matrix");
}

std::int64_t BlockCyclicMatrix::global_row(std::int64_t local_row) const {
  return ((local_row / mb_) * grid_->rows() + grid_->my_row()) * mb_ + local_row % mb_;
}
std::int64_t BlockCyclicMatrix::global_col(std::int64_t local_col) const {
  return ((local_col / nb_) * grid_->cols() + grid_->my_col()) * nb_ + local_col % nb_;
}
std::int64_t BlockCyclicMatrix::local_row(std::int64_t global_row) const {
  return (global_row / (mb_ * grid_->rows())) * mb_ + global_row % mb_;
}
std::int64_t BlockCyclicMatrix::local_col(std::int64_t global_col) const {
  return (global_col / (nb_ * grid_->cols())) * nb_ + global_col % nb_;
}

BlockCyclicMatrix to_block_cyclic(const BlacsGrid& grid, const RowShardedMatrix& a, std::int64_t row_block,
                                  std::int64_t col_block) {
  const Context& ctx = grid.ctx();
  BlockCyclicMatrix out(grid, a.global_rows(), a.cols(), row_block, col_block);
  const int size = ctx.size();
  const auto mine = a.range();

  // Columns of every grid column, ascending; the order both sides pack and unpack in.
  std::vector<std::vector<std::int64_t>> cols_of(std::size_t(grid.cols()));
  for (std::int64_t j = 0; j < a.cols(); ++j) cols_of[std::size_t(out.col_owner(j))].push_back(j);
  // My rows of every grid row, ascending.
  std::vector<std::vector<std::int64_t>> rows_of(std::size_t(grid.rows()));
  for (auto i = mine.begin; i < mine.end; ++i) rows_of[std::size_t(out.row_owner(i))].push_back(i);

  Exchange x(size);
  for (int pr = 0; pr < grid.rows(); ++pr)
    for (int pc = 0; pc < grid.cols(); ++pc)
      x.send_counts[std::size_t(grid.rank_of(pr, pc))] =
          std::int64_t(rows_of[std::size_t(pr)].size() * cols_of[std::size_t(pc)].size());
  const auto my_cols = out.local().cols();
  for (int s = 0; s < size; ++s) {
    const auto range = block_range(a.global_rows(), size, s);
    const auto [first, last] = local_rows_within(out, range.begin, range.end);
    x.recv_counts[std::size_t(s)] = (last - first) * my_cols;
  }
  x.finish_counts();

  std::vector<double> send(std::size_t(x.send_offsets.back()));
  for (int pr = 0; pr < grid.rows(); ++pr) {
    for (int pc = 0; pc < grid.cols(); ++pc) {
      auto at = std::size_t(x.send_offsets[std::size_t(grid.rank_of(pr, pc))]);
      for (const auto j : cols_of[std::size_t(pc)])
        for (const auto i : rows_of[std::size_t(pr)]) send[at++] = a.local()(i - mine.begin, j);
    }
  }
  const std::vector<double> recv = alltoallv(ctx, send, x.send_counts, x.recv_counts);
  for (int s = 0; s < size; ++s) {
    const auto range = block_range(a.global_rows(), size, s);
    const auto [first, last] = local_rows_within(out, range.begin, range.end);
    auto at = std::size_t(x.recv_offsets[std::size_t(s)]);
    for (Eigen::Index lj = 0; lj < my_cols; ++lj)
      for (auto li = first; li < last; ++li) out.local()(li, lj) = recv[at++];
  }
  return out;
}

RowShardedMatrix to_row_sharded(const BlockCyclicMatrix& a) {
  const BlacsGrid& grid = a.grid();
  const Context& ctx = grid.ctx();
  RowShardedMatrix out(ctx, a.rows(), a.cols());
  const int size = ctx.size();
  const auto mine = out.range();

  std::vector<std::vector<std::int64_t>> cols_of(std::size_t(grid.cols()));
  for (std::int64_t j = 0; j < a.cols(); ++j) cols_of[std::size_t(a.col_owner(j))].push_back(j);
  std::vector<std::vector<std::int64_t>> rows_of(std::size_t(grid.rows()));
  for (auto i = mine.begin; i < mine.end; ++i) rows_of[std::size_t(a.row_owner(i))].push_back(i);

  // The exact reverse of to_block_cyclic: I send my block-cyclic values to the rank holding their row block.
  Exchange x(size);
  const auto my_cols = a.local().cols();
  for (int t = 0; t < size; ++t) {
    const auto range = block_range(a.rows(), size, t);
    const auto [first, last] = local_rows_within(a, range.begin, range.end);
    x.send_counts[std::size_t(t)] = (last - first) * my_cols;
  }
  for (int pr = 0; pr < grid.rows(); ++pr)
    for (int pc = 0; pc < grid.cols(); ++pc)
      x.recv_counts[std::size_t(grid.rank_of(pr, pc))] =
          std::int64_t(rows_of[std::size_t(pr)].size() * cols_of[std::size_t(pc)].size());
  x.finish_counts();

  std::vector<double> send(std::size_t(x.send_offsets.back()));
  for (int t = 0; t < size; ++t) {
    const auto range = block_range(a.rows(), size, t);
    const auto [first, last] = local_rows_within(a, range.begin, range.end);
    auto at = std::size_t(x.send_offsets[std::size_t(t)]);
    for (Eigen::Index lj = 0; lj < my_cols; ++lj)
      for (auto li = first; li < last; ++li) send[at++] = a.local()(li, lj);
  }
  const std::vector<double> recv = alltoallv(ctx, send, x.send_counts, x.recv_counts);
  for (int pr = 0; pr < grid.rows(); ++pr) {
    for (int pc = 0; pc < grid.cols(); ++pc) {
      auto at = std::size_t(x.recv_offsets[std::size_t(grid.rank_of(pr, pc))]);
      for (const auto j : cols_of[std::size_t(pc)])
        for (const auto i : rows_of[std::size_t(pr)]) out.local()(i - mine.begin, j) = recv[at++];
    }
  }
  return out;
}

int cholesky_factor(BlockCyclicMatrix& a) {
  TESSERA_CHECK(a.rows() == a.cols() && a.row_block() == a.col_block(), "cholesky_factor: needs a square matrix ",
                "with square blocks, got ", a.rows(), " x ", a.cols(), " in ", a.row_block(), " x ", a.col_block());
  const int n = as_int(a.rows(), "n"), one = 1;
  int info = 0;
  if (n == 0) return 0;
  pdpotrf_("L", &n, a.local().data(), &one, &one, a.descriptor(), &info, 1);
  TESSERA_CHECK(info >= 0, "PDPOTRF: illegal argument ", -info);
  // ScaLAPACK reports the same info everywhere; the max makes sure of it.
  return int(allreduce_max(a.grid().ctx(), double(info)));
}

void cholesky_solve(const BlockCyclicMatrix& factor, BlockCyclicMatrix& b) {
  TESSERA_CHECK(factor.rows() == b.rows() && factor.row_block() == b.row_block(), "cholesky_solve: factor is ",
                factor.rows(), " x ", factor.cols(), " (blocks ", factor.row_block(), "), right-hand sides ", b.rows(),
                " x ", b.cols(), " (blocks ", b.row_block(), ")");
  const int n = as_int(factor.rows(), "n"), nrhs = as_int(b.cols(), "nrhs"), one = 1;
  if (n == 0 || nrhs == 0) return;
  int info = 0;
  pdpotrs_("L", &n, &nrhs, factor.local().data(), &one, &one, factor.descriptor(), b.local().data(), &one, &one,
           b.descriptor(), &info, 1);
  TESSERA_CHECK(info == 0, "PDPOTRS: illegal argument ", -info);
}

int lapack_cholesky_factor(Eigen::MatrixXd& a) {
  TESSERA_CHECK(a.rows() == a.cols(), "lapack_cholesky_factor: matrix is ", a.rows(), " x ", a.cols());
  const int n = as_int(a.rows(), "n"), lda = std::max(1, n);
  if (n == 0) return 0;
  int info = 0;
  dpotrf_("L", &n, a.data(), &lda, &info, 1);
  TESSERA_CHECK(info >= 0, "DPOTRF: illegal argument ", -info);
  return info;
}

void lapack_cholesky_solve(const Eigen::MatrixXd& factor, Eigen::MatrixXd& b) {
  TESSERA_CHECK(factor.rows() == factor.cols() && b.rows() == factor.rows(), "lapack_cholesky_solve: factor ",
                factor.rows(), " x ", factor.cols(), ", right-hand sides ", b.rows(), " x ", b.cols());
  const int n = as_int(factor.rows(), "n"), nrhs = as_int(b.cols(), "nrhs"), lda = std::max(1, n);
  if (n == 0 || nrhs == 0) return;
  int info = 0;
  dpotrs_("L", &n, &nrhs, factor.data(), &lda, b.data(), &lda, &info, 1);
  TESSERA_CHECK(info == 0, "DPOTRS: illegal argument ", -info);
}

}  // namespace tessera::engine
