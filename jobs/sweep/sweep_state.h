// The state of a planned sweep, kept in files only (no sacct), so that it survives requeues and is read the same
// on a login node and inside a job:
//   <dir>/sweep.ini           copy of the sweep file (what `run` executes)
//   <dir>/points.csv          index, then one column per grid parameter
//   <dir>/status/<i>          "done <seconds>" or "failed <message>", written atomically when point i ends
//   <dir>/point-<i>/          the point's own output folder (--out)
//   <dir>/array.sbatch, collect.sbatch, logs/, results.csv
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/parameters.h"

namespace tessera::jobs::sweep {

enum class PointState { kMissing, kDone, kFailed };
// missing | done | failed: the words of the status files (done, failed) and of the reports.
const engine::NameTable<PointState>& name_table(PointState);

struct PointStatus {
  PointState state = PointState::kMissing;
  std::string detail;  // seconds for done, the message for failed
};

struct SweepCounts {
  std::vector<int> done, failed, missing;
};

std::filesystem::path status_path(const std::filesystem::path& dir, int index);
std::filesystem::path point_dir(const std::filesystem::path& dir, int index);

// Reads status/<i>; a missing file is kMissing, an unreadable or unknown one an Error naming it.
PointStatus read_status(const std::filesystem::path& dir, int index);
// Writes status/<i> atomically (temporary + rename): readers see the old state or the new, never half a line.
void write_status(const std::filesystem::path& dir, int index, PointState state, const std::string& detail);

SweepCounts count_points(const std::filesystem::path& dir, int num_points);

// {0,1,2,5,7,8} -> "0-2,5,7-8" (the syntax of sbatch --array).
std::string index_ranges(const std::vector<int>& indices);

}  // namespace tessera::jobs::sweep
