// The matrix-free solver's kernel products on a GPU: an NtkOperator made for a CUDA device hands the solver
// (solve/kernel_product.h) this BlockProduct, which evaluates K[my rows, block rows] on the device from the rho
// tables (the tiles of solvers/ntk/cuda/ntk_tiles.h), column slice by column slice, and multiplies each slice
// into the block of right-hand sides with cuBLAS. The PCG itself, its preconditioner and the ring of blocks
// between ranks stay on the host: per block, only the block goes up and the rank's rows of the product come back.
//
// Device memory: the tables and pairs, the block (max_block_rows x max_cols), the product (rows x max_cols), and
// kernel slices of rows x W doubles, W sized to three quarters of what is left (at least one column).
//
// Built from solvers/ntk/cuda/ with CUDA, from the refusing stub of solvers/ntk/cpu/ without.
#pragma once

#include <cstdint>
#include <memory>

#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

// Local, on the calling thread's current CUDA device: the products for rows [row0, row0 + rows) of the kernel of
// `pairs` (encoded by `features`). Throws tessera::Error when the device lacks the memory, and always in a build
// without CUDA.
std::unique_ptr<BlockProduct> make_device_block_product(const PairFeatures& features, const PairList& pairs,
                                                        const NtkShape& shape, std::int64_t row0, std::int64_t rows,
                                                        std::int64_t max_block_rows, std::int64_t max_cols);

}  // namespace tessera::solvers::ntk
