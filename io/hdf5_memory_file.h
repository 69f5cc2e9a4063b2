// Private to io/: an HDF5 file that HDF5 builds in memory and Tessera writes to disk in one checked step. Every
// HDF5 output (GCTX, Hdf5Writer's containers and checkpoints) is made this way.
//
// Why: when HDF5 writes a file itself and the disk fills up, the failure can surface in H5Fclose (the metadata
// cache is flushed there). HDF5 1.10 then keeps the file's id with its state half torn down, and its cleanup at
// MPI_Finalize closes that id a second time and crashes: exit 139 after the right message. With the core driver
// and no backing store HDF5 never writes to disk, so no HDF5 call can fail for lack of space and every handle
// closes; the bytes reach the disk through take_image(), which the caller writes with io/atomic_file.h's checked,
// fsync'ed writes (a full disk is then one Error naming the file, exit 1, and no file under the final name).
// The cost is memory: the file's bytes are held twice while take_image() copies them (the core buffer and the
// copy). The core buffer grows 1 MiB at a time (HDF5 zeroes each new increment, so a larger step costs small
// files; a smaller one makes a large matrix reallocate often), and the copy is not zero-filled first.
#pragma once

#include <hdf5.h>

#include <memory>
#include <string>
#include <string_view>

#include "engine/error.h"
#include "io/hdf5_handles.h"

namespace tessera::io::hdf5 {

class MemoryFile {
 public:
  // `name` (the file it will become) is for messages only.
  explicit MemoryFile(const std::string& name) : name_(name) {
    PropertyList access(H5Pcreate(H5P_FILE_ACCESS));
    // No backing store: HDF5 keeps the file in memory only.
    if (!access || H5Pset_fapl_core(access.get(), std::size_t(1) << 20, 0) < 0)
      TESSERA_FAIL("cannot create HDF5 file '", name_, "' in memory: ", hdf5_error_detail());
    file_ = File(H5Fcreate(name_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()));
    if (!file_) TESSERA_FAIL("cannot create HDF5 file '", name_, "' in memory: ", hdf5_error_detail());
  }

  hid_t get() const { return file_.get(); }

  // The file's bytes as they would be on disk; then closes the
  // file, which frees HDF5's copy. Call once, after the last write.
  struct Image {
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;
    std::string_view view() const { return {bytes.get(), size}; }
  };
  Image take_image() {
    // H5Fget_file_image alone returns the image without what is still in HDF5's caches: flush first.
    if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0)
      TESSERA_FAIL("cannot finish HDF5 file '", name_, "': ", hdf5_error_detail());
    const ssize_t size = H5Fget_file_image(file_.get(), nullptr, 0);
    if (size < 0) TESSERA_FAIL("cannot finish HDF5 file '", name_, "': ", hdf5_error_detail());
    Image image{std::make_unique_for_overwrite<char[]>(std::size_t(size)), std::size_t(size)};
    if (H5Fget_file_image(file_.get(), image.bytes.get(), image.size) != size)
      TESSERA_FAIL("cannot finish HDF5 file '", name_, "': ", hdf5_error_detail());
    // In memory, closing writes nothing to disk and cannot fail for lack of space.
    if (H5Fclose(file_.release()) < 0) TESSERA_FAIL("cannot finish HDF5 file '", name_, "': ", hdf5_error_detail());
    return image;
  }

 private:
  std::string name_;
  File file_;
};

}  // namespace tessera::io::hdf5
