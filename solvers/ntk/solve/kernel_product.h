// The matrix-free product (K + lambda I) P for a row-sharded block of vectors P, with K seen only through
// KernelOperator::tile and never stored.
//
// Layout: rows of P and of the result are split over the ranks by engine::block_range(N, ranks, rank); each
// rank's block is column-major with leading dimension local_rows(). Rank r computes its own rows,
// K[rows_r, :] P = sum_s K[rows_r, rows_s] P_s, evaluating tile_size x tile_size kernel tiles on the fly.
// The blocks P_s travel round a ring (engine::BlockRing: rank r receives from r-1 and sends to r+1 while it
// multiplies the block it has), so a rank holds at most two foreign blocks of ceil(N/ranks) rows instead of all
// N rows (an allgather).
//
// Threads: each worker thread owns whole row tiles of the output (tile evaluation, then one BLAS GEMM into
// those rows), so the sum for every output entry runs in a fixed order: the result is the same for any thread
// count, and bit-identical between runs with the same rank count and tile size.
//
// Devices: a kernel that offers its own block products (KernelOperator::block_product, e.g. the NTK on a GPU)
// gets each block K[my rows, rows_s] P_s from them instead of from CPU tiles; the ring is the same.
//
// Cost per product: N^2/ranks kernel entries and 2 N^2 cols / ranks flops per rank; messages of
// ceil(N/ranks) x cols doubles, ranks - 1 of them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/partition.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

class KernelProduct {
 public:
  // Local: allocates the ring buffers for up to `max_cols` columns and one tile buffer per thread.
  KernelProduct(const engine::Context& ctx, const KernelOperator& kernel, double lambda, std::int64_t tile_size,
                int threads, std::int64_t max_cols);

  // Collective: out = (K + lambda I)[my rows, :] * P for `cols` <= max_cols columns. p_local and out are this
  // rank's rows (local_rows() x cols, column-major, leading dimension local_rows()); they must not overlap.
  void apply(const double* p_local, std::int64_t cols, double* out);

  std::int64_t local_rows() const { return mine_.size(); }
  engine::BlockRange range() const { return mine_; }
  // CPU seconds (summed over this rank's threads) spent evaluating kernel tiles and in GEMM since construction;
  // with a device (KernelOperator::block_product) the tile figure is the wall time of its block products.
  double tile_cpu_seconds() const { return tile_seconds_; }
  double gemm_cpu_seconds() const { return gemm_seconds_; }
  std::int64_t products() const { return products_; }

  // Bytes one rank allocates (ring buffers and tiles) for these sizes.
  static std::int64_t workspace_bytes(std::int64_t n, int ranks, std::int64_t tile_size, int threads,
                                      std::int64_t max_cols);

 private:
  // out[my rows] += K[my rows, rows of `owner`] * block (block: owner's rows x cols).
  void multiply_block(int owner, const double* block, std::int64_t cols, double* out);

  const engine::Context& ctx_;
  const KernelOperator& kernel_;
  double lambda_;
  std::int64_t n_;
  std::int64_t tile_size_;
  int threads_;
  std::int64_t max_cols_;
  engine::BlockRange mine_;
  engine::BlockRing ring_;                  // passes the blocks P_s round the ranks
  std::vector<std::vector<double>> tiles_;  // one tile_size^2 buffer per thread (none with a device)
  std::unique_ptr<BlockProduct> device_;    // the kernel's own block products (a GPU's), or null
  double tile_seconds_ = 0;
  double gemm_seconds_ = 0;
  std::int64_t products_ = 0;
};

}  // namespace tessera::solvers::ntk
