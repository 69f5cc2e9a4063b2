#include "io/atomic_file.h"

#include <unistd.h>

#include <system_error>

#include "engine/error.h"

namespace tessera::io {

void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path&)>& write) {
  namespace fs = std::filesystem;
  if (path.has_parent_path() && !fs::exists(path.parent_path())) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    TESSERA_CHECK(!ec, "cannot create folder '", path.parent_path().string(), "' for output '", path.string(),
                  "': ", ec.message());
  }
  const fs::path temporary = path.string() + ".tmp-" + std::to_string(::getpid());
  try {
    write(temporary);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    TESSERA_FAIL("cannot move finished output '", temporary.string(), "' to '", path.string(), "': ",
                 ec.message());
  }
}

}  // namespace tessera::io
