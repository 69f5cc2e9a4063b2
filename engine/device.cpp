// The backend-independent part of engine/device.h.
#include "engine/device.h"

#include <cstdio>

#include "engine/collectives.h"
#include "engine/error.h"

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

bool every_rank_on_cuda(const Context& ctx, const Device& device, const std::string& what) {
  const auto cuda_ranks = allreduce_sum(ctx, std::int64_t(device.kind == DeviceKind::kCuda ? 1 : 0));
  TESSERA_CHECK(cuda_ranks == 0 || cuda_ranks == ctx.size(), what, ": ", cuda_ranks, " of ", ctx.size(),
                " ranks see a CUDA device; run where every rank has one, or on the CPU");
  return cuda_ranks > 0;
}

}  // namespace tessera::engine
