// The device communicator of a CUDA build: NCCL for device buffers, MPI for host buffers.
#include "engine/device_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include "engine/collectives.h"
#include "engine/cuda/device_array.h"
#include "engine/error.h"

namespace tessera::engine {

namespace {

void check_nccl(ncclResult_t code, const char* call) {
  TESSERA_CHECK(code == ncclSuccess, "DeviceCommunicator: ", call, ": ", ncclGetErrorString(code),
                " (NCCL_DEBUG=INFO tells more)");
}

bool on_device(const void* pointer) {
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, pointer) != cudaSuccess) {
    (void)cudaGetLastError();  // a plain host pointer on an old runtime; not an error worth keeping
    return false;
  }
  return attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged;
}

}  // namespace

struct DeviceCommunicator::State {
  Context ctx;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  int device = -1;
};

DeviceCommunicator::DeviceCommunicator(const Context& ctx, const Device& device)
    : state_(std::make_unique<State>(State{ctx})) {
  if (!every_rank_on_cuda(ctx, device, "DeviceCommunicator")) return;
  ncclUniqueId id{};
  if (ctx.is_root()) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  TESSERA_MPI(MPI_Bcast(&id, int(sizeof id), MPI_BYTE, 0, ctx.comm()));
  state_->device = device.index;
  TESSERA_CUDA_CHECK(cudaSetDevice(device.index));
  // Blocking: the stream waits for earlier work on the legacy default stream, where buffers are often filled.
  TESSERA_CUDA_CHECK(cudaStreamCreate(&state_->stream));
  check_nccl(ncclCommInitRank(&state_->comm, ctx.size(), id, ctx.rank()), "ncclCommInitRank");
}

DeviceCommunicator::~DeviceCommunicator() {
  if (state_->comm != nullptr) ncclCommDestroy(state_->comm);
  if (state_->stream != nullptr) cudaStreamDestroy(state_->stream);
}

namespace {

// NCCL for a buffer on this rank's device, MPI for one in host memory.
template <typename T>
void sum(const Context& ctx, ncclComm_t comm, cudaStream_t stream, std::span<T> values, ncclDataType_t type) {
  if (comm == nullptr || !on_device(values.data())) return engine::allreduce_sum(ctx, values);
  check_nccl(ncclAllReduce(values.data(), values.data(), values.size(), type, ncclSum, comm, stream), "ncclAllReduce");
  TESSERA_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace

void DeviceCommunicator::allreduce_sum(std::span<float> values) {
  sum(state_->ctx, state_->comm, state_->stream, values, ncclFloat32);
}

void DeviceCommunicator::allreduce_sum(std::span<double> values) {
  sum(state_->ctx, state_->comm, state_->stream, values, ncclFloat64);
}

bool DeviceCommunicator::uses_nccl() const { return state_->comm != nullptr; }

}  // namespace tessera::engine
