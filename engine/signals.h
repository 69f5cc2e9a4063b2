// Stopping long runs cleanly on a signal (Slurm preemption, time limit, scancel --signal).
//
// install_stop_handlers() makes SIGUSR1, SIGUSR2 and SIGTERM only set a std::atomic flag: nothing else is
// async-signal-safe. Long loops call stop_requested(ctx) at step boundaries; it is collective (an allreduce_any
// over ctx) so that when one rank got the signal, every rank sees `true` at the same step, writes its
// checkpoint, and the command returns kExitRequeue (engine/fatal.h), directly or by throwing StopRequested, which
// run_or_abort turns into kExitRequeue. The sbatch templates answer 75 with `scontrol requeue`; the requeued job resumes from the
// checkpoint.
//
// Slurm sends the signal chosen with `#SBATCH --signal=USR2@<seconds>` (USR2 because NCCL catches USR1).
#pragma once

#include <functional>
#include <string>

#include "engine/context.h"
#include "engine/error.h"

namespace tessera::engine {

// Installs the handlers (idempotent; local). Call once per process before the long loop.
void install_stop_handlers();

// Local: true once this process received one of the signals (or request_stop() was called).
bool stop_signalled();
// Local: the number of the first signal received, 0 when none (for the log line).
int stop_signal_number();

// Local: sets the flag as the handler does (tests, or a command that decides to stop itself).
void request_stop();
// Local: clears the flag (tests; a sweep that has finished one point and checkpointed).
void clear_stop();

// Collective over ctx: true on every rank when any rank was signalled. Call at the same step on every rank.
bool stop_requested(const Context& ctx);

// Thrown by a command on every rank after it checkpointed because stop_requested() returned true. Not a
// tessera::Error: a stop is no failure, and run_or_abort (engine/fatal.h) returns kExitRequeue for it.
class StopRequested : public std::runtime_error {
 public:
  explicit StopRequested(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace tessera::engine
