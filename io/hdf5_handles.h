// Private to io/: RAII owners for HDF5 identifiers and the few helpers that io/hdf5_file.cpp and io/gctx.cpp
// share (error-stack capture, typed string I/O); what a reader checks before reading is in io/hdf5_checks.h,
// how a file is written in io/hdf5_memory_file.h. Not installed, not included outside io/.
//
// Error convention: a failing HDF5 call is turned into tessera::Error by the caller, with the file, the
// dataset path and a hint. HDF5 would otherwise print its own error stack to stderr; SilenceHdf5Errors turns
// that off for the scope of a public call, and hdf5_error_detail() recovers the innermost message (e.g.
// "truncated file: eof = ...") so that it can go into the Error instead.
#pragma once

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/error.h"

namespace tessera::io::hdf5 {

// Owns one hid_t and closes it with Close. Negative ids are "none" (that is how HDF5 reports failure).
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, -1);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Gives up ownership, for a final close whose status must be checked (H5Fclose flushes).
  hid_t release() { return std::exchange(id_, -1); }
  void reset() {
    if (id_ >= 0) Close(id_);  // a failing close cannot be reported from a destructor; HDF5 logs nothing (silenced)
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using PropertyList = Handle<H5Pclose>;
using Attribute = Handle<H5Aclose>;

// Turns off HDF5's automatic error-stack printing for its lifetime and restores the previous handler after.
class SilenceHdf5Errors {
 public:
  SilenceHdf5Errors() {
    H5Eget_auto2(H5E_DEFAULT, &previous_, &previous_data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~SilenceHdf5Errors() { H5Eset_auto2(H5E_DEFAULT, previous_, previous_data_); }
  SilenceHdf5Errors(const SilenceHdf5Errors&) = delete;
  SilenceHdf5Errors& operator=(const SilenceHdf5Errors&) = delete;

 private:
  H5E_auto2_t previous_ = nullptr;
  void* previous_data_ = nullptr;
};

// The innermost message on HDF5's error stack: the most specific cause. Call it right after the failing
// call; the next HDF5 API call clears the stack.
inline std::string hdf5_error_detail() {
  std::string innermost;
  auto visit = [](unsigned depth, const H5E_error2_t* error, void* out) -> herr_t {
    // Walking upward, depth 0 is the innermost frame.
    if (depth == 0 && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, visit, &innermost);
  return innermost.empty() ? "no detail from HDF5" : innermost;
}

// A readable name for a stored type, for error messages: "float32", "int16", "fixed-length string (8 bytes)".
inline std::string describe_type(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return "float" + std::to_string(8 * size);
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * size);
    case H5T_STRING:
      return H5Tis_variable_str(type) > 0 ? "variable-length string"
                                          : "fixed-length string (" + std::to_string(size) + " bytes)";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_REFERENCE:
      return "reference";
    case H5T_BITFIELD:
      return "bitfield";
    default:
      return "unknown type";
  }
}

// Padding removal for one fixed-length string: HDF5 keeps the stored bytes. NUL-padded and NUL-terminated
// strings end at the first NUL; space-padded ones (MATLAB-written CMap files) also lose trailing spaces.
inline std::string strip_padding(const char* bytes, std::size_t size, H5T_str_t pad) {
  std::size_t length = 0;
  while (length < size && bytes[length] != '\0') ++length;
  if (pad == H5T_STR_SPACEPAD)
    while (length > 0 && bytes[length - 1] == ' ') --length;
  return std::string(bytes, length);
}

// Reads the selection of a string-typed dataset or attribute: fixed-length (any padding) or variable-length.
// `read(memory_type, buffer)` performs the H5Dread/H5Aread and returns its status; `count` is the number of
// elements selected; `space` is the memory dataspace (for freeing variable-length buffers). Returns false when
// the read failed (the caller reports it with hdf5_error_detail()).
template <typename ReadFn>
bool read_string_values(hid_t file_type, std::size_t count, hid_t space, ReadFn&& read, std::vector<std::string>& out) {
  out.clear();
  if (count == 0) return true;  // nothing to read (and no buffer to hand HDF5)
  out.reserve(count);
  // Same character set as stored: HDF5 refuses to convert between ASCII and UTF-8, and we keep bytes as-is.
  const H5T_cset_t cset = H5Tget_cset(file_type);
  if (H5Tis_variable_str(file_type) > 0) {
    Datatype memory_type(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory_type.get(), H5T_VARIABLE);
    H5Tset_cset(memory_type.get(), cset);
    std::vector<char*> pointers(count, nullptr);
    if (read(memory_type.get(), static_cast<void*>(pointers.data())) < 0) return false;
    for (const char* p : pointers) out.emplace_back(p != nullptr ? p : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type.get(), space, H5P_DEFAULT, pointers.data());
#else
    H5Dvlen_reclaim(memory_type.get(), space, H5P_DEFAULT, pointers.data());
#endif
    return true;
  }
  // Fixed-length: read the raw padded bytes with the stored type, then strip the padding ourselves so that
  // NUL- and space-padded files give the same text.
  const std::size_t size = H5Tget_size(file_type);
  const H5T_str_t pad = H5Tget_strpad(file_type);
  Datatype memory_type(H5Tcopy(file_type));
  std::vector<char> bytes(count * size + 1, '\0');
  if (read(memory_type.get(), static_cast<void*>(bytes.data())) < 0) return false;
  for (std::size_t i = 0; i < count; ++i) out.push_back(strip_padding(bytes.data() + i * size, size, pad));
  return true;
}

// A fixed-length, NUL-padded string type wide enough for the longest value (at least 1 byte: HDF5 does not
// allow 0), and the values packed into one buffer of that width. This is what cmapPy writes. The character set
// is ASCII, or UTF-8 when a value has a byte above 127 (readers hand Tessera UTF-8 text), so that h5py and
// cmapPy decode such values as the text they are.
struct FixedStrings {
  Datatype type;
  std::vector<char> bytes;
};

inline FixedStrings pack_fixed_strings(const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  FixedStrings packed{Datatype(H5Tcopy(H5T_C_S1)), std::vector<char>(values.size() * width + 1, '\0')};
  H5Tset_size(packed.type.get(), width);
  H5Tset_strpad(packed.type.get(), H5T_STR_NULLPAD);
  const bool ascii = std::all_of(values.begin(), values.end(), [](const std::string& v) {
    return std::all_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  });
  if (!ascii) H5Tset_cset(packed.type.get(), H5T_CSET_UTF8);
  for (std::size_t i = 0; i < values.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), packed.bytes.begin() + std::ptrdiff_t(i * width));
  return packed;
}

}  // namespace tessera::io::hdf5
