// Stopping long runs cleanly on a signal (Slurm preemption, time limit, scancel --signal).
//
// jobs/main.cpp calls install_stop_handlers() first thing, before MPI and before the options are parsed, so that a
// signal in the first seconds of a job is never fatal. From then on SIGUSR1, SIGUSR2 and SIGTERM only set a
// std::atomic flag (nothing else is async-signal-safe), and the command stops at its next safe point:
//   stop_point(ctx, ...)   collective: every rank asks at the same step; when any rank was signalled, every rank
//                          throws StopRequested there (after the caller wrote its checkpoint, if it has one);
//   local_stop_point(...)  local: for work whose ranks run different tasks inside engine::run_agreeing
//                          (engine/agree.h), which then makes every rank throw StopRequested at the task's end.
// The command returns kExitRequeue (engine/fatal.h), directly or because run_or_abort turns StopRequested into it,
// and logs where it stopped and what it left written. The sbatch templates answer 75 with `scontrol requeue`; a
// requeued job resumes from its checkpoint, or starts over when the command has none.
//
// A command with no safe point at all runs in StopMode::kEndOnTerm: SIGTERM (the time limit, scancel) ends it at
// once, with a one-line message and exit 75. Its outputs go through io/atomic_file.h, so a file it had not
// finished is never left under its final name. SIGUSR1/USR2 (an early warning, e.g. --signal=USR2@300) only set the
// flag there: such a command runs on and may finish before the time limit.
//
// Slurm sends the signal chosen with `#SBATCH --signal=USR2@<seconds>` (USR2 because NCCL catches USR1).
#pragma once

#include <csignal>
#include <string>

#include "engine/context.h"
#include "engine/error.h"

namespace tessera::engine {

enum class StopMode {
  kAtSafePoints,  // every stop signal only sets the flag; the command polls it at its safe points
  kEndOnTerm,     // the command has no safe point: SIGTERM ends the process at once (exit 75); USR1/USR2 set the flag
};

// Installs the handlers for SIGUSR1, SIGUSR2 and SIGTERM (local; may be called again to change the mode). With
// kEndOnTerm, a SIGTERM that arrived before the call ends the process now. `command` names the command in the
// kEndOnTerm message.
void install_stop_handlers(StopMode mode = StopMode::kAtSafePoints, const std::string& command = "");

// Local, RAII: the stop handlers of install_stop_handlers(mode, command), plus SIGINT (Ctrl-C) handled the same
// way, for as long as the object lives; the handlers that were there before are put back on destruction. For a
// host that runs commands inside its own process (the Python package): Ctrl-C stops the command at its next safe
// point instead of being left to the host's handler, which could not run until the command returned. The stop
// flag is cleared on entry, so an earlier command's signal does not stop this one.
class ScopedStopHandlers {
 public:
  ScopedStopHandlers(StopMode mode, const std::string& command);
  ~ScopedStopHandlers();
  ScopedStopHandlers(const ScopedStopHandlers&) = delete;
  ScopedStopHandlers& operator=(const ScopedStopHandlers&) = delete;

 private:
  struct sigaction previous_[4];
};

// Local: true once this process received one of the signals (or request_stop() was called).
bool stop_signalled();
// Local: the number of the first signal received, 0 when none (for the log line).
int stop_signal_number();
// "SIGTERM", "SIGUSR1", "SIGUSR2", else "signal N" (N = 0: "a signal").
std::string signal_name(int number);

// Local: sets the flag as the handler does (tests, a command that decides to stop itself, or a rank that learnt
// from the others that they were signalled).
void request_stop(int signal_number = SIGUSR2);
// Local: clears the flag (tests; a sweep that has finished one point and checkpointed).
void clear_stop();

// Collective over ctx: true on every rank when any rank was signalled; every rank then also knows the signal
// (stop_signal_number()). Call at the same step on every rank.
bool stop_requested(const Context& ctx);

// Thrown by a command on every rank after it checkpointed because stop_requested() returned true. Not a
// tessera::Error: a stop is no failure, and run_or_abort (engine/fatal.h) returns kExitRequeue for it.
class StopRequested : public std::runtime_error {
 public:
  explicit StopRequested(const std::string& what) : std::runtime_error(what) {}
};

// Throws StopRequested with the parts streamed, or "" (the caller above says where) when there are none.
template <typename... Parts>
[[noreturn]] void throw_stop_requested(const Parts&... parts) {
  if constexpr (sizeof...(Parts) == 0)
    throw StopRequested("");
  else
    throw StopRequested(tessera::detail::concat(parts...));
}

// Collective safe point: throws StopRequested(parts...) on every rank when any rank was signalled. The message
// says where the run stopped ("falrtc: stopped before iteration 3 of 20"); callers above add what was written.
template <typename... Parts>
void stop_point(const Context& ctx, const Parts&... parts) {
  if (stop_requested(ctx)) throw_stop_requested(parts...);
}

// Local safe point (one atomic load): throws StopRequested(parts...) when this process was signalled. Only inside
// work that engine::run_agreeing wraps, or on one rank, so that no other rank is left waiting in a collective.
template <typename... Parts>
void local_stop_point(const Parts&... parts) {
  if (stop_signalled()) throw_stop_requested(parts...);
}

}  // namespace tessera::engine
