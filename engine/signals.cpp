#include "engine/signals.h"

#include <atomic>
#include <csignal>

#include "engine/collectives.h"
#include "engine/fatal.h"
#include "engine/log.h"

namespace tessera::engine {

namespace {

// Lock-free int atomics are async-signal-safe to store to; the handler does nothing else.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int number) {
  int expected = 0;
  // Keep the first signal's number; later ones change nothing.
  g_signal.compare_exchange_strong(expected, number);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a signal arriving during a blocking read or MPI progress call must not fail that call.
  action.sa_flags = SA_RESTART;
  for (int number : {SIGUSR1, SIGUSR2, SIGTERM}) sigaction(number, &action, nullptr);
}

bool stop_signalled() { return g_signal.load() != 0; }
int stop_signal_number() { return g_signal.load(); }
void request_stop() { on_stop_signal(SIGUSR2); }
void clear_stop() { g_signal.store(0); }

bool stop_requested(const Context& ctx) { return allreduce_any(ctx, stop_signalled()); }

}  // namespace tessera::engine
