#include "solvers/ntk/solve/cg_checkpoint.h"

#include <cinttypes>
#include <cstdio>
#include <system_error>
#include <utility>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/checkpoint.h"

namespace tessera::solvers::ntk {

namespace {

// Version 1 was the same content in a layout of its own, before io/checkpoint.h.
const io::CheckpointKind kManifestKind{"tessera-matrix-free-cg", 2, "matrix-free CG"};
const io::CheckpointKind kShardKind{"tessera-matrix-free-cg-shard", 2, "matrix-free CG shard"};
constexpr const char* kFix =
    "resume with the options it was written with, or delete it (or set resume=false) to start over";

io::Fingerprint to_fingerprint(const CgFingerprint& f) {
  io::Fingerprint out;
  out.integer("n", f.n, "N (kernel size)").integer("columns", f.columns, "m (right-hand sides)");
  out.integer("ranks", f.ranks).integer("num_centres", f.num_centres).integer("tile_size", f.tile_size);
  out.integer("batch_columns", f.batch_columns, "max_rhs_batch (batch columns)");
  out.number("lambda", f.lambda).number("tolerance", f.tolerance);
  out.number("preconditioner_shift", f.preconditioner_shift).text("seed", std::to_string(f.seed));
  out.hash("y_hash", f.y_hash, "hash of Y");
  out.matrix("kernel_probe", f.kernel_probe, 1e-12, "kernel (another kernel, inputs or kernel parameters)");
  return out;
}

// The stored fingerprint, parsed back (a resumed run adopts the stored batch width before it builds its own).
CgFingerprint read_fingerprint(const io::CheckpointReader& in) {
  auto parsed = [&](const char* key, const char* format, auto* value) {
    const std::string text = in.fingerprint_text(key);
    char end = 0;
    if (std::sscanf(text.c_str(), format, value, &end) != 1)
      in.fail(detail::concat("has fingerprint ", key, " = '", text, "', which is not a number"));
  };
  CgFingerprint f;
  parsed("n", "%" SCNd64 "%c", &f.n);
  parsed("columns", "%" SCNd64 "%c", &f.columns);
  parsed("ranks", "%" SCNd64 "%c", &f.ranks);
  parsed("num_centres", "%" SCNd64 "%c", &f.num_centres);
  parsed("tile_size", "%" SCNd64 "%c", &f.tile_size);
  parsed("batch_columns", "%" SCNd64 "%c", &f.batch_columns);
  parsed("lambda", "%lf%c", &f.lambda);
  parsed("tolerance", "%lf%c", &f.tolerance);
  parsed("preconditioner_shift", "%lf%c", &f.preconditioner_shift);
  parsed("seed", "%" SCNu64 "%c", &f.seed);
  parsed("y_hash", "%" SCNx64 "%c", &f.y_hash);
  f.kernel_probe = in.get_matrix("fingerprint", "kernel_probe");
  return f;
}

// What ties a shard to its manifest: a shard of another serial, rank count or rows is refused like a foreign file.
io::Fingerprint shard_fingerprint(std::int64_t serial, const engine::Context& ctx, const engine::BlockRange& rows) {
  io::Fingerprint f;
  f.integer("serial", serial).integer("rank", ctx.rank()).integer("ranks", ctx.size());
  f.integer("row_begin", rows.begin).integer("row_end", rows.end);
  return f;
}

}  // namespace

CgCheckpoint::CgCheckpoint(const engine::Context& ctx, std::filesystem::path path) : ctx_(ctx), path_(std::move(path)) {
  TESSERA_CHECK(!path_.empty(), "CgCheckpoint: empty checkpoint path");
  if (!exists()) return;
  try {
    const io::CheckpointReader in(path_, kManifestKind, kFix);
    serial_ = in.get_int("progress", "serial");
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
  const bool anywhere = engine::allreduce_any(ctx_, here);
  engine::run_agreeing(ctx_, "finding the checkpoint", [&] {
    TESSERA_CHECK(here == anywhere, "checkpoint '", path_.string(), "' is not visible from rank ", ctx_.rank(),
                  "; put checkpoint_path on a file system shared by all ranks");
  });
  if (!here) return std::nullopt;
  CgFingerprint f;
  engine::run_agreeing(ctx_, "reading the checkpoint manifest",
                       [&] { f = read_fingerprint(io::CheckpointReader(path_, kManifestKind, kFix)); });
  return f;
}

void CgCheckpoint::save(const CgFingerprint& fingerprint, const CgState& state) {
  const std::int64_t serial = serial_ + 1;
  const engine::BlockRange mine = engine::block_range(fingerprint.n, ctx_.size(), ctx_.rank());
  engine::run_agreeing(ctx_, "writing a checkpoint shard", [&] {
    io::write_checkpoint(shard_path(serial, ctx_.rank()), kShardKind, shard_fingerprint(serial, ctx_, mine),
                         [&](io::CheckpointWriter& out) {
                           out.put_int("state", "batch", state.batch);
                           out.put_int("state", "iteration", state.iteration);
                           out.put_int("state", "total_iterations", state.total_iterations);
                           out.put_int("state", "max_batch_iterations", state.max_batch_iterations);
                           out.put_ints("state", "active", state.active);
                           out.put_numbers("state", "rz", state.rz);
                           out.put_matrix("state", "x", state.x);
                           out.put_matrix("state", "r", state.r);
                           out.put_matrix("state", "p", state.p);
                           out.put_ints("columns", "status", state.status);
                           out.put_ints("columns", "iterations", state.column_iterations);
                           out.put_numbers("columns", "residuals", state.column_residuals);
                         });
  });

  // Every shard is on disk: rank 0 commits them by replacing the manifest.
  engine::run_agreeing(ctx_, "committing the checkpoint manifest", [&] {
    if (!ctx_.is_root()) return;
    io::write_checkpoint(path_, kManifestKind, to_fingerprint(fingerprint), [&](io::CheckpointWriter& out) {
      out.put_int("progress", "serial", serial);
      out.put_int("progress", "ranks", ctx_.size());
      out.put_int("progress", "batch", state.batch);
      out.put_int("progress", "iteration", state.iteration);
    });
  });

  if (serial_ >= 0) {
    std::error_code ignored;  // a leftover shard wastes space but breaks nothing
    std::filesystem::remove(shard_path(serial_, ctx_.rank()), ignored);
  }
  serial_ = serial;
}

CgState CgCheckpoint::load(const CgFingerprint& expected) const {
  const auto stored = stored_fingerprint();
  CgState state;
  engine::run_agreeing(ctx_, "reading a checkpoint shard", [&] {
    TESSERA_CHECK(stored, "no checkpoint at '", path_.string(), "'");
    const io::CheckpointReader manifest(path_, kManifestKind, to_fingerprint(expected), kFix);
    const std::int64_t serial = manifest.get_int("progress", "serial");
    const auto file = shard_path(serial, ctx_.rank());
    const std::string shard_fix = "the checkpoint '" + path_.string() + "' is incomplete; delete it to start over";
    TESSERA_CHECK(std::filesystem::exists(file), "checkpoint shard '", file.string(), "' of manifest '", path_.string(),
                  "' is missing; ", shard_fix);
    const engine::BlockRange mine = engine::block_range(expected.n, ctx_.size(), ctx_.rank());
    const io::CheckpointReader in(file, kShardKind, shard_fingerprint(serial, ctx_, mine), shard_fix);
    state.batch = in.get_int("state", "batch");
    state.iteration = in.get_int("state", "iteration");
    state.total_iterations = in.get_int("state", "total_iterations");
    state.max_batch_iterations = in.get_int("state", "max_batch_iterations");
    state.active = in.get_ints("state", "active");
    state.rz = in.get_numbers("state", "rz");
    state.x = in.get_matrix("state", "x");
    state.r = in.get_matrix("state", "r");
    state.p = in.get_matrix("state", "p");
    state.status = in.get_ints("columns", "status");
    state.column_iterations = in.get_ints("columns", "iterations");
    state.column_residuals = in.get_numbers("columns", "residuals");
    const std::int64_t rows = mine.size(), m = expected.columns, b = expected.batch_columns;
    const auto active = std::int64_t(state.active.size());
    if (!(state.x.rows() == rows && state.x.cols() == m && state.r.rows() == rows && state.r.cols() == b &&
          state.p.rows() == rows && state.p.cols() == b && std::int64_t(state.status.size()) == m &&
          std::int64_t(state.column_iterations.size()) == m && std::int64_t(state.column_residuals.size()) == m &&
          active <= b && state.rz.size() == state.active.size()))
      in.fail(detail::concat("has blocks whose shapes do not fit ", rows, " rows x ", m, " columns in batches of ", b));
  });
  return state;
}

}  // namespace tessera::solvers::ntk
