// solvers/ntk/device/device_block_product.h in a build without CUDA: nothing runs on a device.
#include "solvers/ntk/device/device_block_product.h"

#include "engine/error.h"

namespace tessera::solvers::ntk {

std::unique_ptr<BlockProduct> make_device_block_product(const PairFeatures&, const PairList&, const NtkShape&,
                                                        std::int64_t, std::int64_t, std::int64_t, std::int64_t) {
  TESSERA_FAIL(
      "ntk_device=cuda: this Tessera was built without CUDA; rebuild with the CUDA toolkit (cmake "
      "-DTESSERA_CUDA=ON) or use ntk_device=cpu");
}

}  // namespace tessera::solvers::ntk
