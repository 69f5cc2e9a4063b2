// Private to io/: what a reader checks about an HDF5 object before it reads it, and how it reports a file whose
// HDF5 internals are damaged. Used by io/hdf5_file.cpp and io/gctx.cpp.
//
// Why before reading: HDF5 trusts the file's own description of a dataset. A file with one bit flipped in a
// dataset's filter-pipeline message (cmapPy writes gzip-compressed metadata) drops the gzip step, and H5Dread
// then copies a whole chunk's worth of bytes out of the shorter compressed chunk: raw compressed bytes come back
// as text, past the end of HDF5's own buffer (a heap-buffer-overflow under AddressSanitizer). So the type, the
// filters and the stored size are checked first, and a mismatch is an Error that names the file, the dataset
// and the fix.
//
// Absent or damaged: H5Lexists answers false for an object that is not there but fails (< 0) when it cannot
// read the B-tree, heap or object header on the way; find_path keeps the two apart, so that a damaged file is
// never reported as "another kind of HDF5 file".
#pragma once

#include <hdf5.h>

#include <string>

#include "engine/error.h"
#include "io/hdf5_handles.h"
#include "io/text_encoding.h"

namespace tessera::io::hdf5 {

// The fix for a file whose HDF5 internals cannot be read.
inline constexpr const char* kDamagedFileFix =
    "the file is damaged (or was cut short): download or copy it again, and check it with h5dump";

// Error for HDF5 failing inside a file it opened: reading `what` at `where` ("GCTX file 'x.gctx', /0/META/COL").
// Call it right after the failing HDF5 call, so that the error stack still holds the cause.
[[noreturn]] inline void fail_damaged(const std::string& where, const std::string& what) {
  const std::string detail = hdf5_error_detail();
  TESSERA_FAIL(where, ": HDF5 cannot read ", what, " (", detail, "); ", kDamagedFileFix);
}

enum class Presence { kAbsent, kPresent, kUnreadable };

// Whether every component of the absolute `path` exists below `location`, or whether HDF5 failed to tell.
// Component by component, because H5Lexists also fails (rather than answering false) when an intermediate
// group is missing; so a failure here means HDF5 could not read what is there. On kUnreadable the error stack
// holds the cause (for fail_damaged).
inline Presence find_path(hid_t location, const std::string& path) {
  std::string prefix;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) {
      prefix.push_back('/');
      prefix.append(path, start, slash - start);
      const htri_t exists = H5Lexists(location, prefix.c_str(), H5P_DEFAULT);
      if (exists < 0) return Presence::kUnreadable;
      if (exists == 0) return Presence::kAbsent;
    }
    start = slash + 1;
  }
  return Presence::kPresent;
}

// True when `path` exists; an Error naming `where` when HDF5 cannot read the groups on the way.
inline bool readable_path_exists(hid_t location, const std::string& path, const std::string& where) {
  const Presence presence = find_path(location, path);
  if (presence == Presence::kUnreadable) fail_damaged(where, "the groups that lead to " + path);
  return presence == Presence::kPresent;
}

// A stored type that a reader can take in: strings (fixed-length of a sane width, a known padding and character
// set, or variable-length), floats of 4 or 8 bytes, integers of 1 to 8 bytes. `what` says which classes the
// caller accepts; anything else is an Error naming `where` with that list.
enum TypeClasses : unsigned { kStrings = 1, kFloats = 2, kIntegers = 4 };

inline void check_type(hid_t type, const std::string& where, unsigned accepted, const char* accepted_text) {
  const H5T_class_t type_class = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (type_class < 0 || size == 0) fail_damaged(where, "the dataset's datatype");
  const bool wanted = (type_class == H5T_STRING && (accepted & kStrings)) ||
                      (type_class == H5T_FLOAT && (accepted & kFloats)) ||
                      (type_class == H5T_INTEGER && (accepted & kIntegers));
  TESSERA_CHECK(wanted, where, ": stored as ", describe_type(type), "; expected ", accepted_text,
                ": convert it, or check that this is the right file");
  if (type_class == H5T_FLOAT)
    TESSERA_CHECK(size == 4 || size == 8, where, ": stored as ", describe_type(type), "; expected float32 or float64",
                  ": convert it (e.g. with numpy astype('float32'))");
  if (type_class == H5T_INTEGER)
    TESSERA_CHECK(size == 1 || size == 2 || size == 4 || size == 8, where, ": stored as an integer of ", size,
                  " bytes, which no writer makes; ", kDamagedFileFix);
  if (type_class != H5T_STRING) return;
  const htri_t variable = H5Tis_variable_str(type);
  const H5T_cset_t cset = H5Tget_cset(type);
  if (variable < 0 || cset < 0) fail_damaged(where, "the dataset's string type");
  TESSERA_CHECK(cset == H5T_CSET_ASCII || cset == H5T_CSET_UTF8, where, ": strings stored with character set code ",
                int(cset), ", which is neither ASCII nor UTF-8; ", kDamagedFileFix);
  if (variable > 0) return;
  // One value wider than 1 MiB is no metadata a writer makes; it would also make count x size buffers huge.
  constexpr std::size_t kMaxStringBytes = std::size_t(1) << 20;
  const H5T_str_t pad = H5Tget_strpad(type);
  TESSERA_CHECK(size <= kMaxStringBytes, where, ": fixed-length strings of ", size, " bytes each (at most ",
                kMaxStringBytes, " expected); ", kDamagedFileFix);
  TESSERA_CHECK(pad == H5T_STR_NULLTERM || pad == H5T_STR_NULLPAD || pad == H5T_STR_SPACEPAD, where,
                ": strings stored with padding code ", int(pad), ", which HDF5 does not define; ", kDamagedFileFix);
}

// The filters HDF5 ships with, with the number of parameters each stores in a file; others (plugins, nbit,
// scale-offset) are refused rather than trusted.
inline bool known_filter_parameters(H5Z_filter_t id, std::size_t count, const unsigned* values) {
  switch (id) {
    case H5Z_FILTER_DEFLATE:
      return count == 1 && values[0] <= 9;
    case H5Z_FILTER_SHUFFLE:
      return count <= 1;
    case H5Z_FILTER_FLETCHER32:
      return count == 0;
    case H5Z_FILTER_SZIP:
      return count == 4;
    default:
      return false;
  }
}

// Each compressed chunk decoded once and its length checked against the chunk's shape before any read:
// HDF5 1.10 copies a whole chunk's worth out of whatever its filters return, so a damaged gzip stream that
// inflates short is read past the end of HDF5's own buffer. Datasets stored in more than 64 MiB are left to HDF5
// (every rank would decode them at open); szip chunks too (no decoder of ours). io/hdf5_chunk_check.cpp.
void verify_compressed_chunks(hid_t dataset, const std::string& where);

// The dataset's filter pipeline and stored size, checked against its own type and shape before any read:
// every filter is one HDF5 ships and can decode here, with the parameters it takes; unfiltered data occupies
// exactly the bytes its shape needs (a chunk is read whole, so a short one is read past its end).
inline void check_storage(hid_t dataset, const std::string& where) {
  const PropertyList create(H5Dget_create_plist(dataset));
  const Datatype type(H5Dget_type(dataset));
  const Dataspace space(H5Dget_space(dataset));
  if (!create || !type || !space) fail_damaged(where, "the dataset's description");
  const int filters = H5Pget_nfilters(create.get());
  if (filters < 0) fail_damaged(where, "the dataset's filter pipeline");
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0, config = 0;
    unsigned values[8] = {};
    std::size_t count = 8;
    char name[64] = {};
    const H5Z_filter_t id =
        H5Pget_filter2(create.get(), unsigned(i), &flags, &count, values, sizeof name, name, &config);
    if (id < 0) fail_damaged(where, "the dataset's filter pipeline");
    const std::string shown = as_utf8(name);  // the name comes from the file: damaged bytes stay printable
    TESSERA_CHECK(
        count <= 8 && known_filter_parameters(id, count, values) && (flags & ~unsigned(H5Z_FLAG_OPTIONAL)) == 0, where,
        ": filter ", i + 1, " of its pipeline is id ", id, " ('", shown, "') with ", count,
        " parameters, which is none of the HDF5 filters Tessera reads (gzip, shuffle, "
        "fletcher32, szip) as written; ",
        kDamagedFileFix,
        " (a sound file with another filter: re-save it with gzip or no compression, e.g. with cmapPy)");
    unsigned filter_config = 0;
    TESSERA_CHECK(H5Zfilter_avail(id) > 0 && H5Zget_filter_info(id, &filter_config) >= 0 &&
                      (filter_config & H5Z_FILTER_CONFIG_DECODE_ENABLED),
                  where, ": compressed with the '", shown, "' filter (id ", id,
                  "), which this HDF5 library cannot decode; re-save the file with gzip or no compression");
  }

  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points < 0) fail_damaged(where, "the dataset's shape");
  const hsize_t element = H5Tis_variable_str(type.get()) > 0 ? 0 : hsize_t(H5Tget_size(type.get()));
  const hsize_t stored = H5Dget_storage_size(dataset);
  const H5D_layout_t layout = H5Pget_layout(create.get());
  if (layout < 0) fail_damaged(where, "the dataset's storage layout");
  if (element == 0 || points == 0) return;  // variable-length values live in the global heap; nothing to size
  const hsize_t needed = hsize_t(points) * element;
  if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) {
    // Not yet allocated (0) reads as the fill value; otherwise the bytes are all there.
    TESSERA_CHECK(stored == 0 || stored == needed, where, ": stores ", stored, " bytes where its shape and type need ",
                  needed, "; ", kDamagedFileFix);
    TESSERA_CHECK(filters == 0, where, ": a filter pipeline on unchunked storage, which HDF5 never writes; ",
                  kDamagedFileFix);
    return;
  }
  if (layout != H5D_CHUNKED) return;
  if (filters > 0) return verify_compressed_chunks(dataset, where);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  hsize_t chunk[H5S_MAX_RANK] = {};
  if (rank < 1 || H5Pget_chunk(create.get(), rank, chunk) != rank) fail_damaged(where, "the dataset's chunk shape");
  hsize_t chunk_bytes = element;
  for (int d = 0; d < rank; ++d) chunk_bytes *= chunk[d];
  hsize_t chunks = 0;
  if (H5Dget_num_chunks(dataset, space.get(), &chunks) < 0) fail_damaged(where, "the dataset's chunk index");
  TESSERA_CHECK(stored == chunks * chunk_bytes, where, ": its ", chunks, " unfiltered chunks of ", chunk_bytes,
                " bytes each occupy ", stored,
                " bytes in the file; a chunk is shorter than its shape needs (its filter pipeline may have been "
                "lost); ",
                kDamagedFileFix);
}

}  // namespace tessera::io::hdf5
