// GCT text format, versions 1.2 and 1.3 (CMap / Broad), read and write.
//
// 1.2: "#1.2", "<nrow>\t<ncol>", header "Name\tDescription\t<sample ids>", then one line per gene.
// 1.3: "#1.3", "<nrow>\t<ncol>\t<nrowmeta>\t<ncolmeta>", header "id\t<row fields>\t<sample ids>", ncolmeta lines
//      of column metadata ("<field>\t-666...\t<values>"), then one line per gene.
// Metadata fields are typed on read as cmapPy does: all-integer -> kInt64, all-numeric -> kFloat64, else
// kString. Errors (bad version line, wrong counts, non-numeric cell, duplicate ids, short line) name the file,
// the line and column, and the problem.
#pragma once

#include <filesystem>

#include "io/gene_matrix.h"

namespace tessera::io {

template <typename Scalar = float>
BasicGeneMatrix<Scalar> read_gct(const std::filesystem::path& path);

enum class GctVersion { k1_2, k1_3 };

// Writes to a temporary name and renames. Version 1.2 keeps only the first row field as Description and no
// column metadata.
template <typename Scalar>
void write_gct(const std::filesystem::path& path, const BasicGeneMatrix<Scalar>& matrix,
               GctVersion version = GctVersion::k1_3);

}  // namespace tessera::io
