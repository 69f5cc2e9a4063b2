// Writing outputs so that a failure never leaves a half-written file: write to "<path>.tmp-<pid>", then rename
// (atomic on POSIX within one file system). If the writer throws, the temporary is removed.
#pragma once

#include <filesystem>
#include <functional>

namespace tessera::io {

// Calls write(temporary_path) and renames the temporary to `path` when it returns.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path&)>& write);

}  // namespace tessera::io
