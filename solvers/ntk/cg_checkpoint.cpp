#include "solvers/ntk/cg_checkpoint.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/atomic_file.h"
#include "io/hdf5_file.h"

namespace tessera::solvers::ntk {

namespace {

constexpr const char* kFormat = "tessera-matrix-free-cg";
constexpr double kVersion = 1;

std::string hex(std::uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

std::uint64_t parse_hex(const std::string& text, const std::string& what) {
  std::uint64_t value = 0;
  TESSERA_CHECK(!text.empty() && text.size() <= 16 && std::sscanf(text.c_str(), "%" SCNx64, &value) == 1, what,
                ": '", text, "' is not a 64-bit hexadecimal number");
  return value;
}

std::int64_t read_int(const io::Hdf5Reader& in, const std::string& object, const std::string& name) {
  const double value = in.read_number_attribute(object, name);
  TESSERA_CHECK(std::isfinite(value) && value == std::floor(value), "checkpoint attribute ", object, "@", name,
                " = ", value, " is not an integer");
  return std::int64_t(value);
}

void check_format(const io::Hdf5Reader& in, const std::filesystem::path& file, const std::string& object) {
  const std::string format = in.read_string_attribute(object, "format");
  TESSERA_CHECK(format == kFormat, "'", file.string(), "' is not a matrix-free CG checkpoint (format '", format,
                "'); point checkpoint_path elsewhere");
  const double version = in.read_number_attribute(object, "version");
  TESSERA_CHECK(version == kVersion, "checkpoint '", file.string(), "' has version ", version,
                ", this build reads version ", kVersion, "; finish the run with the build that wrote it");
}

void write_fingerprint(io::Hdf5Writer& out, const CgFingerprint& f) {
  const std::string g = "/fingerprint";
  out.write_attribute(g, "version", kVersion);
  out.write_attribute(g, "n", double(f.n));
  out.write_attribute(g, "columns", double(f.columns));
  out.write_attribute(g, "ranks", double(f.ranks));
  out.write_attribute(g, "num_centres", double(f.num_centres));
  out.write_attribute(g, "tile_size", double(f.tile_size));
  out.write_attribute(g, "batch_columns", double(f.batch_columns));
  out.write_attribute(g, "lambda", f.lambda);
  out.write_attribute(g, "tolerance", f.tolerance);
  out.write_attribute(g, "preconditioner_shift", f.preconditioner_shift);
  out.write_attribute(g, "seed", std::to_string(f.seed));
  out.write_attribute(g, "y_hash", hex(f.y_hash));
  out.write_matrix(g + "/kernel_probe", f.kernel_probe);
}

CgFingerprint read_fingerprint(const io::Hdf5Reader& in) {
  const std::string g = "/fingerprint";
  CgFingerprint f;
  f.n = read_int(in, g, "n");
  f.columns = read_int(in, g, "columns");
  f.ranks = read_int(in, g, "ranks");
  f.num_centres = read_int(in, g, "num_centres");
  f.tile_size = read_int(in, g, "tile_size");
  f.batch_columns = read_int(in, g, "batch_columns");
  f.lambda = in.read_number_attribute(g, "lambda");
  f.tolerance = in.read_number_attribute(g, "tolerance");
  f.preconditioner_shift = in.read_number_attribute(g, "preconditioner_shift");
  f.seed = std::stoull(in.read_string_attribute(g, "seed"));
  f.y_hash = parse_hex(in.read_string_attribute(g, "y_hash"), "checkpoint fingerprint y_hash");
  f.kernel_probe = in.read_matrix(g + "/kernel_probe");
  return f;
}

std::vector<std::int64_t> padded(const std::vector<std::int64_t>& values, std::size_t size) {
  std::vector<std::int64_t> out(values);
  out.resize(std::max(size, out.size()), -1);
  return out;
}

std::vector<double> padded(const std::vector<double>& values, std::size_t size) {
  std::vector<double> out(values);
  out.resize(std::max(size, out.size()), 0.0);
  return out;
}

}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t bytes, std::uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

void agree_on_error(const engine::Context& ctx, const std::string& local_error, const std::string& what) {
  if (!engine::allreduce_any(ctx, !local_error.empty())) return;
  if (!local_error.empty()) throw Error(local_error);
  TESSERA_FAIL(what, " failed on another rank; see that rank's error");
}

std::string CgFingerprint::differences(const CgFingerprint& stored) const {
  std::string out;
  auto field = [&](const char* name, auto here, auto there) {
    if (here != there)
      out += detail::concat("  ", name, ": ", there, " in the checkpoint, ", here, " in this run\n");
  };
  field("N (kernel size)", n, stored.n);
  field("m (right-hand sides)", columns, stored.columns);
  field("ranks", ranks, stored.ranks);
  field("num_centres", num_centres, stored.num_centres);
  field("tile_size", tile_size, stored.tile_size);
  field("max_rhs_batch (batch columns)", batch_columns, stored.batch_columns);
  field("lambda", lambda, stored.lambda);
  field("tolerance", tolerance, stored.tolerance);
  field("preconditioner_shift", preconditioner_shift, stored.preconditioner_shift);
  field("seed", seed, stored.seed);
  field("hash of Y", hex(y_hash), hex(stored.y_hash));
  bool same_kernel = kernel_probe.rows() == stored.kernel_probe.rows() &&
                     kernel_probe.cols() == stored.kernel_probe.cols();
  if (same_kernel) {
    const double scale = std::max(kernel_probe.cwiseAbs().maxCoeff(), 1e-300);
    same_kernel = (kernel_probe - stored.kernel_probe).cwiseAbs().maxCoeff() <= 1e-12 * scale;
  }
  if (!same_kernel) out += "  kernel: sample entries differ (another kernel, inputs or kernel parameters)\n";
  return out;
}

CgCheckpoint::CgCheckpoint(const engine::Context& ctx, std::filesystem::path path)
    : ctx_(ctx), path_(std::move(path)) {
  TESSERA_CHECK(!path_.empty(), "CgCheckpoint: empty checkpoint path");
  if (!exists()) return;
  try {
    const io::Hdf5Reader in(path_);
    serial_ = read_int(in, "/checkpoint", "serial");
  } catch (const std::exception&) {
    serial_ = -1;  // unreadable: overwritten by the next save(); its shards cannot be found to remove
  }
}

bool CgCheckpoint::exists() const { return std::filesystem::exists(path_); }

std::filesystem::path CgCheckpoint::shard_path(std::int64_t serial, int rank) const {
  return path_.string() + "." + std::to_string(serial) + ".r" + std::to_string(rank) + "-of-" +
         std::to_string(ctx_.size()) + ".h5";
}

std::optional<CgFingerprint> CgCheckpoint::stored_fingerprint() const {
  const bool here = exists();
  agree_on_error(ctx_, here == engine::allreduce_any(ctx_, here) ? "" :
                 detail::concat("checkpoint '", path_.string(), "' is not visible from rank ", ctx_.rank(),
                                "; put checkpoint_path on a file system shared by all ranks"),
                 "finding the checkpoint");
  if (!here) return std::nullopt;
  std::string error;
  CgFingerprint f;
  try {
    const io::Hdf5Reader in(path_);
    check_format(in, path_, "/checkpoint");
    f = read_fingerprint(in);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_on_error(ctx_, error, "reading the checkpoint manifest");
  return f;
}

void CgCheckpoint::save(const CgFingerprint& fingerprint, const CgState& state) {
  const std::int64_t serial = serial_ + 1;
  const engine::BlockRange mine = engine::block_range(fingerprint.n, ctx_.size(), ctx_.rank());
  std::string error;
  try {
    io::Hdf5Writer out(shard_path(serial, ctx_.rank()));
    out.write_attribute("/shard", "format", std::string(kFormat));
    out.write_attribute("/shard", "version", kVersion);
    out.write_attribute("/shard", "serial", double(serial));
    out.write_attribute("/shard", "rank", double(ctx_.rank()));
    out.write_attribute("/shard", "ranks", double(ctx_.size()));
    out.write_attribute("/shard", "row_begin", double(mine.begin));
    out.write_attribute("/shard", "row_end", double(mine.end));
    out.write_attribute("/state", "version", kVersion);
    out.write_attribute("/state", "batch", double(state.batch));
    out.write_attribute("/state", "iteration", double(state.iteration));
    out.write_attribute("/state", "total_iterations", double(state.total_iterations));
    out.write_attribute("/state", "max_batch_iterations", double(state.max_batch_iterations));
    out.write_attribute("/state", "active_count", double(state.active.size()));
    // Vectors are padded to the batch width: HDF5 datasets of zero length are best avoided.
    const auto width = std::size_t(std::max<std::int64_t>(1, fingerprint.batch_columns));
    out.write_ints("/state/active", padded(state.active, width));
    out.write_vector("/state/rz", padded(state.rz, width));
    out.write_matrix("/state/x", state.x);
    out.write_matrix("/state/r", state.r);
    out.write_matrix("/state/p", state.p);
    out.write_ints("/columns/status", state.status);
    out.write_ints("/columns/iterations", state.column_iterations);
    out.write_vector("/columns/residuals", state.column_residuals);
    out.close(io::Durability::kFolder);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_on_error(ctx_, error, "writing a checkpoint shard");

  if (ctx_.is_root()) {
    try {
      io::Hdf5Writer out(path_);
      out.write_attribute("/checkpoint", "format", std::string(kFormat));
      out.write_attribute("/checkpoint", "version", kVersion);
      out.write_attribute("/checkpoint", "serial", double(serial));
      out.write_attribute("/checkpoint", "ranks", double(ctx_.size()));
      out.write_attribute("/checkpoint", "batch", double(state.batch));
      out.write_attribute("/checkpoint", "iteration", double(state.iteration));
      write_fingerprint(out, fingerprint);
      out.close(io::Durability::kFolder);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  agree_on_error(ctx_, error, "committing the checkpoint manifest");

  if (serial_ >= 0) {
    std::error_code ignored;  // a leftover shard wastes space but breaks nothing
    std::filesystem::remove(shard_path(serial_, ctx_.rank()), ignored);
  }
  serial_ = serial;
}

CgState CgCheckpoint::load(const CgFingerprint& expected) const {
  const auto stored = stored_fingerprint();
  agree_on_error(ctx_, stored ? "" : detail::concat("no checkpoint at '", path_.string(), "'"),
                 "loading the checkpoint");
  const std::string differences = expected.differences(*stored);
  TESSERA_CHECK(differences.empty(), "checkpoint '", path_.string(),
                "' was written for another problem or other options:\n", differences,
                "resume with the options it was written with, or delete it (or set resume=false) to start over");

  CgState state;
  std::string error;
  try {
    const io::Hdf5Reader manifest(path_);
    const std::int64_t serial = read_int(manifest, "/checkpoint", "serial");
    const auto file = shard_path(serial, ctx_.rank());
    TESSERA_CHECK(std::filesystem::exists(file), "checkpoint shard '", file.string(), "' of manifest '",
                  path_.string(), "' is missing; the checkpoint is incomplete, delete it to start over");
    const io::Hdf5Reader in(file);
    check_format(in, file, "/shard");
    const engine::BlockRange mine = engine::block_range(expected.n, ctx_.size(), ctx_.rank());
    TESSERA_CHECK(read_int(in, "/shard", "serial") == serial && read_int(in, "/shard", "rank") == ctx_.rank() &&
                      read_int(in, "/shard", "ranks") == ctx_.size() &&
                      read_int(in, "/shard", "row_begin") == mine.begin &&
                      read_int(in, "/shard", "row_end") == mine.end,
                  "checkpoint shard '", file.string(), "' does not belong to manifest '", path_.string(),
                  "' (serial, rank or rows differ); delete the checkpoint to start over");
    state.batch = read_int(in, "/state", "batch");
    state.iteration = read_int(in, "/state", "iteration");
    state.total_iterations = read_int(in, "/state", "total_iterations");
    state.max_batch_iterations = read_int(in, "/state", "max_batch_iterations");
    const std::int64_t active = read_int(in, "/state", "active_count");
    state.active = in.read_ints("/state/active");
    state.rz = in.read_vector("/state/rz");
    TESSERA_CHECK(active >= 0 && active <= std::int64_t(state.active.size()) &&
                      state.active.size() == state.rz.size(),
                  "checkpoint shard '", file.string(), "': inconsistent active columns");
    state.active.resize(std::size_t(active));
    state.rz.resize(std::size_t(active));
    state.x = in.read_matrix("/state/x");
    state.r = in.read_matrix("/state/r");
    state.p = in.read_matrix("/state/p");
    state.status = in.read_ints("/columns/status");
    state.column_iterations = in.read_ints("/columns/iterations");
    state.column_residuals = in.read_vector("/columns/residuals");
    const std::int64_t rows = mine.size(), m = expected.columns, b = expected.batch_columns;
    TESSERA_CHECK(state.x.rows() == rows && state.x.cols() == m && state.r.rows() == rows && state.r.cols() == b &&
                      state.p.rows() == rows && state.p.cols() == b && std::int64_t(state.status.size()) == m &&
                      std::int64_t(state.column_iterations.size()) == m &&
                      std::int64_t(state.column_residuals.size()) == m && active <= b,
                  "checkpoint shard '", file.string(), "': block shapes do not fit ", rows, " rows x ", m,
                  " columns in batches of ", b);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_on_error(ctx_, error, "reading a checkpoint shard");
  return state;
}

}  // namespace tessera::solvers::ntk
