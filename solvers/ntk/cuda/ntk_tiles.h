// NTK kernel tiles evaluated on the GPU: one thread per entry, each computing ntk_entry()
// (solvers/ntk/kernel/flat_kernel.h) from tables and pairs in device memory, the formulation of the CPU's
// PairFeatures::rho_tile + apply_ntk. Internal to the CUDA backend of solvers/ntk/.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "solvers/ntk/kernel/flat_kernel.h"

namespace tessera::solvers::ntk::cuda {

// out(r, c) = K(rows[row0 + r], cols[col0 + c]) for r < m, c < n (column-major, leading dimension ld), queued on
// `stream`; every pointer of `tables`, `rows` and `cols` is device memory. same_list: rows and cols are the same
// regression rows (the one-hot block gives rho = 1 where row0 + r == col0 + c). lower_only: entries above the
// diagonal (row0 + r < col0 + c) are not written (a Cholesky factorisation of the lower triangle reads none).
void launch_ntk_tile(const FlatRhoTables& tables, const FlatPairs& rows, std::int64_t row0, const FlatPairs& cols,
                     std::int64_t col0, bool same_list, bool lower_only, double* out, std::int64_t m, std::int64_t n,
                     std::int64_t ld, cudaStream_t stream);

// a(k, k) += shift for k < n (leading dimension ld), queued on `stream`.
void launch_add_to_diagonal(double* a, std::int64_t n, std::int64_t ld, double shift, cudaStream_t stream);

}  // namespace tessera::solvers::ntk::cuda
