// The device layer of a CUDA build: devices come from the CUDA runtime. A machine without a driver or a GPU
// (the build machines, CI) answers zero devices, not an error, so the CPU path runs there unchanged.
#include "engine/device.h"

#include <cuda_runtime.h>

#include "engine/error.h"

namespace tessera::engine {

bool cuda_built() { return true; }

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clears the sticky "no driver" / "no device" error for later calls
    return 0;
  }
  return count;
}

void check_device_request(DeviceRequest request, const std::string& knob) {
  TESSERA_CHECK(request != DeviceRequest::kCuda || cuda_device_count() > 0, knob,
                "=cuda: no CUDA device is visible to this process (check nvidia-smi, CUDA_VISIBLE_DEVICES and the "
                "Slurm --gpus request), or use ",
                knob, "=cpu");
}

Device select_device(const Context& ctx, DeviceRequest request, const std::string& knob) {
  if (request == DeviceRequest::kCpu) return Device{};
  check_device_request(request, knob);
  const int count = cuda_device_count();
  if (count == 0) return Device{};  // auto without a device
  Device device;
  device.kind = DeviceKind::kCuda;
  device.index = ctx.node_rank() % count;
  cudaDeviceProp props{};
  auto check = [&](cudaError_t code, const char* call) {
    TESSERA_CHECK(code == cudaSuccess, knob, ": ", call, " failed on CUDA device ", device.index, ": ",
                  cudaGetErrorString(code));
  };
  check(cudaSetDevice(device.index), "cudaSetDevice");
  check(cudaGetDeviceProperties(&props, device.index), "cudaGetDeviceProperties");
  std::size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  device.name = props.name;
  device.memory_bytes = double(total_bytes);
  device.free_bytes = double(free_bytes);
  return device;
}

}  // namespace tessera::engine
