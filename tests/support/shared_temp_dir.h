// A folder for one test case that every rank of MPI_COMM_WORLD shares: its name holds the prefix, rank 0's pid and
// the case's name, so concurrent jobs and cases never meet; rank 0 makes it and removes it at the end of the case.
// Collective: every rank constructs and destroys it at the same point.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "engine/collectives.h"
#include "engine/context.h"

namespace tessera::testing {

class SharedTempDir {
 public:
  explicit SharedTempDir(const std::string& prefix) {
    std::int64_t pid = ::getpid();
    engine::broadcast(world_, std::span<std::int64_t>(&pid, 1));
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(pid) + "_" + info->name());
    if (world_.is_root()) std::filesystem::create_directories(path_);
    world_.barrier();
  }
  ~SharedTempDir() {
    world_.barrier();
    if (world_.is_root()) std::filesystem::remove_all(path_);
  }
  SharedTempDir(const SharedTempDir&) = delete;
  SharedTempDir& operator=(const SharedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  engine::Context world_{MPI_COMM_WORLD};
  std::filesystem::path path_;
};

}  // namespace tessera::testing
