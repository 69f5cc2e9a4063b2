// `tessera <command> [options]`: the entry point of every Tessera job, run as `mpirun -np N tessera ...` or
// `srun tessera ...`. A failure on any rank ends the whole job with the message (engine/fatal.h); a stop signal
// ends it at a safe point with exit 75 (engine/signals.h).
#include <cstdio>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/fatal.h"
#include "engine/log.h"
#include "engine/signals.h"
#include "jobs/commands.h"

namespace {

void print_usage() {
  std::printf("Usage: tessera <command> [options]   (tessera <command> --help for its options)\n\nCommands:\n");
  for (const auto& command : tessera::jobs::commands())
    std::printf("  %-13s %s\n", command.spec.name.c_str(), command.spec.summary.c_str());
  std::printf("\nRun over MPI with: mpirun -np N tessera <command> ...   (or srun under Slurm)\n");
}

}  // namespace

int main(int argc, char** argv) {
  // First thing, before MPI starts and before the options are parsed (both can take seconds on a busy node): from
  // here on a stop signal only sets the flag, so a signal in the first seconds of a job is never fatal, and the
  // command sees it at its first safe point (train: writes its checkpoint and exits 75).
  tessera::engine::install_stop_handlers();
  tessera::engine::MpiSession mpi(&argc, &argv);
  const tessera::engine::Context world;
  tessera::engine::init_logging(world.rank(), world.size());

  const std::string name = argc > 1 ? argv[1] : "";
  // Again after MPI_Init (which may install its own handlers), now in the command's mode.
  tessera::engine::install_stop_handlers(tessera::jobs::stops_at_safe_points(name)
                                             ? tessera::engine::StopMode::kAtSafePoints
                                             : tessera::engine::StopMode::kEndOnTerm,
                                         name);
  if (name.empty() || name == "--help" || name == "-h" || name == "help") {
    if (world.is_root()) print_usage();
    return name.empty() ? tessera::engine::kExitUsage : tessera::engine::kExitOk;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (const auto* command = tessera::jobs::find_command(name))
    return tessera::engine::run_or_abort(world, [&] { return command->run(world, args); });
  if (world.is_root()) {
    std::fprintf(stderr, "tessera: unknown command '%s'\n\n", name.c_str());
    print_usage();
  }
  return tessera::engine::kExitUsage;
}
