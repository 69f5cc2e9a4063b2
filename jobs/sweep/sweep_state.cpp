#include "jobs/sweep/sweep_state.h"

#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "io/atomic_file.h"

namespace tessera::jobs::sweep {

namespace fs = std::filesystem;

const engine::NameTable<PointState>& name_table(PointState) {
  static const engine::NameTable<PointState> table{
      {PointState::kMissing, "missing"}, {PointState::kDone, "done"}, {PointState::kFailed, "failed"}};
  return table;
}

fs::path status_path(const fs::path& dir, int index) { return dir / "status" / std::to_string(index); }
fs::path point_dir(const fs::path& dir, int index) { return dir / ("point-" + std::to_string(index)); }

PointStatus read_status(const fs::path& dir, int index) {
  const fs::path path = status_path(dir, index);
  PointStatus status;
  if (!fs::exists(path)) return status;
  std::ifstream in(path);
  TESSERA_CHECK(in, "status file '", path.string(), "' exists but cannot be read: check its permissions");
  std::string word;
  in >> word;
  std::getline(in, status.detail);
  if (!status.detail.empty() && status.detail.front() == ' ') status.detail.erase(0, 1);
  const auto state = name_table(PointState{}).find(word);
  TESSERA_CHECK(state && *state != PointState::kMissing, "status file '", path.string(), "' holds '", word,
                "', not done or failed; delete it to rerun the point");
  status.state = *state;
  return status;
}

void write_status(const fs::path& dir, int index, PointState state, const std::string& detail) {
  TESSERA_CHECK(state != PointState::kMissing, "write_status: a point cannot be written as missing");
  std::string line = detail;
  for (auto& c : line) c = (c == '\n' || c == '\r') ? ' ' : c;  // one line per status file
  io::write_bytes_atomically(status_path(dir, index), std::string(name_table(state).name(state)) + " " + line + "\n");
}

SweepCounts count_points(const fs::path& dir, int num_points) {
  SweepCounts counts;
  for (int i = 0; i < num_points; ++i) {
    switch (read_status(dir, i).state) {
      case PointState::kDone:
        counts.done.push_back(i);
        break;
      case PointState::kFailed:
        counts.failed.push_back(i);
        break;
      case PointState::kMissing:
        counts.missing.push_back(i);
        break;
    }
  }
  return counts;
}

std::string index_ranges(const std::vector<int>& indices) {
  std::ostringstream out;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (i > 0) out << ",";
    out << indices[i];
    if (j > i) out << "-" << indices[j];
    i = j + 1;
  }
  return out.str();
}

}  // namespace tessera::jobs::sweep
