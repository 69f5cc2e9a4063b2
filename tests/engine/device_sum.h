// For test_device_communicator: the sum over ranks of `values` placed in this rank's device memory, through the
// communicator's device path (NCCL), read back to the host. Defined by tests/engine/cuda/ in CUDA builds; the
// stub of tests/engine/cpu/ throws (its callers skip first).
#pragma once

#include <vector>

#include "engine/device_communicator.h"

namespace tessera::engine::test {

std::vector<double> sum_on_device(DeviceCommunicator& communicator, const std::vector<double>& values);
std::vector<float> sum_on_device(DeviceCommunicator& communicator, const std::vector<float>& values);

}  // namespace tessera::engine::test
