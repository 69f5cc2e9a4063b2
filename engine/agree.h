// Agreeing on failure and on stopping: a rank that throws inside a distributed step must not leave the others
// waiting in the step's next collective. run_agreeing() runs local work, then one allreduce tells every rank
// whether any rank failed or stopped on a signal (engine/signals.h: local_stop_point); then every rank throws: the
// failing rank its own error, the others a pointer to it. A failure outranks a stop. When ranks only stopped, every
// rank throws StopRequested (the stopped ones their own message), so the whole job exits with kExitRequeue, not
// with an error on the ranks that were not signalled.
// run_agreeing_in_rounds() cuts long local work into rounds with one such agreement after each, so that a signal
// that reached one rank only stops every rank within one round, not at the end of all the work.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/signals.h"

namespace tessera::engine {

// Collective over ctx. `what` names the step in the other ranks' message.
template <typename Work>
void run_agreeing(const Context& ctx, const char* what, Work&& work) {
  // Exchanged value: 0 done, a signal number (< kFailed) stopped, kFailed failed.
  constexpr int kFailed = 1 << 16;
  std::exception_ptr failure;
  int state = 0;
  try {
    std::forward<Work>(work)();
  } catch (const StopRequested&) {
    failure = std::current_exception();
    state = stop_signalled() ? stop_signal_number() : SIGUSR2;  // as request_stop() records a stop without one
  } catch (...) {
    failure = std::current_exception();
    state = kFailed;
  }
  const int agreed = int(allreduce_max(ctx, double(state)));
  // A rank that stopped while another failed reports the failure too: the job ends as failed.
  if (failure && (state == kFailed || agreed < kFailed)) std::rethrow_exception(failure);
  TESSERA_CHECK(agreed < kFailed, what, " failed on another rank (see that rank's error)");
  if (agreed != 0) {
    request_stop(agreed);
    throw StopRequested(std::string(what) + " stopped on another rank");
  }
}

// Collective over ctx: work(r) for r = 0 .. rounds - 1 (the same count on every rank; a rank with nothing left to do
// in a round does nothing), with run_agreeing after each round, whose allreduce also carries this rank's stop flag
// (local_stop_point). A failure on any rank fails every rank within one round; a stop signal on any rank makes every
// rank throw StopRequested(stopped(r)) at the end of round r; stopped(r) says how far the work got (r rounds were
// finished before the one in which the stop was seen).
template <typename Work, typename Stopped>
void run_agreeing_in_rounds(const Context& ctx, const char* what, std::int64_t rounds, Work&& work, Stopped&& stopped) {
  for (std::int64_t r = 0; r < rounds; ++r) {
    try {
      run_agreeing(ctx, what, [&] {
        work(r);
        local_stop_point();
      });
    } catch (const StopRequested&) {
      throw StopRequested(stopped(r));
    }
  }
}

}  // namespace tessera::engine
