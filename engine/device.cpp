// The backend-independent part of engine/device.h.
#include "engine/device.h"

#include <cstdio>

namespace tessera::engine {

const NameTable<DeviceRequest>& name_table(DeviceRequest) {
  static const NameTable<DeviceRequest> table{
      {DeviceRequest::kCpu, "cpu"}, {DeviceRequest::kCuda, "cuda"}, {DeviceRequest::kAuto, "auto"}};
  return table;
}

std::string Device::description() const {
  if (kind == DeviceKind::kCpu) return "cpu";
  char text[64];
  std::snprintf(text, sizeof text, ", %.1f GB, %.1f GB free)", memory_bytes / 1e9, free_bytes / 1e9);
  return "cuda:" + std::to_string(index) + " (" + name + text;
}

}  // namespace tessera::engine
