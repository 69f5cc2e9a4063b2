#include "engine/signals.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "engine/collectives.h"
#include "engine/fatal.h"
#include "engine/log.h"

namespace tessera::engine {

namespace {

// Lock-free int atomics are async-signal-safe to load and store; the handler touches nothing else but the
// prepared message below, write() and _exit().
std::atomic<int> g_signal{0};
std::atomic<int> g_mode{int(StopMode::kAtSafePoints)};
static_assert(std::atomic<int>::is_always_lock_free);

// The kEndOnTerm message, formatted before the mode is switched on (no formatting is allowed in a handler).
char g_end_message[512] = "";
std::size_t g_end_message_length = 0;

// Async-signal-safe: what kEndOnTerm does on SIGTERM. _exit, not exit: no destructor, no HDF5 or MPI clean-up runs
// from a handler; the files being written are temporaries (io/atomic_file.h) that never get their final name.
[[noreturn]] void end_now() {
  if (g_end_message_length > 0) (void)!::write(STDERR_FILENO, g_end_message, g_end_message_length);
  ::_exit(kExitRequeue);
}

extern "C" void on_stop_signal(int number) {
  int expected = 0;
  // Keep the first signal's number; later ones change nothing.
  g_signal.compare_exchange_strong(expected, number);
  if (number == SIGTERM && g_mode.load() == int(StopMode::kEndOnTerm)) end_now();
}

// Signal `number` sets the stop flag (on_stop_signal).
void handle_as_stop(int number) {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a signal arriving during a blocking read or MPI progress call must not fail that call.
  action.sa_flags = SA_RESTART;
  sigaction(number, &action, nullptr);
}

// The signals ScopedStopHandlers takes over and gives back.
constexpr int kScopedSignals[4] = {SIGINT, SIGUSR1, SIGUSR2, SIGTERM};

}  // namespace

std::string signal_name(int number) {
  switch (number) {
    case 0:
      return "a signal";
    case SIGTERM:
      return "SIGTERM";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal " + std::to_string(number);
  }
}

void install_stop_handlers(StopMode mode, const std::string& command) {
  if (mode == StopMode::kEndOnTerm) {
    const std::string what = command.empty() ? std::string("this command") : "tessera " + command;
    const int length = std::snprintf(
        g_end_message, sizeof g_end_message,
        "[tessera r%d] WARN  stopped on SIGTERM: %s has no safe point to stop at, so it ends now; an output it had not "
        "finished is not written; exiting with %d so that the job is requeued (run it again)\n",
        log_rank(), what.c_str(), kExitRequeue);
    g_end_message_length = std::min<std::size_t>(std::size_t(std::max(length, 0)), sizeof g_end_message - 1);
  }
  g_mode.store(int(mode));
  for (int number : {SIGUSR1, SIGUSR2, SIGTERM}) handle_as_stop(number);
  // A SIGTERM recorded while the handlers deferred it (e.g. during MPI start-up) ends such a command now.
  if (mode == StopMode::kEndOnTerm && g_signal.load() == SIGTERM) end_now();
}

ScopedStopHandlers::ScopedStopHandlers(StopMode mode, const std::string& command) {
  for (std::size_t i = 0; i < std::size(kScopedSignals); ++i) sigaction(kScopedSignals[i], nullptr, &previous_[i]);
  clear_stop();
  install_stop_handlers(mode, command);
  handle_as_stop(SIGINT);
}

ScopedStopHandlers::~ScopedStopHandlers() {
  for (std::size_t i = 0; i < std::size(kScopedSignals); ++i) sigaction(kScopedSignals[i], &previous_[i], nullptr);
}

bool stop_signalled() { return g_signal.load() != 0; }
int stop_signal_number() { return g_signal.load(); }
void request_stop(int signal_number) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal_number);
}
void clear_stop() { g_signal.store(0); }

bool stop_requested(const Context& ctx) {
  // The largest signal number over the ranks: > 0 when any rank was signalled, and a rank that was not learns
  // which signal it was, for its log line.
  const int agreed = int(allreduce_max(ctx, double(stop_signal_number())));
  if (agreed != 0) request_stop(agreed);
  return agreed != 0;
}

}  // namespace tessera::engine
