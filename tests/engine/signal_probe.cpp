// A tiny MPI program for test_signals: a loop of short steps that polls engine::stop_requested() at every step,
// as a solver does. Options: --self-signal RANK STEP (that rank raises SIGUSR2 on itself at that step),
// --pid-file PATH (rank 1, or rank 0 on one rank, writes its pid there, for a test that signals or kills it from
// outside), --agreeing (each step is local work inside engine::run_agreeing with a local_stop_point, as ranks
// running different tasks do, instead of a collective stop_requested). On a stop every rank prints "rank R stopped
// at step S (signal N here)" and throws StopRequested, which run_or_abort turns into kExitRequeue.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "engine/agree.h"
#include "engine/context.h"
#include "engine/fatal.h"
#include "engine/log.h"
#include "engine/signals.h"

int main(int argc, char** argv) {
  tessera::engine::MpiSession mpi(&argc, &argv);
  tessera::engine::Context world;
  tessera::engine::init_logging(world.rank(), world.size());
  tessera::engine::install_stop_handlers();
  int signal_rank = -1, signal_step = -1, max_steps = 6000;
  std::string pid_file;
  bool agreeing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--self-signal" && i + 2 < argc) signal_rank = std::atoi(argv[++i]), signal_step = std::atoi(argv[++i]);
    if (arg == "--pid-file" && i + 1 < argc) pid_file = argv[++i];
    if (arg == "--max-steps" && i + 1 < argc) max_steps = std::atoi(argv[++i]);
    if (arg == "--agreeing") agreeing = true;
  }
  return tessera::engine::run_or_abort(world, [&]() -> int {
    const int pid_rank = world.size() > 1 ? 1 : 0;
    if (!pid_file.empty() && world.rank() == pid_rank) {
      // Write then rename, so the test never reads a half-written pid.
      const std::string tmp = pid_file + ".tmp";
      std::ofstream(tmp) << ::getpid() << "\n";
      std::rename(tmp.c_str(), pid_file.c_str());
    }
    for (int step = 0; step < max_steps; ++step) {
      const auto work = [&] {
        if (world.rank() == signal_rank && step == signal_step) std::raise(SIGUSR2);
        // Work of uneven length per rank, so that ranks are not in lock step by accident.
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + 3 * world.rank()));
      };
      const auto report = [&] {
        std::printf("rank %d stopped at step %d (signal %d here)\n", world.rank(), step,
                    tessera::engine::stop_signal_number());
        std::fflush(stdout);
      };
      if (agreeing) {
        try {
          tessera::engine::run_agreeing(world, "probe step", [&] {
            work();
            tessera::engine::local_stop_point("probe stopped in step ", step);
          });
        } catch (const tessera::engine::StopRequested&) {
          report();
          throw;
        }
        continue;
      }
      work();
      if (tessera::engine::stop_requested(world)) {
        report();
        throw tessera::engine::StopRequested("probe checkpointed at step " + std::to_string(step));
      }
    }
    std::printf("rank %d finished %d steps\n", world.rank(), max_steps);
    return 0;
  });
}
