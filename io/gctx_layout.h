// Private to io/: GCTX's on-disk layout as the two GCTX writers share it, write_gctx (io/gctx.cpp, the whole file
// built in memory on one rank) and GctxSlabWriter (io/gctx_writer.cpp, column slabs written by every rank through
// MPI-IO). Both must give files that read back identically and keep cmapPy's layout, so the names, the chunk shape,
// the checks of the metadata and the metadata writing live once, here (defined in io/gctx.cpp). Not included
// outside io/.
#pragma once

#include <hdf5.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "io/meta_table.h"

namespace tessera::io::gctx_layout {

inline constexpr const char* kMatrixPath = "/0/DATA/0/matrix";  // stored (num_signatures x num_genes), row-major
inline constexpr const char* kRowMetaPath = "/0/META/ROW";
inline constexpr const char* kColMetaPath = "/0/META/COL";
inline constexpr const char* kVersionAttribute = "version";
inline constexpr const char* kVersion = "GCTX1.0";
inline constexpr double kMissingNumber = -666;  // CMap's missing-value marker for numeric metadata

// The chunk shape of /0/DATA/0/matrix: (signatures, genes) per chunk, whole signatures where they fit.
std::array<hsize_t, 2> chunk_shape(std::int64_t signatures, std::int64_t genes, std::size_t element_size,
                                   std::int64_t max_chunk_kb);

// An Error naming `path` and `group_path` unless `table` can be written for `expected` rows: one unique id each,
// storable field names, one value per id, no NUL in text.
void check_table_for_write(const std::filesystem::path& path, const MetaTable& table, std::int64_t expected,
                           const std::string& group_path, const char* what);

// The root attribute version = "GCTX1.0".
void write_version(const std::filesystem::path& path, hid_t file);

// /0/META/ROW or /0/META/COL: the group (creation order tracked), `id` first, then each field in its own type, NaN
// numbers as -666.
void write_meta(const std::filesystem::path& path, hid_t file, const std::string& group_path, const MetaTable& table);

}  // namespace tessera::io::gctx_layout
