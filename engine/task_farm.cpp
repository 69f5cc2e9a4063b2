#include "engine/task_farm.h"

#include <algorithm>
#include <csignal>
#include <exception>
#include <span>
#include <stdexcept>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/signals.h"

namespace tessera::engine {

namespace {

// How this rank's task of a round ended.
enum Outcome : std::int64_t { kDone = 0, kStopped = 1, kFailedError = 2, kFailedOther = 3 };

// What each rank tells the others after a round: outcome, stop signal, length of its result.
constexpr std::size_t kReportFields = 3;

struct LocalRun {
  Outcome outcome = kDone;
  std::string message;  // the failure's, when it failed
  std::vector<double> result;
};

LocalRun run_local(const TaskFarm& farm, const Context& self, std::int64_t task) {
  LocalRun run;
  try {
    run.result = farm.task(self, task);
  } catch (const StopRequested&) {
    run.outcome = kStopped;
  } catch (const Error& e) {
    run.outcome = kFailedError, run.message = e.what();
  } catch (const std::exception& e) {
    run.outcome = kFailedOther, run.message = e.what();
  } catch (...) {
    run.outcome = kFailedOther, run.message = "an exception that is not a std::exception";
  }
  return run;
}

// Every rank throws the failure of the lowest failed rank of the round (its task has the lowest index).
[[noreturn]] void throw_agreed_failure(const Context& ctx, const TaskFarm& farm, std::int64_t round_first,
                                       const std::vector<std::int64_t>& reports, const LocalRun& mine) {
  int failed = 0;
  while (reports[std::size_t(failed) * kReportFields] < kFailedError) ++failed;
  std::string message = mine.message;
  broadcast(ctx, message, failed);
  message = detail::concat(farm.what, ": ", farm.task_name, " ", round_first + failed, " failed on rank ", failed, ": ",
                           message);
  if (reports[std::size_t(failed) * kReportFields] == kFailedError) throw Error(message);
  throw std::runtime_error(message);
}

}  // namespace

int farm_owner(std::int64_t task, std::int64_t first, int ranks) { return int((task - first) % ranks); }

std::int64_t farm_rounds(std::int64_t tasks, int ranks) { return tasks <= 0 ? 0 : (tasks + ranks - 1) / ranks; }

void run_task_farm(const Context& ctx, const TaskFarm& farm) {
  TESSERA_CHECK(farm.first >= 0 && farm.end >= farm.first, farm.what, ": bad task range [", farm.first, ", ", farm.end,
                ")");
  const Context self = ctx.alone();
  const int ranks = ctx.size();
  const std::int64_t rounds = farm_rounds(farm.end - farm.first, ranks);
  for (std::int64_t round = 0; round < rounds; ++round) {
    const std::int64_t round_first = farm.first + round * ranks;
    const std::int64_t task = round_first + ctx.rank();
    const LocalRun mine = task < farm.end ? run_local(farm, self, task) : LocalRun{};

    const std::int64_t signal = mine.outcome == kStopped ? (stop_signalled() ? stop_signal_number() : SIGUSR2) : 0;
    const std::int64_t report[kReportFields] = {mine.outcome, signal, std::int64_t(mine.result.size())};
    const std::vector<std::int64_t> reports = allgatherv(ctx, std::span<const std::int64_t>(report));
    Outcome worst = kDone;
    std::int64_t stop_signal = 0;
    for (int r = 0; r < ranks; ++r) {
      worst = std::max(worst, Outcome(reports[std::size_t(r) * kReportFields]));
      stop_signal = std::max(stop_signal, reports[std::size_t(r) * kReportFields + 1]);
    }
    // A failure outranks a stop: the job ends as failed.
    if (worst >= kFailedError) throw_agreed_failure(ctx, farm, round_first, reports, mine);
    const auto stop = [&](std::int64_t done) {
      const std::string message = farm.on_stop ? farm.on_stop(done) : "";
      throw StopRequested(message.empty() ? farm.what + " stopped" : message);
    };
    if (worst == kStopped) {
      request_stop(int(stop_signal));  // the ranks that were not signalled learn the signal for the log line
      stop(round_first - farm.first);
    }

    const std::vector<double> values = allgatherv(ctx, std::span<const double>(mine.result));
    FarmRound delivered;
    delivered.index = round;
    delivered.first_task = round_first;
    std::size_t at = 0;
    for (int r = 0; r < ranks && round_first + r < farm.end; ++r) {
      const auto length = std::size_t(reports[std::size_t(r) * kReportFields + 2]);
      delivered.results.emplace_back(values.begin() + std::ptrdiff_t(at), values.begin() + std::ptrdiff_t(at + length));
      at += length;
    }
    if (farm.after_round) farm.after_round(delivered);
    if (farm.stops_on_signal && round + 1 < rounds && stop_requested(ctx))
      stop(std::min(farm.end, round_first + ranks) - farm.first);
  }
}

}  // namespace tessera::engine
