// Logging that says which rank speaks.
//
// Every line is "[tessera r<rank>/<size> <elapsed>s] LEVEL message" on stderr, so interleaved output of many
// ranks in one Slurm log can be told apart. info() prints on rank 0 only (the usual case: one line per job,
// not per rank); any_rank_*() prints on whichever rank calls it. Thread-safe per line.
#pragma once

#include <functional>
#include <string>

#include "engine/error.h"

namespace tessera::engine {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };

// Set once at start-up (rank and size come from MPI_COMM_WORLD). Messages below `level` are dropped.
void init_logging(int rank, int size, LogLevel level = LogLevel::kInfo);
void set_log_level(LogLevel level);
LogLevel log_level();
LogLevel parse_log_level(const std::string& name);  // "debug" | "info" | "warn" | "error" | "quiet"

void log_line(LogLevel level, const std::string& message);  // this rank, unconditionally of rank

// Where log lines go instead of stderr: a host that embeds the engine (the Python package sends them to Python's
// `logging`) installs a sink; an empty function restores stderr. The sink gets the level and the message without
// the "[tessera r<rank>/<size> <elapsed>s]" prefix, after the level filter, outside the logger's lock.
using LogSink = std::function<void(LogLevel level, const std::string& message)>;
void set_log_sink(LogSink sink);
double seconds_since_start();
int log_rank();  // the rank given to init_logging

template <typename... Parts>
void info(const Parts&... parts) {  // rank 0 only
  if (log_rank() == 0) log_line(LogLevel::kInfo, detail::concat(parts...));
}
template <typename... Parts>
void warn(const Parts&... parts) {  // rank 0 only
  if (log_rank() == 0) log_line(LogLevel::kWarn, detail::concat(parts...));
}
// warn(), but only the first time this process passes `key`: for a condition that a repeated call (every
// cross-validation fold) would otherwise report once per call.
bool first_time(const std::string& key);
template <typename... Parts>
void warn_once(const std::string& key, const Parts&... parts) {
  if (log_rank() == 0 && first_time(key)) log_line(LogLevel::kWarn, detail::concat(parts...));
}
template <typename... Parts>
void debug(const Parts&... parts) {  // every rank
  log_line(LogLevel::kDebug, detail::concat(parts...));
}
template <typename... Parts>
void any_rank_warn(const Parts&... parts) {
  log_line(LogLevel::kWarn, detail::concat(parts...));
}
template <typename... Parts>
void any_rank_error(const Parts&... parts) {
  log_line(LogLevel::kError, detail::concat(parts...));
}

}  // namespace tessera::engine
