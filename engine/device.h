// Which processor a computation runs on, and the CUDA device each rank binds.
//
// A build decides once whether it has a GPU backend (CMake TESSERA_CUDA, CMakeLists.txt): with it,
// engine/cuda/device.cpp answers from the CUDA runtime; without it, engine/cpu/device.cpp reports no device, so
// every caller works unchanged and `cuda` is refused with the fix. No file outside engine/cuda/ and the solvers'
// cuda/ folders includes a CUDA header.
//
// Ranks bind devices by their node-local rank (Context::node_rank) modulo the node's visible devices: on a node
// with 4 GPUs and 4 ranks each rank owns one; with more ranks than GPUs they share them round robin.
#pragma once

#include <cstdint>
#include <string>

#include "engine/context.h"
#include "engine/parameters.h"

namespace tessera::engine {

// What the user asks for (the *_device knobs): auto takes a CUDA device when one is visible, else the CPU.
enum class DeviceRequest { kCpu, kCuda, kAuto };
const NameTable<DeviceRequest>& name_table(DeviceRequest);  // cpu | cuda | auto

enum class DeviceKind { kCpu, kCuda };

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = -1;                   // CUDA device ordinal, -1 for the CPU
  std::string name;                 // "cpu" or the GPU's name
  double memory_bytes = 0;          // the GPU's global memory (0 for the CPU)
  double free_bytes = 0;            // free when selected
  std::string description() const;  // "cpu" or "cuda:0 (NVIDIA H100 80GB HBM3, 79.2 GB, 78.6 GB free)"
};

// Local. Whether this binary holds the CUDA backend, and how many CUDA devices it sees (0 without the backend,
// without a driver, or without a device).
bool cuda_built();
int cuda_device_count();

// Local: throws what select_device would for `request` (kCuda without the backend or without a device), so that
// a command can refuse a bad *_device option before it starts any work.
void check_device_request(DeviceRequest request, const std::string& knob);

// Collective: true when every rank of ctx holds a CUDA device, false when none does. Ranks that disagree (auto on
// a job whose nodes differ) would take different paths into the collectives that follow, so they get
// tessera::Error on every rank, naming `what`.
bool every_rank_on_cuda(const Context& ctx, const Device& device, const std::string& what);

// Local: the device this rank computes on for `request`, set as the calling thread's current CUDA device when it
// is one. kCuda throws tessera::Error naming `knob` and the fix when the build has no CUDA backend or no device
// is visible; kAuto quietly falls back to the CPU then.
Device select_device(const Context& ctx, DeviceRequest request, const std::string& knob);

}  // namespace tessera::engine
