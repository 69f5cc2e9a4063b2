// What the NTK's GPU solvers share: the cuSOLVER/cuBLAS handles of a solve, and the tables and pairs copied to
// the current CUDA device with the flat views (flat_kernel.h) the tile kernels read. Internal to the CUDA backend of
// solvers/ntk/ (device_exact.cpp, device_block_product.cpp).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <span>

#include "engine/cuda/device_array.h"
#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/flat_kernel.h"
#include "solvers/ntk/kernel/flat_tables.h"
#include "solvers/ntk/kernel/kernel.h"

namespace tessera::solvers::ntk::cuda {

using engine::cuda::DeviceArray;

inline void check_cusolver(cusolverStatus_t status, const char* call) {
  TESSERA_CHECK(status == CUSOLVER_STATUS_SUCCESS, "ntk_device=cuda: ", call, " failed with cuSOLVER status ",
                int(status));
}

inline void check_cublas(cublasStatus_t status, const char* call) {
  TESSERA_CHECK(status == CUBLAS_STATUS_SUCCESS, "ntk_device=cuda: ", call, " failed: ", cublasGetStatusString(status));
}

// The cuSOLVER and cuBLAS handles of one solve, on one stream.
struct Handles {
  cudaStream_t stream = nullptr;
  cusolverDnHandle_t solver = nullptr;
  cusolverDnParams_t params = nullptr;
  cublasHandle_t blas = nullptr;

  Handles() {
    // A blocking stream: it waits for the copies DeviceArray makes on the legacy default stream (a host-to-device
    // cudaMemcpy from pageable memory can return before its data has landed).
    TESSERA_CUDA_CHECK(cudaStreamCreate(&stream));
    check_cusolver(cusolverDnCreate(&solver), "cusolverDnCreate");
    check_cusolver(cusolverDnSetStream(solver, stream), "cusolverDnSetStream");
    check_cusolver(cusolverDnCreateParams(&params), "cusolverDnCreateParams");
    check_cublas(cublasCreate(&blas), "cublasCreate");
    check_cublas(cublasSetStream(blas, stream), "cublasSetStream");
  }
  ~Handles() {
    if (blas != nullptr) cublasDestroy(blas);
    if (params != nullptr) cusolverDnDestroyParams(params);
    if (solver != nullptr) cusolverDnDestroy(solver);
    if (stream != nullptr) cudaStreamDestroy(stream);
  }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;

  void synchronize() const { TESSERA_CUDA_CHECK(cudaStreamSynchronize(stream)); }
};

// A PairList's arrays on the device; pairs() views them.
struct UploadedPairs {
  DeviceArray<std::int32_t> cell, slot, source_cell, source_column;
  DeviceArray<double> prior_norm, inv_scale, source_weight;
  DeviceArray<std::int64_t> source_begin;

  explicit UploadedPairs(const PairList& list)
      : cell(list.cell),
        slot(list.slot),
        prior_norm(list.prior_norm),
        inv_scale(list.inv_scale),
        source_begin(list.source_begin) {
    const PairSourceColumns sources(list);
    source_cell = DeviceArray<std::int32_t>(sources.cell);
    source_column = DeviceArray<std::int32_t>(sources.column);
    source_weight = DeviceArray<double>(sources.weight);
  }

  FlatPairs pairs() const {
    return {cell.data(),         slot.data(),        prior_norm.data(),    inv_scale.data(),
            source_begin.data(), source_cell.data(), source_column.data(), source_weight.data()};
  }
};

// RhoTables on the device; `view` points at them.
struct UploadedTables {
  DeviceArray<double> cell_gram, slot_gram, grams;
  DeviceArray<std::int64_t> gram_offset, gram_size;
  FlatRhoTables view;

  UploadedTables(const RhoTables& rho, const NtkShape& shape)
      : cell_gram(std::span<const double>(rho.cell_gram, std::size_t(rho.cells * rho.cells))) {
    if (!rho.similarity) {
      slot_gram = DeviceArray<double>(std::span<const double>(rho.slot_gram, std::size_t(rho.slots * rho.slots)));
    } else {
      const FlatGrams flat(rho);
      grams = DeviceArray<double>(flat.grams);
      gram_offset = DeviceArray<std::int64_t>(flat.offset);
      gram_size = DeviceArray<std::int64_t>(flat.size);
    }
    view.alpha = rho.alpha;
    view.similarity = rho.similarity;
    view.cell_gram = cell_gram.data();
    view.cells = rho.cells;
    view.slot_gram = slot_gram.data();
    view.slots = rho.slots;
    view.grams = grams.data();
    view.gram_offset = gram_offset.data();
    view.gram_size = gram_size.data();
    view.depth = shape.depth;
    view.bias_sq = shape.bias * shape.bias;
  }
};

}  // namespace tessera::solvers::ntk::cuda
