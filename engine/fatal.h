// Ending a job cleanly when something fails.
//
// run_or_abort() runs the body of a program. If it throws on any rank, that rank logs the message (the log
// line names the rank) and, when the job has more than one rank, calls MPI_Abort: the other ranks may be
// blocked in a collective waiting for the failed one, and MPI_Abort is the only call that reaches them.
// The job therefore ends within seconds with the message and a non-zero exit code, never a hang.
// A StopRequested (engine/signals.h: every rank stopped at the same step after a signal and checkpointed) is
// no failure: rank 0 logs "stopped on SIGTERM: <where, and what was written>; exiting with 75 ..." and every rank
// returns kExitRequeue.
#pragma once

#include <functional>

#include "engine/context.h"

namespace tessera::engine {

// Exit codes of the `tessera` command; stable, for scripts and Slurm.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // bad input, bad option, a failed check (tessera::Error)
inline constexpr int kExitInternal = 2;  // any other exception: a bug, please report
inline constexpr int kExitUsage = 64;    // unknown command or no command (EX_USAGE)
inline constexpr int kExitRequeue = 75;  // stopped on a signal at a safe point (after checkpointing, where the
                                         // command has checkpoints): requeue me or run me again (EX_TEMPFAIL)

int run_or_abort(const Context& world, const std::function<int()>& body);

}  // namespace tessera::engine
