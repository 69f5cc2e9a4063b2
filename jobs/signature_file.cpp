#include "jobs/signature_file.h"

#include <fstream>

#include "engine/error.h"
#include "io/gct.h"

namespace tessera::jobs {

namespace {
bool starts_with_hdf5_signature(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in.gcount() == 8 && std::string(magic, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

// True for .gct text; false for GCTX; an Error for anything else.
bool is_gct_text(const std::filesystem::path& path) {
  TESSERA_CHECK(std::filesystem::exists(path), "input file '", path.string(),
                "' does not exist: check the path (a GCTX or GCT file is expected)");
  const std::string extension = path.extension().string();
  if (extension == ".gct") return true;
  TESSERA_CHECK(extension == ".gctx" || extension == ".h5" || extension == ".hdf5" || starts_with_hdf5_signature(path),
                "input file '", path.string(), "' is neither GCTX (.gctx, HDF5) nor GCT (.gct, text): ",
                "convert it, or rename it if the extension is wrong");
  return false;
}
}  // namespace

io::LocalGctx<float> local_block(const engine::Context& ctx, io::GeneMatrix whole) {
  io::LocalGctx<float> local;
  local.signatures = engine::block_range(whole.num_signatures(), ctx.size(), ctx.rank());
  local.values = whole.values.middleCols(local.signatures.begin, local.signatures.size());
  local.rows = std::move(whole.rows);
  local.cols = std::move(whole.cols);
  return local;
}

io::GeneMatrix read_whole_signature_file(const engine::Context& ctx, const std::filesystem::path& path) {
  return is_gct_text(path) ? io::read_gct<float>(path) : io::read_gctx<float>(path, ctx);
}

io::LocalGctx<float> read_signature_file(const engine::Context& ctx, const std::filesystem::path& path) {
  if (is_gct_text(path)) {
    return local_block(ctx, io::read_gct<float>(path));
  }
  return io::read_gctx_local<float>(path, ctx);
}

}  // namespace tessera::jobs
