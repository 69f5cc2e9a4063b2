// The device communicator of a build without CUDA: every buffer is a host buffer, summed through MPI.
#include "engine/device_communicator.h"

#include "engine/collectives.h"
#include "engine/error.h"

namespace tessera::engine {

struct DeviceCommunicator::State {
  Context ctx;
};

DeviceCommunicator::DeviceCommunicator(const Context& ctx, const Device& device)
    : state_(std::make_unique<State>(State{ctx})) {
  TESSERA_CHECK(device.kind == DeviceKind::kCpu, "DeviceCommunicator: a CUDA device in a build without CUDA");
}

DeviceCommunicator::~DeviceCommunicator() = default;

void DeviceCommunicator::allreduce_sum(std::span<float> values) { engine::allreduce_sum(state_->ctx, values); }

void DeviceCommunicator::allreduce_sum(std::span<double> values) { engine::allreduce_sum(state_->ctx, values); }

bool DeviceCommunicator::uses_nccl() const { return false; }

}  // namespace tessera::engine
