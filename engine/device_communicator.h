// Sums over ranks for buffers that may live on a GPU: one entry point, the transport chosen by where the buffer
// lives (as XGBoost's collective layer does). Host buffers go through MPI (engine/collectives.h); buffers on
// this rank's CUDA device go through NCCL, so gradients never travel through host memory.
//
// The NCCL communicator is made once per DeviceCommunicator: rank 0 creates its unique id and broadcasts it over
// the MPI communicator, and every rank joins with the device it bound (engine/device.h). A build without the
// CUDA backend compiles engine/cpu/device_communicator.cpp, where no device buffer can exist and every call is
// the MPI one.
#pragma once

#include <memory>
#include <span>

#include "engine/context.h"
#include "engine/device.h"

namespace tessera::engine {

class DeviceCommunicator {
 public:
  // Collective over ctx. Every rank passes the device it selected; when they are CUDA devices on every rank the
  // NCCL communicator is created, when they are the CPU on every rank there is none. Ranks that disagree (some on
  // a GPU, some not) get tessera::Error on every rank.
  DeviceCommunicator(const Context& ctx, const Device& device);
  ~DeviceCommunicator();
  DeviceCommunicator(const DeviceCommunicator&) = delete;
  DeviceCommunicator& operator=(const DeviceCommunicator&) = delete;

  // Collective: in-place element-wise sums over the ranks. `values` lies in host memory or, when this
  // communicator has NCCL, in this rank's device memory (decided per call from the pointer). Returns once the
  // sums are in place. Every rank passes the same length and the same kind of memory.
  void allreduce_sum(std::span<float> values);
  void allreduce_sum(std::span<double> values);

  // Whether device buffers go through NCCL (false on the CPU and in builds without CUDA).
  bool uses_nccl() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tessera::engine
