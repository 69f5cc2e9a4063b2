// The device communicator of a CUDA build: NCCL for device buffers, MPI for host buffers.
#include "engine/device_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include "engine/collectives.h"
#include "engine/error.h"

namespace tessera::engine {

namespace {

void check_cuda(cudaError_t code, const char* call) {
  TESSERA_CHECK(code == cudaSuccess, "DeviceCommunicator: ", call, ": ", cudaGetErrorString(code));
}

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
  const bool cuda = device.kind == DeviceKind::kCuda;
  const auto cuda_ranks = engine::allreduce_sum(ctx, std::int64_t(cuda ? 1 : 0));
  TESSERA_CHECK(cuda_ranks == 0 || cuda_ranks == ctx.size(), "DeviceCommunicator: ", cuda_ranks, " of ", ctx.size(),
                " ranks have a CUDA device; every rank needs one (or none) to sum over the ranks");
  if (!cuda) return;
  ncclUniqueId id{};
  if (ctx.is_root()) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  TESSERA_MPI(MPI_Bcast(&id, int(sizeof id), MPI_BYTE, 0, ctx.comm()));
  state_->device = device.index;
  check_cuda(cudaSetDevice(device.index), "cudaSetDevice");
  // Blocking: the stream waits for earlier work on the legacy default stream, where buffers are often filled.
  check_cuda(cudaStreamCreate(&state_->stream), "cudaStreamCreate");
  check_nccl(ncclCommInitRank(&state_->comm, ctx.size(), id, ctx.rank()), "ncclCommInitRank");
}

DeviceCommunicator::~DeviceCommunicator() {
  if (state_->comm != nullptr) ncclCommDestroy(state_->comm);
  if (state_->stream != nullptr) cudaStreamDestroy(state_->stream);
}

namespace {

template <typename T>
void device_sum(ncclComm_t comm, cudaStream_t stream, std::span<T> values, ncclDataType_t type) {
  check_nccl(ncclAllReduce(values.data(), values.data(), values.size(), type, ncclSum, comm, stream), "ncclAllReduce");
  check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize after ncclAllReduce");
}

}  // namespace

void DeviceCommunicator::allreduce_sum(std::span<float> values) {
  if (state_->comm != nullptr && on_device(values.data()))
    device_sum(state_->comm, state_->stream, values, ncclFloat32);
  else
    engine::allreduce_sum(state_->ctx, values);
}

void DeviceCommunicator::allreduce_sum(std::span<double> values) {
  if (state_->comm != nullptr && on_device(values.data()))
    device_sum(state_->comm, state_->stream, values, ncclFloat64);
  else
    engine::allreduce_sum(state_->ctx, values);
}

bool DeviceCommunicator::uses_nccl() const { return state_->comm != nullptr; }

}  // namespace tessera::engine
