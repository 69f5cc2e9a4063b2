// Reading a signature file of either format, by its name: .gctx (HDF5) or .gct (text).
#pragma once

#include <filesystem>

#include "engine/context.h"
#include "io/gctx.h"

namespace tessera::jobs {

// Collective: every rank ends with all metadata and its own block of signatures. A GCT file is text, so every
// rank parses it whole and keeps its block; a GCTX file is read slab by slab.
io::LocalGctx<float> read_signature_file(const engine::Context& ctx, const std::filesystem::path& path);

}  // namespace tessera::jobs

namespace tessera::jobs {

// Collective: every rank reads the whole file (for small files such as predictions).
io::GeneMatrix read_whole_signature_file(const engine::Context& ctx, const std::filesystem::path& path);

// Local: keeps this rank's block of signatures of a matrix every rank holds whole.
io::LocalGctx<float> local_block(const engine::Context& ctx, io::GeneMatrix whole);

}  // namespace tessera::jobs
