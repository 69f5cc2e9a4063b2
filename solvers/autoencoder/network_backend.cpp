// Loads the LibTorch module once per process (network_backend.h says where it looks, and why it is a module).
#include "solvers/autoencoder/network_backend.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "engine/error.h"

namespace tessera::solvers::autoencoder {

namespace {

namespace fs = std::filesystem;
using MakeNetwork = decltype(&tessera_make_torch_network);

// TESSERA_TORCH_MODULE_NAME, _BUILD_PATH and _INSTALL_DIR come from solvers/autoencoder/CMakeLists.txt.
std::vector<fs::path> module_candidates() {
  if (const char* set = std::getenv("TESSERA_TORCH_MODULE"); set != nullptr && *set != '\0') return {set};
  std::vector<fs::path> paths{TESSERA_TORCH_MODULE_BUILD_PATH};
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&make_network_backend), &self) != 0 && self.dli_fname != nullptr) {
    const fs::path dir = fs::absolute(self.dli_fname).parent_path();
    paths.push_back(dir / ".." / "lib" / "tessera" / TESSERA_TORCH_MODULE_NAME);  // bin/tessera
    paths.push_back(dir / TESSERA_TORCH_MODULE_NAME);                             // the Python package
  }
  paths.push_back(fs::path(TESSERA_TORCH_MODULE_INSTALL_DIR) / TESSERA_TORCH_MODULE_NAME);
  return paths;
}

MakeNetwork load_module() {
  std::string tried;
  for (const auto& path : module_candidates()) {
    std::error_code error;
    if (!fs::exists(path, error)) {
      tried.append(tried.empty() ? "" : ", ").append(path.string());
      continue;
    }
    // RTLD_LOCAL: LibTorch's symbols stay inside the module. The handle is never closed (LibTorch's static
    // state lives until exit).
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    TESSERA_CHECK(handle != nullptr, "the autoencoder's LibTorch module ", path.string(),
                  " cannot be loaded: ", dlerror(), " (is libtorch-dev installed? Reinstall it or rebuild Tessera)");
    void* entry = dlsym(handle, "tessera_make_torch_network");
    TESSERA_CHECK(entry != nullptr, "the autoencoder's LibTorch module ", path.string(),
                  " has no entry point tessera_make_torch_network: it is not this build's module; rebuild Tessera");
    return reinterpret_cast<MakeNetwork>(entry);
  }
  TESSERA_FAIL("the autoencoder needs its LibTorch module ", TESSERA_TORCH_MODULE_NAME, ", not found at ", tried,
               "; set TESSERA_TORCH_MODULE to its path (an installed Tessera keeps it in <prefix>/lib/tessera)");
}

}  // namespace

std::unique_ptr<NetworkBackend> make_network_backend(const AutoencoderParams& params, std::int64_t num_genes) {
  // Loaded once; a failed load is tried again by the next call (and fails again with the same message).
  static std::mutex mutex;
  static MakeNetwork make = nullptr;
  {
    std::lock_guard lock(mutex);
    if (make == nullptr) make = load_module();
  }
  return std::unique_ptr<NetworkBackend>(make(params, num_genes));
}

}  // namespace tessera::solvers::autoencoder
