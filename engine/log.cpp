#include "engine/log.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>

namespace tessera::engine {

namespace {
int g_log_rank = 0;
int g_log_size = 1;
LogLevel g_level = LogLevel::kInfo;
std::mutex g_mutex;
LogSink g_sink;  // guarded by g_mutex
const auto g_start = std::chrono::steady_clock::now();

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
    default:
      return "";
  }
}
}  // namespace

void init_logging(int rank, int size, LogLevel level) {
  g_log_rank = rank;
  g_log_size = size;
  g_level = level;
}

int log_rank() { return g_log_rank; }
void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

LogLevel parse_log_level(const std::string& name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  if (name == "quiet") return LogLevel::kQuiet;
  TESSERA_FAIL("unknown log level '", name, "': use debug, info, warn, error or quiet");
}

double seconds_since_start() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
}

bool first_time(const std::string& key) {
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> lock(g_mutex);
  return seen.insert(key).second;
}

void set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = std::move(sink);
}

void log_line(LogLevel level, const std::string& message) {
  if (level < g_level) return;
  std::unique_lock<std::mutex> lock(g_mutex);
  if (g_sink) {
    // A copy, called unlocked: the sink may take a lock of its own (Python's GIL) that another thread holds
    // while it waits to log.
    const LogSink sink = g_sink;
    lock.unlock();
    sink(level, message);
    return;
  }
  std::fprintf(stderr, "[tessera r%d/%d %8.2fs] %-5s %s\n", g_log_rank, g_log_size, seconds_since_start(),
               level_name(level), message.c_str());
  std::fflush(stderr);
}

}  // namespace tessera::engine
