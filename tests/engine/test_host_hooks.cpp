// The hooks a host process that embeds the engine uses (the Python package): a log sink instead of stderr, and
// stop handlers that also take SIGINT for as long as a command runs, then give the host its own handlers back.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <utility>
#include <vector>

#include "engine/log.h"
#include "engine/signals.h"

namespace tessera::engine {
namespace {

std::vector<std::pair<LogLevel, std::string>> g_lines;
int g_host_signal = 0;
extern "C" void host_handler(int number) { g_host_signal = number; }

TEST(LogSink, ReceivesTheLinesAboveTheLevelWithoutThePrefixUntilRemoved) {
  set_log_level(LogLevel::kInfo);
  set_log_sink([](LogLevel level, const std::string& message) { g_lines.emplace_back(level, message); });
  info("fold ", 3, " of ", 5);
  debug("below the level: dropped");
  any_rank_warn("careful");
  set_log_sink({});
  info("to stderr again");
  ASSERT_EQ(g_lines.size(), 2u);
  EXPECT_EQ(g_lines[0], std::make_pair(LogLevel::kInfo, std::string("fold 3 of 5")));
  EXPECT_EQ(g_lines[1], std::make_pair(LogLevel::kWarn, std::string("careful")));
}

TEST(ScopedStopHandlers, CtrlCSetsTheStopFlagAndTheHostHandlerComesBack) {
  std::signal(SIGINT, host_handler);
  request_stop(SIGUSR1);  // an earlier command's signal must not stop the next one
  {
    const ScopedStopHandlers handlers(StopMode::kAtSafePoints, "impute");
    EXPECT_FALSE(stop_signalled());
    std::raise(SIGINT);
    EXPECT_TRUE(stop_signalled());
    EXPECT_EQ(stop_signal_number(), SIGINT);
    EXPECT_EQ(signal_name(SIGINT), "SIGINT");
    EXPECT_EQ(g_host_signal, 0);  // the host's handler did not see it
  }
  clear_stop();
  std::raise(SIGINT);
  EXPECT_EQ(g_host_signal, SIGINT);
  EXPECT_FALSE(stop_signalled());
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace
}  // namespace tessera::engine
