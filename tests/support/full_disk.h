// A nearly full disk for tests of writers: a small tmpfs mounted on a scratch folder and filled until only a few
// pages are free, so that a command writing its outputs there meets ENOSPC part way, as on a full scratch file
// system. Mounting needs root (CI and the developers' machines run as root); elsewhere available() is false and
// the test skips with a message.
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tessera::testing {

class FullDisk {
 public:
  // A tmpfs of `size_kib` at `mount_point` (created), filled so that about `free_kib` stay free.
  FullDisk(const std::filesystem::path& mount_point, int size_kib = 256, int free_kib = 8) : root_(mount_point) {
    std::filesystem::create_directories(root_);
    const std::string options = "size=" + std::to_string(size_kib) + "k";
    if (::mount("tmpfs", root_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      why_not_ = std::string("cannot mount a tmpfs at ") + root_.string() + ": " + std::strerror(errno) +
                 " (the full-disk tests need root)";
      return;
    }
    mounted_ = true;
    std::ofstream filler(root_ / "filler", std::ios::binary);
    const std::vector<char> block(1024, 'x');
    for (int k = 0; k < size_kib - free_kib; ++k) filler.write(block.data(), std::streamsize(block.size()));
  }
  ~FullDisk() {
    if (mounted_) ::umount2(root_.c_str(), MNT_DETACH);
  }
  FullDisk(const FullDisk&) = delete;
  FullDisk& operator=(const FullDisk&) = delete;

  bool available() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }
  const std::filesystem::path& path() const { return root_; }

 private:
  std::filesystem::path root_;
  bool mounted_ = false;
  std::string why_not_;
};

}  // namespace tessera::testing
