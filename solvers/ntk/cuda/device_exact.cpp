// solvers/ntk/device/device_exact.h on a CUDA device: tables and pairs up, K built and factored there, the
// predictions down.
#include "solvers/ntk/device/device_exact.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/cuda/device_array.h"
#include "engine/error.h"
#include "solvers/ntk/cuda/ntk_tiles.h"
#include "solvers/ntk/cuda/uploaded_kernel.h"
#include "solvers/ntk/solve/jitter_attempts.h"

namespace tessera::solvers::ntk {

namespace {

using cuda::check_cublas;
using cuda::check_cusolver;
using cuda::Handles;
using cuda::UploadedPairs;
using cuda::UploadedTables;
using engine::cuda::DeviceArray;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

bool device_exact_built() { return true; }

DeviceExactResult solve_exact_on_device(const PairFeatures& features, const PairList& train, const PairList& queries,
                                        const NtkShape& shape, const Eigen::MatrixXd& rhs,
                                        const ExactOptions& options) {
  options.validate();
  shape.validate();
  const std::int64_t n = train.size(), genes = rhs.cols(), q_total = queries.size();
  TESSERA_CHECK(rhs.rows() == n, "solve_exact_on_device: ", rhs.rows(), " right-hand-side rows for ", n, " pairs");
  DeviceExactResult result;
  result.predictions = Eigen::MatrixXd::Zero(genes, q_total);
  if (n == 0 || q_total == 0 || genes == 0) return result;

  std::size_t free_bytes = 0, total_bytes = 0;
  TESSERA_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const double needed = device_exact_bytes(n, genes, rho_table_bytes(features.rho_tables()));
  TESSERA_CHECK(needed <= double(free_bytes), "ntk_device=cuda: the exact solve of N = ", n, " pairs needs about ",
                needed / 1e9, " GB on the GPU, which has ", double(free_bytes) / 1e9,
                " GB free; use ntk_device=cpu with ntk_solver=matrix_free or nystrom");

  Handles handles;
  const UploadedTables tables(features.rho_tables(), shape);
  const UploadedPairs train_pairs(train), query_pairs(queries);
  DeviceArray<double> k(n * n);
  DeviceArray<int> info(1);

  std::size_t device_work = 0, host_work = 0;
  check_cusolver(cusolverDnXpotrf_bufferSize(handles.solver, handles.params, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F,
                                             k.data(), n, CUDA_R_64F, &device_work, &host_work),
                 "cusolverDnXpotrf_bufferSize");
  DeviceArray<char> device_workspace{std::int64_t(device_work)};
  std::vector<char> host_workspace(host_work);

  auto build = [&](double shift) {
    cuda::launch_ntk_tile(tables.view, train_pairs.pairs(), 0, train_pairs.pairs(), 0, /*same_list=*/true,
                          /*lower_only=*/true, k.data(), n, n, n, handles.stream);
    if (shift != 0.0) cuda::launch_add_to_diagonal(k.data(), n, n, shift, handles.stream);
    handles.synchronize();
  };
  auto factor = [&] {
    check_cusolver(
        cusolverDnXpotrf(handles.solver, handles.params, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, k.data(), n, CUDA_R_64F,
                         device_workspace.data(), device_work, host_workspace.data(), host_work, info.data()),
        "cusolverDnXpotrf");
    handles.synchronize();
    int code = 0;
    info.download(std::span<int>(&code, 1));
    return code;
  };
  auto min_pivot = [&] {
    std::vector<double> diagonal(std::size_t(n), 0.0);
    TESSERA_CUDA_CHECK(cudaMemcpy2D(diagonal.data(), sizeof(double), k.data(), std::size_t(n + 1) * sizeof(double),
                                    sizeof(double), std::size_t(n), cudaMemcpyDeviceToHost));
    double smallest = std::numeric_limits<double>::infinity();
    for (const double pivot : diagonal) {
      TESSERA_CHECK(std::isfinite(pivot), "ntk_device=cuda: the kernel has NaN or infinite entries (non-finite ",
                    "features); check the input signatures");
      smallest = std::min(smallest, pivot);
    }
    return smallest;
  };
  factor_with_jitter(n, ntk_diagonal(shape), options, result, build, factor, min_pivot);

  auto start = Clock::now();
  DeviceArray<double> x(n * genes);
  x.upload(std::span<const double>(rhs.data(), std::size_t(rhs.size())));
  check_cusolver(cusolverDnXpotrs(handles.solver, handles.params, CUBLAS_FILL_MODE_LOWER, n, genes, CUDA_R_64F,
                                  k.data(), n, CUDA_R_64F, x.data(), n, info.data()),
                 "cusolverDnXpotrs");
  handles.synchronize();
  result.solve_seconds = seconds_since(start);

  // K's factor is no longer needed: its memory holds the cross-kernel blocks, N x block queries each.
  start = Clock::now();
  const std::int64_t block = std::min(q_total, n);
  DeviceArray<double> predicted(genes * block);
  for (std::int64_t q0 = 0; q0 < q_total; q0 += block) {
    const std::int64_t width = std::min(block, q_total - q0);
    cuda::launch_ntk_tile(tables.view, train_pairs.pairs(), 0, query_pairs.pairs(), q0, /*same_list=*/false,
                          /*lower_only=*/false, k.data(), n, width, n, handles.stream);
    const double one = 1.0, zero = 0.0;
    // predicted (genes x width) = X^T (genes x N) K_cross (N x width)
    check_cublas(cublasDgemm_64(handles.blas, CUBLAS_OP_T, CUBLAS_OP_N, genes, width, n, &one, x.data(), n, k.data(), n,
                                &zero, predicted.data(), genes),
                 "cublasDgemm");
    handles.synchronize();
    predicted.download(std::span<double>(result.predictions.col(q0).data(), std::size_t(genes * width)));
  }
  result.predict_seconds = seconds_since(start);
  return result;
}

}  // namespace tessera::solvers::ntk
