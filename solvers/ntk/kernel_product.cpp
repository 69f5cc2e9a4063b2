#include "solvers/ntk/kernel_product.h"

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <exception>

#include "engine/error.h"
#include "engine/blas.h"
#include "solvers/ntk/parallel_for.h"

namespace tessera::solvers::ntk {

namespace {

// CPU time of the calling thread: unlike wall time it does not count time the thread spent descheduled, so the
// split between tiles and GEMM stays meaningful on a shared, oversubscribed machine.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

int ring_buffer_count(int ranks) { return std::min(ranks - 1, 2); }

// A block of rows x cols doubles as one MPI message: a contiguous type of `rows` doubles sent `cols` times keeps
// every count within MPI's int even for blocks of more than 2^31 elements.
class BlockType {
 public:
  explicit BlockType(std::int64_t rows) {
    TESSERA_CHECK(rows <= std::int64_t(INT32_MAX), "ring pass: a block of ", rows, " rows is too large");
    TESSERA_MPI(MPI_Type_contiguous(int(rows), MPI_DOUBLE, &type_));
    TESSERA_MPI(MPI_Type_commit(&type_));
  }
  ~BlockType() { MPI_Type_free(&type_); }
  BlockType(const BlockType&) = delete;
  BlockType& operator=(const BlockType&) = delete;
  MPI_Datatype get() const { return type_; }

 private:
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
};

}  // namespace

KernelProduct::KernelProduct(const engine::Context& ctx, const KernelOperator& kernel, double lambda,
                             std::int64_t tile_size, int threads, std::int64_t max_cols)
    : ctx_(ctx),
      kernel_(kernel),
      lambda_(lambda),
      n_(kernel.size()),
      tile_size_(tile_size),
      threads_(std::max(1, threads)),
      max_cols_(max_cols),
      mine_(engine::block_range(kernel.size(), ctx.size(), ctx.rank())) {
  TESSERA_CHECK(tile_size_ > 0, "KernelProduct: tile_size must be positive, got ", tile_size_);
  const std::int64_t widest = engine::block_range(n_, ctx.size(), 0).size();  // rank 0 has the most rows
  ring_.resize(std::size_t(ring_buffer_count(ctx.size())));
  for (auto& buffer : ring_) buffer.resize(std::size_t(widest * max_cols_));
  const std::int64_t side = std::min(tile_size_, std::max<std::int64_t>(n_, 1));
  tiles_.resize(std::size_t(threads_));
  for (auto& tile : tiles_) tile.resize(std::size_t(side * side));
}

std::int64_t KernelProduct::workspace_bytes(std::int64_t n, int ranks, std::int64_t tile_size, int threads,
                                            std::int64_t max_cols) {
  const std::int64_t widest = ceil_div(n, ranks);
  const std::int64_t side = std::min(tile_size, n);
  return 8 * (ring_buffer_count(ranks) * widest * max_cols + std::int64_t(threads) * side * side);
}

void KernelProduct::apply(const double* p_local, std::int64_t cols, double* out) {
  TESSERA_CHECK(cols >= 0 && cols <= max_cols_, "KernelProduct::apply: ", cols, " columns, workspace holds ",
                max_cols_);
  const int ranks = ctx_.size(), rank = ctx_.rank();
  const std::int64_t rows = mine_.size();
  std::fill(out, out + rows * cols, 0.0);
  const int left = (rank - 1 + ranks) % ranks, right = (rank + 1) % ranks;

  // Step t multiplies the block of rank (rank - t) while the block of rank (rank - t - 1) arrives from the left.
  const double* current = p_local;
  int owner = rank;
  std::size_t next_buffer = 0;
  for (int step = 0; step < ranks; ++step) {
    MPI_Request requests[2];
    int pending = 0;
    const bool more = step + 1 < ranks;
    const int incoming = (owner - 1 + ranks) % ranks;
    double* receiving = more ? ring_[next_buffer].data() : nullptr;
    if (more && cols > 0) {
      const std::int64_t in_rows = engine::block_range(n_, ranks, incoming).size();
      const std::int64_t out_rows = engine::block_range(n_, ranks, owner).size();
      if (in_rows > 0) {
        const BlockType type(in_rows);
        TESSERA_MPI(MPI_Irecv(receiving, int(cols), type.get(), left, step, ctx_.comm(), &requests[pending++]));
      }
      if (out_rows > 0) {
        const BlockType type(out_rows);
        TESSERA_MPI(MPI_Isend(current, int(cols), type.get(), right, step, ctx_.comm(), &requests[pending++]));
      }
    }
    std::exception_ptr failure;
    try {
      multiply_block(owner, current, cols, out);
    } catch (...) {
      failure = std::current_exception();  // finish the exchange first, or the neighbours hang
    }
    if (pending > 0) TESSERA_MPI(MPI_Waitall(pending, requests, MPI_STATUSES_IGNORE));
    if (failure) std::rethrow_exception(failure);
    if (more) {
      current = receiving;
      owner = incoming;
      next_buffer = (next_buffer + 1) % ring_.size();
    }
  }
  if (lambda_ != 0.0)
    for (std::int64_t i = 0; i < rows * cols; ++i) out[i] += lambda_ * p_local[i];
  ++products_;
}

void KernelProduct::multiply_block(int owner, const double* block, std::int64_t cols, double* out) {
  const engine::BlockRange theirs = engine::block_range(n_, ctx_.size(), owner);
  const std::int64_t rows = mine_.size(), their_rows = theirs.size();
  if (rows == 0 || their_rows == 0 || cols == 0) return;
  const std::int64_t row_tiles = ceil_div(rows, tile_size_), col_tiles = ceil_div(their_rows, tile_size_);
  std::vector<double> tile_time(std::size_t(threads_), 0.0), gemm_time(std::size_t(threads_), 0.0);
  parallel_for(row_tiles, threads_, [&](std::int64_t i, int thread) {
    const std::int64_t r0 = i * tile_size_, nr = std::min(tile_size_, rows - r0);
    double* tile = tiles_[std::size_t(thread)].data();
    for (std::int64_t j = 0; j < col_tiles; ++j) {
      const std::int64_t c0 = j * tile_size_, nc = std::min(tile_size_, their_rows - c0);
      const double start = thread_cpu_seconds();
      Eigen::Map<Eigen::MatrixXd> view(tile, nr, nc);
      kernel_.tile(mine_.begin + r0, theirs.begin + c0, view);
      const double middle = thread_cpu_seconds();
      engine::blas::gemm('N', 'N', nr, cols, nc, 1.0, tile, nr, block + c0, their_rows, 1.0, out + r0, rows);
      tile_time[std::size_t(thread)] += middle - start;
      gemm_time[std::size_t(thread)] += thread_cpu_seconds() - middle;
    }
  });
  for (int t = 0; t < threads_; ++t) {
    tile_seconds_ += tile_time[std::size_t(t)];
    gemm_seconds_ += gemm_time[std::size_t(t)];
  }
}

}  // namespace tessera::solvers::ntk
