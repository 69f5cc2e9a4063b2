// solvers/ntk/device/device_exact.h in a build without CUDA: nothing runs on a device.
#include "solvers/ntk/device/device_exact.h"

#include "engine/error.h"

namespace tessera::solvers::ntk {

bool device_exact_built() { return false; }

DeviceExactResult solve_exact_on_device(const PairFeatures&, const PairList&, const PairList&, const NtkShape&,
                                        const Eigen::MatrixXd&, const ExactOptions&) {
  TESSERA_FAIL(
      "ntk_device=cuda: this Tessera was built without CUDA; rebuild with the CUDA toolkit (cmake "
      "-DTESSERA_CUDA=ON) or use ntk_device=cpu");
}

}  // namespace tessera::solvers::ntk
