// The exact NTK kernel regression on one CUDA GPU, the counterpart of solvers/ntk/solve/exact.h:
//   - K (N x N, lower triangle) is evaluated on the device from the rho tables (PairFeatures::rho_tables), never
//     from the one-hot block, in the CPU's formulation (solvers/ntk/cuda/ntk_tiles.h);
//   - cuSOLVER's Cholesky (potrf, 64-bit interface) factors it with the CPU solver's jitter policy: a failed
//     factorisation, or a pivot^2 below N eps x mean diagonal, is retried with jitter x mean(diag K) added to
//     the diagonal, from options.jitter growing by options.jitter_growth up to options.max_jitter;
//   - potrs solves every gene at once (X = K^-1 Y), and the predictions Y_query^T = X^T K_cross come from
//     cross-kernel blocks of up to N queries, evaluated on the device into K's memory once the solve no longer
//     needs the factor, and one cuBLAS GEMM per block.
// Only Y goes to the device and only the predictions come back.
//
// Device memory: N^2 doubles for K, N x genes for Y (then X) and as much again for a block of predictions, with
// cuSOLVER's workspace (device_exact_bytes). N = 50,000 with 978 genes: 20.0 + 0.8 GB.
//
// The backend is chosen at build time: solvers/ntk/cuda/device_exact.cpp with CUDA, solvers/ntk/cpu/ (a stub
// that refuses) without.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/solve/exact.h"

namespace tessera::solvers::ntk {

struct DeviceExactResult {
  Eigen::MatrixXd predictions;     // genes x queries
  double jitter = 0.0;             // relative jitter of the factorisation used (0: none was needed)
  double diagonal_shift = 0.0;     // jitter x mean(diag K)
  int factorisations = 0;          // Cholesky attempts
  double min_pivot_squared = 0.0;  // smallest L_ii^2 / mean(diag K)
  double build_seconds = 0.0;      // kernel on the device, summed over attempts
  double factor_seconds = 0.0;
  double solve_seconds = 0.0;    // Y up, potrs
  double predict_seconds = 0.0;  // cross-kernel blocks, GEMMs, predictions down
};

// Whether this build has the CUDA backend of this solver.
bool device_exact_built();

// Device bytes the solve needs for n training pairs and `genes` right-hand sides, with the rho tables'
// table_bytes (rho_table_bytes, flat_tables.h) and cuSOLVER's workspace counted as 64 MB. Local.
inline double device_exact_bytes(std::int64_t n, std::int64_t genes, double table_bytes = 0) {
  return 8.0 * double(n) * double(n + 2 * genes) + table_bytes + 64e6;
}

// Local, on the calling thread's current CUDA device (engine::select_device). rhs is N x genes: the training
// signatures, one row per pair of `train`; the result has one column per pair of `queries`. Both lists were
// encoded by `features`. Throws tessera::Error when the device lacks the memory (with the sizes), for NaN in K,
// when K stays indefinite up to options.max_jitter, and always in a build without CUDA.
DeviceExactResult solve_exact_on_device(const PairFeatures& features, const PairList& train, const PairList& queries,
                                        const NtkShape& shape, const Eigen::MatrixXd& rhs,
                                        const ExactOptions& options = {});

}  // namespace tessera::solvers::ntk
