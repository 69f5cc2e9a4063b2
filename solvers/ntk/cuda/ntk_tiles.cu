#include <algorithm>

#include "engine/cuda/device_array.h"
#include "solvers/ntk/cuda/ntk_tiles.h"

namespace tessera::solvers::ntk::cuda {

namespace {

__global__ void ntk_tile_kernel(FlatRhoTables tables, FlatPairs rows, std::int64_t row0, FlatPairs cols,
                                std::int64_t col0, bool same_list, bool lower_only, double* out, std::int64_t m,
                                std::int64_t n, std::int64_t ld) {
  const std::int64_t r = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t c = std::int64_t(blockIdx.y) * blockDim.y + threadIdx.y;
  if (r >= m || c >= n) return;
  const std::int64_t i = row0 + r, j = col0 + c;
  if (lower_only && i < j) return;
  out[r + c * ld] = ntk_entry(tables, rows, i, cols, j, same_list);
}

__global__ void add_to_diagonal_kernel(double* a, std::int64_t n, std::int64_t ld, double shift) {
  const std::int64_t k = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k < n) a[k + k * ld] += shift;
}

}  // namespace

void launch_ntk_tile(const FlatRhoTables& tables, const FlatPairs& rows, std::int64_t row0, const FlatPairs& cols,
                     std::int64_t col0, bool same_list, bool lower_only, double* out, std::int64_t m, std::int64_t n,
                     std::int64_t ld, cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  // 32 consecutive rows per warp: a warp writes one contiguous run of a column.
  const dim3 block(32, 8);
  // A grid's second dimension stops at 65,535 blocks: wider tiles go in slices of columns.
  const std::int64_t slice = std::int64_t(65535) * block.y;
  for (std::int64_t c = 0; c < n; c += slice) {
    const std::int64_t width = std::min(slice, n - c);
    const dim3 grid(unsigned((m + block.x - 1) / block.x), unsigned((width + block.y - 1) / block.y));
    ntk_tile_kernel<<<grid, block, 0, stream>>>(tables, rows, row0, cols, col0 + c, same_list, lower_only, out + c * ld,
                                                m, width, ld);
    TESSERA_CUDA_CHECK(cudaGetLastError());
  }
}

void launch_add_to_diagonal(double* a, std::int64_t n, std::int64_t ld, double shift, cudaStream_t stream) {
  if (n == 0) return;
  add_to_diagonal_kernel<<<unsigned((n + 255) / 256), 256, 0, stream>>>(a, n, ld, shift);
  TESSERA_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tessera::solvers::ntk::cuda
