// The device layer of a build without the CUDA backend (TESSERA_CUDA=OFF, or no CUDA toolkit found): there is
// never a device, and asking for one names the rebuild that would give it.
#include "engine/device.h"

#include "engine/error.h"

namespace tessera::engine {

bool cuda_built() { return false; }

int cuda_device_count() { return 0; }

void check_device_request(DeviceRequest request, const std::string& knob) {
  TESSERA_CHECK(request != DeviceRequest::kCuda, knob,
                "=cuda: this Tessera was built without CUDA; rebuild with the CUDA toolkit installed (cmake "
                "-DTESSERA_CUDA=ON) or use ",
                knob, "=cpu");
}

Device select_device(const Context& /*ctx*/, DeviceRequest request, const std::string& knob) {
  check_device_request(request, knob);
  return Device{};
}

}  // namespace tessera::engine
