#include "engine/progress.h"

#include <cmath>
#include <cstdio>

#include "engine/log.h"

namespace tessera::engine {

std::string format_duration(double seconds) {
  char text[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%dm%02ds", int(seconds / 60), int(seconds) % 60);
  } else {
    std::snprintf(text, sizeof text, "%dh%02dm", int(seconds / 3600), (int(seconds) % 3600) / 60);
  }
  return text;
}

Progress::Progress(std::string label, std::int64_t total, std::string unit, double interval_seconds)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      interval_(interval_seconds),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

std::string Progress::line(std::int64_t done) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
  const double pct = total_ > 0 ? 100.0 * double(done) / double(total_) : 100.0;
  const double eta = rate > 0 ? double(total_ - done) / rate : NAN;
  char text[256];
  std::snprintf(text, sizeof text, "%s: %lld/%lld (%.1f%%), %.3g %s/s, elapsed %s, ETA %s", label_.c_str(),
                (long long)done, (long long)total_, pct, rate, unit_.c_str(), format_duration(elapsed).c_str(),
                done >= total_ ? "0s" : format_duration(eta).c_str());
  return text;
}

void Progress::update(std::int64_t done) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_print_).count() < interval_) return;
  last_print_ = now;
  info(line(done));
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  info(line(done_ < total_ ? done_ : total_));
}

}  // namespace tessera::engine
