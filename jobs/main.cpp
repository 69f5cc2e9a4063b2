// `tessera <command> [options]`: the entry point of every Tessera job, run as `mpirun -np N tessera ...` or
// `srun tessera ...`. A failure on any rank ends the whole job with the message (engine/fatal.h).
#include <cstdio>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/fatal.h"
#include "engine/log.h"
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
  tessera::engine::MpiSession mpi(&argc, &argv);
  const tessera::engine::Context world;
  tessera::engine::init_logging(world.rank(), world.size());

  const std::string name = argc > 1 ? argv[1] : "";
  if (name.empty() || name == "--help" || name == "-h" || name == "help") {
    if (world.is_root()) print_usage();
    return name.empty() ? tessera::engine::kExitUsage : tessera::engine::kExitOk;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& command : tessera::jobs::commands()) {
    if (command.spec.name == name)
      return tessera::engine::run_or_abort(world, [&] { return command.run(world, args); });
  }
  if (world.is_root()) {
    std::fprintf(stderr, "tessera: unknown command '%s'\n\n", name.c_str());
    print_usage();
  }
  return tessera::engine::kExitUsage;
}
