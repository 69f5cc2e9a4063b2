#include "tests/engine/device_sum.h"

#include "engine/cuda/device_array.h"

namespace tessera::engine::test {

namespace {

template <typename T>
std::vector<T> sum_through_device(DeviceCommunicator& communicator, const std::vector<T>& values) {
  cuda::DeviceArray<T> buffer(values);
  communicator.allreduce_sum(std::span<T>(buffer.data(), values.size()));
  std::vector<T> sums(values.size());
  buffer.download(sums);
  return sums;
}

}  // namespace

std::vector<double> sum_on_device(DeviceCommunicator& communicator, const std::vector<double>& values) {
  return sum_through_device(communicator, values);
}

std::vector<float> sum_on_device(DeviceCommunicator& communicator, const std::vector<float>& values) {
  return sum_through_device(communicator, values);
}

}  // namespace tessera::engine::test
