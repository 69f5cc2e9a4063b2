// Private to io/: an HDF5 file that HDF5 builds in memory and Tessera writes to disk in one checked step. Every
// HDF5 output (GCTX, Hdf5Writer's containers and checkpoints) is made this way, its objects timeless (below).
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

#include <cstddef>
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

// Creation properties that keep no modification times: every object of a file Tessera writes is created with them
// (groups, datasets), so the same content gives the same bytes, whenever and on however many ranks it is written.
inline PropertyList timeless(hid_t property_class) {
  PropertyList list(H5Pcreate(property_class));
  H5Pset_obj_track_times(list.get(), 0);
  return list;
}

// Creates the missing groups on the way to the absolute path `name` ("/a/b/c": /a and /a/b), timeless (HDF5's
// own intermediate-group creation would stamp their times); `group_create` gives their other properties (default:
// timeless). An Error naming `what` ("GCTX file 'x.gctx'") when one cannot be made.
inline void create_parent_groups(hid_t file, const std::string& name, const std::string& what,
                                 const PropertyList& group_create = timeless(H5P_GROUP_CREATE)) {
  for (std::size_t slash = name.find('/', 1); slash != std::string::npos; slash = name.find('/', slash + 1)) {
    const std::string parent = name.substr(0, slash);
    const htri_t exists = H5Lexists(file, parent.c_str(), H5P_DEFAULT);
    if (exists > 0) continue;
    const Group group(exists == 0 ? H5Gcreate2(file, parent.c_str(), H5P_DEFAULT, group_create.get(), H5P_DEFAULT)
                                  : -1);
    if (!group) TESSERA_FAIL(what, ", ", parent, ": cannot create group: ", hdf5_error_detail());
  }
}

}  // namespace tessera::io::hdf5
