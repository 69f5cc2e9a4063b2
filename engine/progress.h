// A progress line for long loops, printed by rank 0: "label: done/total (pct%), rate unit/s, ETA".
//
// Local: only the caller's counts are shown (pass global counts when the loop is distributed). Prints at most
// once per `interval_seconds`, and once more at the end, so a tight loop pays one clock read per update.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tessera::engine {

class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit = "items", double interval_seconds = 2.0);

  // Record that the loop has now finished `done` of `total` units (absolute, not an increment).
  void update(std::int64_t done);
  // Print the final line (rate over the whole run).
  void finish();

  // The line that would be printed now; exposed for tests.
  std::string line(std::int64_t done) const;

 private:
  std::string label_;
  std::int64_t total_;
  std::string unit_;
  double interval_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  std::int64_t done_ = 0;
  bool finished_ = false;
};

// "1h02m", "3m05s", "12.3s": a duration short enough for a log line.
std::string format_duration(double seconds);

}  // namespace tessera::engine
