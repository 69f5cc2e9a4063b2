// A typed buffer in the current CUDA device's memory that frees itself, and the check that turns a CUDA error
// into a tessera::Error. For the GPU backends (engine/cuda/, solvers/*/cuda/) only: this header includes the
// CUDA runtime.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <span>
#include <vector>

#include "engine/error.h"

#define TESSERA_CUDA_CHECK(call)                                                                       \
  do {                                                                                                 \
    const cudaError_t tessera_cuda_rc_ = (call);                                                       \
    TESSERA_CHECK(tessera_cuda_rc_ == cudaSuccess, #call, ": ", cudaGetErrorString(tessera_cuda_rc_)); \
  } while (0)

namespace tessera::engine::cuda {

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  // Uninitialised room for `count` values. Throws tessera::Error (with the size) when the device is full.
  explicit DeviceArray(std::int64_t count) : count_(count) {
    if (count == 0) return;
    const cudaError_t code = cudaMalloc(reinterpret_cast<void**>(&data_), std::size_t(count) * sizeof(T));
    TESSERA_CHECK(code == cudaSuccess, "cannot allocate ", double(count) * sizeof(T) / 1e9,
                  " GB on the CUDA device: ", cudaGetErrorString(code));
  }
  // A copy of host values.
  explicit DeviceArray(std::span<const T> values) : DeviceArray(std::int64_t(values.size())) { upload(values); }
  explicit DeviceArray(const std::vector<T>& values) : DeviceArray(std::span<const T>(values)) {}
  ~DeviceArray() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceArray(DeviceArray&& other) noexcept : data_(other.data_), count_(other.count_) {
    other.data_ = nullptr;
    other.count_ = 0;
  }
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  void upload(std::span<const T> values, std::int64_t offset = 0) {
    TESSERA_ASSERT(offset + std::int64_t(values.size()) <= count_);
    if (!values.empty())
      TESSERA_CUDA_CHECK(cudaMemcpy(data_ + offset, values.data(), values.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  void download(std::span<T> values, std::int64_t offset = 0) const {
    TESSERA_ASSERT(offset + std::int64_t(values.size()) <= count_);
    if (!values.empty())
      TESSERA_CUDA_CHECK(cudaMemcpy(values.data(), data_ + offset, values.size() * sizeof(T), cudaMemcpyDeviceToHost));
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::int64_t size() const { return count_; }

 private:
  T* data_ = nullptr;
  std::int64_t count_ = 0;
};

}  // namespace tessera::engine::cuda
