// Checkpoints of the matrix-free conjugate-gradient solver (solvers/ntk/solve/matrix_free.h), so that a preempted
// run resumes where it stopped and finishes bit-identical to an uninterrupted run with the same rank count.
//
// Files. Each rank writes its own shard "<path>.<serial>.r<rank>-of-<ranks>.h5" (its rows of X, R, P), each
// through io::write_atomically; once every shard is on disk, rank 0 atomically replaces the manifest "<path>"
// (the fingerprint, the serial number and the batch/iteration), and only then do the ranks delete the shards of
// the previous serial. The manifest's rename is the commit: a crash at any point leaves the previous complete
// checkpoint or the new one. `path` must be on a file system that every rank sees.
//
// Both kinds of file are io/checkpoint.h checkpoints: the manifest holds the fingerprint and a "progress" section,
// each shard a fingerprint naming its manifest's serial and its rank and rows, and "state" and "columns" sections.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/hash.h"

namespace tessera::solvers::ntk {

// What identifies the problem a checkpoint belongs to. Resuming under a different fingerprint is an error.
struct CgFingerprint {
  std::int64_t n = 0;        // kernel size N
  std::int64_t columns = 0;  // m, right-hand sides (genes)
  std::int64_t ranks = 0;
  std::int64_t num_centres = 0;  // Nystrom centres actually used (0: plain CG)
  std::int64_t tile_size = 0;
  std::int64_t batch_columns = 0;  // right-hand sides solved together
  double lambda = 0;
  double tolerance = 0;
  double preconditioner_shift = 0;  // as requested (< 0: automatic)
  std::uint64_t seed = 0;
  std::uint64_t y_hash = 0;      // of Y's bytes, rank by rank
  Eigen::MatrixXd kernel_probe;  // a few kernel entries; compared to 1e-12 relative
};

// The solver's state, this rank's share. Column-major blocks of this rank's block_range rows.
struct CgState {
  std::int64_t batch = 0;                 // column batch in progress
  std::int64_t iteration = 0;             // iterations done in that batch
  std::int64_t total_iterations = 0;      // iterations over all batches so far
  std::int64_t max_batch_iterations = 0;  // the most iterations any finished or current batch took
  std::vector<std::int64_t> active;       // global columns of the batch still iterating
  Eigen::MatrixXd x;                      // rows x m: the solution so far
  Eigen::MatrixXd r, p;                   // rows x batch_columns; the first active.size() columns are live
  std::vector<double> rz;                 // r_j . P^-1 r_j per active column
  std::vector<std::int64_t> status;       // per column: 0 not finished, 1 converged, 2 CG breakdown
  std::vector<std::int64_t> column_iterations;
  std::vector<double> column_residuals;  // ||r_j|| / ||y_j||, last computed
};

class CgCheckpoint {
 public:
  // Local: reads the serial number of an existing manifest (if any), so that save() removes its shards.
  CgCheckpoint(const engine::Context& ctx, std::filesystem::path path);

  bool exists() const;  // local
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path shard_path(std::int64_t serial, int rank) const;

  // Collective: reads the fingerprint stored in the manifest (every rank reads the same file); nullopt when
  // there is no manifest. Throws (on every rank) when the file is unreadable.
  std::optional<CgFingerprint> stored_fingerprint() const;

  // Collective: writes the checkpoint as described above. A failure on any rank throws on every rank.
  void save(const CgFingerprint& fingerprint, const CgState& state);

  // Collective: reads this rank's share; throws on every rank when the manifest's fingerprint differs from
  // `expected`, a shard is missing or a shape does not fit.
  CgState load(const CgFingerprint& expected) const;

 private:
  const engine::Context& ctx_;
  std::filesystem::path path_;
  std::int64_t serial_ = -1;  // the serial the manifest on disk names, -1 when none
};

}  // namespace tessera::solvers::ntk
