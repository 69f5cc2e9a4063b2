// The task farm (engine/task_farm.h) on 1, 2 and 3 ranks: every rank sees every task's result, in task order,
// equal to the serial answer computed here; task t runs on rank (t - first) % size; uneven task counts, fewer tasks
// than ranks and no tasks at all work; a task that throws on one rank gives the same error on every rank, with no
// hang; stops end the farm at a round boundary on every rank, with the signal known everywhere.
#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "engine/signals.h"
#include "engine/task_farm.h"

namespace tessera::engine {
namespace {

// Task t's result, as any rank computes it: (t * 5) % 4 normal draws keyed by t (tasks 0, 4, 8, ... return none).
std::vector<double> expected_result(std::int64_t t) {
  RandomStream random(11, "test/task_farm", std::uint64_t(t));
  std::vector<double> values(std::size_t((t * 5) % 4));
  for (auto& v : values) v = random.normal();
  return values;
}

// Runs tasks [first, end) of expected_result and returns what after_round saw, in order.
std::vector<std::vector<double>> farm_results(const Context& world, std::int64_t first, std::int64_t end) {
  std::vector<std::vector<double>> seen;
  TaskFarm farm;
  farm.first = first;
  farm.end = end;
  farm.task = [&](const Context& self, std::int64_t t) {
    EXPECT_EQ(self.size(), 1);
    // Tasks run side by side: each keeps its rank's share of the node, not the whole node.
    EXPECT_EQ(self.threads_per_rank(), world.threads_per_rank());
    return expected_result(t);
  };
  std::int64_t rounds = 0;
  farm.after_round = [&](const FarmRound& round) {
    EXPECT_EQ(round.index, rounds++);
    EXPECT_EQ(round.first_task, first + round.index * world.size());
    EXPECT_EQ(std::int64_t(round.results.size()), std::min<std::int64_t>(world.size(), end - round.first_task));
    seen.insert(seen.end(), round.results.begin(), round.results.end());
  };
  run_task_farm(world, farm);
  EXPECT_EQ(rounds, farm_rounds(end - first, world.size()));
  return seen;
}

TEST(TaskFarm, RoundsAndOwners) {
  EXPECT_EQ(farm_rounds(0, 3), 0);
  EXPECT_EQ(farm_rounds(1, 3), 1);
  EXPECT_EQ(farm_rounds(7, 3), 3);
  EXPECT_EQ(farm_rounds(6, 3), 2);
  EXPECT_EQ(farm_rounds(7, 1), 7);
  EXPECT_EQ(farm_owner(4, 4, 3), 0);
  EXPECT_EQ(farm_owner(9, 4, 3), 2);
  EXPECT_EQ(farm_owner(10, 4, 3), 0);
  EXPECT_EQ(farm_owner(6, 0, 1), 0);
}

TEST(TaskFarm, EveryRankSeesEveryResultInTaskOrder) {
  const Context world;
  // Uneven counts, an offset start, fewer tasks than ranks, and no tasks.
  for (const auto& [first, end] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 7}, {0, 6}, {4, 11}, {0, 1}, {2, 4}, {5, 5}}) {
    std::vector<std::vector<double>> serial;
    for (std::int64_t t = first; t < end; ++t) serial.push_back(expected_result(t));
    EXPECT_EQ(farm_results(world, first, end), serial)
        << "tasks [" << first << ", " << end << ") on " << world.size() << " ranks";
  }
}

TEST(TaskFarm, TaskRunsOnTheRankTheContractNames) {
  const Context world;
  std::vector<double> ran_on;
  TaskFarm farm;
  farm.first = 3;
  farm.end = 10;
  farm.task = [&](const Context&, std::int64_t) { return std::vector<double>{double(world.rank())}; };
  farm.after_round = [&](const FarmRound& round) {
    for (const auto& result : round.results) ran_on.push_back(result.at(0));
  };
  run_task_farm(world, farm);
  ASSERT_EQ(ran_on.size(), 7u);
  for (std::int64_t t = 3; t < 10; ++t) EXPECT_EQ(ran_on[std::size_t(t - 3)], (t - 3) % world.size()) << "task " << t;
}

// Runs `farm`, expecting it to throw Expected, and returns its message (every rank's, gathered).
template <typename Expected>
std::vector<std::string> messages_of_failed(const Context& world, const TaskFarm& farm) {
  std::string message;
  try {
    run_task_farm(world, farm);
    ADD_FAILURE() << "the farm did not throw";
  } catch (const Expected& e) {
    message = e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the farm threw another exception: " << e.what();
  }
  return allgatherv(world, std::vector<std::string>{message});
}

TEST(TaskFarm, FailureOnOneRankIsTheSameErrorOnEveryRank) {
  const Context world;
  for (const std::int64_t broken : {0, 4, 6}) {
    std::int64_t delivered = 0;
    TaskFarm farm;
    farm.what = "test farm";
    farm.task_name = "item";
    farm.end = 7;
    farm.task = [&](const Context&, std::int64_t t) {
      TESSERA_CHECK(t != broken, "item ", t, " is broken; fix it");
      return expected_result(t);
    };
    farm.after_round = [&](const FarmRound& round) { delivered += std::int64_t(round.results.size()); };
    const auto messages = messages_of_failed<Error>(world, farm);
    for (const auto& m : messages) EXPECT_EQ(m, messages.front()) << "ranks disagree on the error";
    const std::string owner = std::to_string(farm_owner(broken, 0, world.size()));
    const std::string expected = "test farm: item " + std::to_string(broken) + " failed on rank " + owner + ": item " +
                                 std::to_string(broken) + " is broken; fix it";
    EXPECT_EQ(messages.front().rfind(expected, 0), 0u) << messages.front();
    EXPECT_EQ(delivered, (broken / world.size()) * world.size()) << "rounds before the failure are delivered";
  }
  // Two failures in one round (and, on one rank, in two rounds): the lowest task's error, everywhere.
  TaskFarm twice;
  twice.end = 6;
  twice.task = [&](const Context&, std::int64_t t) -> std::vector<double> {
    if (t == 3 || t == 4) TESSERA_FAIL("task ", t, " failed");
    return {};
  };
  for (const auto& m : messages_of_failed<Error>(world, twice))
    EXPECT_NE(m.find("task 3 failed on rank " + std::to_string(3 % world.size())), std::string::npos) << m;
  // Another exception than tessera::Error stays one (run_or_abort reports it as internal), on every rank.
  TaskFarm internal;
  internal.end = 5;
  internal.task = [&](const Context&, std::int64_t t) -> std::vector<double> {
    if (t == 2) throw std::out_of_range("index 9 out of range");
    return {};
  };
  const auto messages = messages_of_failed<std::runtime_error>(world, internal);
  for (const auto& m : messages) EXPECT_EQ(m, messages.front());
  EXPECT_NE(messages.front().find("index 9 out of range"), std::string::npos) << messages.front();
  try {
    run_task_farm(world, internal);
  } catch (const Error&) {
    ADD_FAILURE() << "a non-Error failure became a tessera::Error";
  } catch (const std::runtime_error&) {
  }
  // Nothing is left in flight: the next farm runs.
  EXPECT_EQ(farm_results(world, 0, 7).size(), 7u);
}

// Runs `farm` expecting StopRequested on every rank; returns its message.
std::string stop_message(const Context& world, const TaskFarm& farm) {
  try {
    run_task_farm(world, farm);
  } catch (const StopRequested& stop) {
    return stop.what();
  }
  ADD_FAILURE() << "expected StopRequested";
  return "";
}

TEST(TaskFarm, TaskThatStopsDropsItsRoundAndStopsEveryRank) {
  const Context world;
  std::int64_t delivered = 0;
  TaskFarm farm;
  farm.end = 7;
  farm.task = [&](const Context&, std::int64_t t) {
    if (t == 4) request_stop(SIGTERM);  // the signal reaches task 4's rank only
    local_stop_point();
    return expected_result(t);
  };
  farm.after_round = [&](const FarmRound& round) { delivered += std::int64_t(round.results.size()); };
  farm.on_stop = [&](std::int64_t done) { return "stopped after " + std::to_string(done) + " tasks"; };
  const std::int64_t done = (4 / world.size()) * world.size();
  EXPECT_EQ(stop_message(world, farm), "stopped after " + std::to_string(done) + " tasks");
  EXPECT_EQ(delivered, done);
  EXPECT_EQ(stop_signal_number(), SIGTERM) << "rank " << world.rank() << " did not learn the signal";
  clear_stop();
  world.barrier();
}

TEST(TaskFarm, SignalDuringARoundDeliversItThenStops) {
  const Context world;
  std::int64_t delivered = 0;
  TaskFarm farm;
  farm.end = 7;
  farm.task = [&](const Context&, std::int64_t t) {
    if (t == 4) request_stop(SIGUSR1);  // arrives while task 4 runs; the task finishes
    return expected_result(t);
  };
  farm.after_round = [&](const FarmRound& round) { delivered += std::int64_t(round.results.size()); };
  farm.on_stop = [&](std::int64_t done) { return "stopped after " + std::to_string(done) + " tasks"; };
  const std::int64_t done = std::min<std::int64_t>(7, (4 / world.size() + 1) * world.size());
  EXPECT_EQ(stop_message(world, farm), "stopped after " + std::to_string(done) + " tasks");
  EXPECT_EQ(delivered, done);
  EXPECT_EQ(stop_signal_number(), SIGUSR1) << "rank " << world.rank() << " did not learn the signal";
  clear_stop();
  world.barrier();

  // Without on_stop the message names the work.
  farm.what = "test farm";
  farm.on_stop = nullptr;
  EXPECT_EQ(stop_message(world, farm), "test farm stopped");
  clear_stop();
  world.barrier();

  // A signal in the last round: the work is finished and the farm returns; the flag stays for the caller.
  farm.task = [&](const Context&, std::int64_t t) {
    if (t == 6) request_stop(SIGUSR1);
    return expected_result(t);
  };
  delivered = 0;
  EXPECT_NO_THROW(run_task_farm(world, farm));
  EXPECT_EQ(delivered, 7);
  EXPECT_EQ(allreduce_any(world, stop_signalled()), true);
  clear_stop();
  world.barrier();

  // A farm in a command without safe points runs on after the signal.
  farm.task = [&](const Context&, std::int64_t t) {
    if (t == 1) request_stop(SIGUSR2);
    return expected_result(t);
  };
  farm.stops_on_signal = false;
  delivered = 0;
  EXPECT_NO_THROW(run_task_farm(world, farm));
  EXPECT_EQ(delivered, 7);
  clear_stop();
  world.barrier();
}

}  // namespace
}  // namespace tessera::engine
