// Independent tasks spread over the ranks of a Context: cross-validation folds, bootstrap resamples, design
// instances. Each task runs on one rank alone and returns a vector of doubles; every rank then sees every result.
//
// Who runs what: tasks first .. end-1 run in rounds of ctx.size(); in round r, rank i runs task
// first + r * size + i (if it exists), so task t runs on rank (t - first) % size. The assignment depends only on
// the task range and the rank count, and each task sees only its own index and a one-rank Context, so fixed seeds
// give bit-identical results for a given rank count (and for any rank count when the task keys its random draws
// by its index, as the callers here do).
//
// After every round, one exchange tells every rank each rank's outcome and gathers the round's results; then
// after_round sees them in task order on every rank. A caller that sums results there sums them in task order, so
// the sum does not depend on the rank count either.
//
// Errors are agreed: when tasks of a round throw, every rank throws the same exception, built from the failed task
// with the lowest index: a tessera::Error (or, for any other exception, a std::runtime_error, which
// engine/fatal.h reports as internal) whose message names the work, the task and the rank and then quotes the
// task's own message. No rank is left waiting in a collective.
//
// Stops (engine/signals.h): a task that throws StopRequested (e.g. from local_stop_point) did not finish, and its
// round is dropped; a stop signal that arrives while tasks run lets the round finish and be delivered. Either way
// the farm ends at that round boundary, on every rank, with StopRequested(on_stop(done)), where done counts the
// tasks of the delivered rounds; every rank learns the signal. A stop after the last round is not seen here (the
// work is finished; the caller's next safe point sees it), nor is a signal when stops_on_signal is false.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/context.h"

namespace tessera::engine {

// One finished round, as every rank sees it.
struct FarmRound {
  std::int64_t index = 0;                    // 0-based, counted from the farm's first task
  std::int64_t first_task = 0;               // results[i] is the result of task first_task + i
  std::vector<std::vector<double>> results;  // in task order
};

struct TaskFarm {
  std::string what = "task farm";  // names the work in errors ("cross-validation")
  std::string task_name = "task";  // names one task in errors ("fold", "resample")
  std::int64_t first = 0;          // the tasks are first .. end-1
  std::int64_t end = 0;
  // Local: runs one task on this rank alone; `self` is ctx.alone(): one rank, with its share of the node's threads
  // and memory (the other ranks run their tasks at the same time).
  std::function<std::vector<double>(const Context& self, std::int64_t task)> task;
  // Collective, optional: called on every rank after each round. It sees the same data on every rank, so it
  // must act alike on every rank (a checkpoint write on rank 0 alone is fine).
  std::function<void(const FarmRound& round)> after_round;
  // Collective, optional: called on every rank when a stop ends the farm before its last round, with the count of
  // tasks delivered so far; returns the StopRequested message (a caller with a checkpoint writes it here).
  std::function<std::string(std::int64_t done)> on_stop;
  // Whether a stop signal ends the farm at the next round boundary. False in a command without safe points
  // (StopMode::kEndOnTerm), which runs on after SIGUSR1/USR2 and may finish before the time limit.
  bool stops_on_signal = true;
};

// The rank that runs `task` of a farm whose tasks start at `first`, on `ranks` ranks.
int farm_owner(std::int64_t task, std::int64_t first, int ranks);

// Rounds a farm of `tasks` tasks takes on `ranks` ranks.
std::int64_t farm_rounds(std::int64_t tasks, int ranks);

// Collective over ctx: runs the farm as described above. Every rank passes the same first, end, what and
// task_name.
void run_task_farm(const Context& ctx, const TaskFarm& farm);

}  // namespace tessera::engine
