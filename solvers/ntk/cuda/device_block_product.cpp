// solvers/ntk/device/device_block_product.h on a CUDA device.
#include "solvers/ntk/device/device_block_product.h"

#include <algorithm>
#include <vector>

#include "engine/error.h"
#include "solvers/ntk/cuda/ntk_tiles.h"
#include "solvers/ntk/cuda/uploaded_kernel.h"

namespace tessera::solvers::ntk {

namespace {

using cuda::DeviceArray;

class DeviceBlockProduct final : public BlockProduct {
 public:
  DeviceBlockProduct(const PairFeatures& features, const PairList& pairs, const NtkShape& shape, std::int64_t row0,
                     std::int64_t rows, std::int64_t max_block_rows, std::int64_t max_cols)
      : tables_(features.rho_tables(), shape),
        pairs_(pairs),
        row0_(row0),
        rows_(rows),
        max_block_rows_(max_block_rows),
        max_cols_(max_cols),
        block_(max_block_rows * max_cols),
        product_(rows * max_cols),
        host_(std::size_t(rows * max_cols)) {
    std::size_t free_bytes = 0, total_bytes = 0;
    TESSERA_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const double room = 0.75 * double(free_bytes) / (8.0 * double(std::max<std::int64_t>(rows, 1)));
    width_ = std::clamp<std::int64_t>(std::int64_t(room), 1, std::max<std::int64_t>(max_block_rows, 1));
    slice_ = DeviceArray<double>(rows * width_);
  }

  void multiply_add(std::int64_t col0, std::int64_t block_rows, const double* block, std::int64_t cols,
                    double* out) override {
    TESSERA_CHECK(block_rows <= max_block_rows_ && cols <= max_cols_, "DeviceBlockProduct: a ", block_rows, " x ", cols,
                  " block exceeds the ", max_block_rows_, " x ", max_cols_, " it was made for");
    if (rows_ == 0 || block_rows == 0 || cols == 0) return;
    block_.upload(std::span<const double>(block, std::size_t(block_rows * cols)));
    for (std::int64_t c = 0; c < block_rows; c += width_) {
      const std::int64_t width = std::min(width_, block_rows - c);
      cuda::launch_ntk_tile(tables_.view, pairs_.pairs(), row0_, pairs_.pairs(), col0 + c, /*same_list=*/true,
                            /*lower_only=*/false, slice_.data(), rows_, width, rows_, handles_.stream);
      const double one = 1.0, beta = c == 0 ? 0.0 : 1.0;
      // product (rows x cols) (+)= slice (rows x width) * block[c : c + width, :]
      cuda::check_cublas(
          cublasDgemm_64(handles_.blas, CUBLAS_OP_N, CUBLAS_OP_N, rows_, cols, width, &one, slice_.data(), rows_,
                         block_.data() + c, block_rows, &beta, product_.data(), rows_),
          "cublasDgemm");
    }
    handles_.synchronize();
    product_.download(std::span<double>(host_.data(), std::size_t(rows_ * cols)));
    for (std::int64_t k = 0; k < rows_ * cols; ++k) out[k] += host_[std::size_t(k)];
  }

 private:
  cuda::Handles handles_;
  cuda::UploadedTables tables_;
  cuda::UploadedPairs pairs_;
  std::int64_t row0_, rows_, max_block_rows_, max_cols_;
  std::int64_t width_ = 1;  // kernel columns per slice
  DeviceArray<double> block_, product_, slice_;
  std::vector<double> host_;
};

}  // namespace

std::unique_ptr<BlockProduct> make_device_block_product(const PairFeatures& features, const PairList& pairs,
                                                        const NtkShape& shape, std::int64_t row0, std::int64_t rows,
                                                        std::int64_t max_block_rows, std::int64_t max_cols) {
  return std::make_unique<DeviceBlockProduct>(features, pairs, shape, row0, rows, max_block_rows, max_cols);
}

}  // namespace tessera::solvers::ntk
