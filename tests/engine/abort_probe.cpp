// A tiny MPI program for test_abort: rank `--fail-rank` throws a tessera::Error while every other rank waits in
// a barrier that can never complete. run_or_abort must end the whole job with the message and a non-zero code.
#include <cstdlib>
#include <string>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/fatal.h"
#include "engine/log.h"

int main(int argc, char** argv) {
  tessera::engine::MpiSession mpi(&argc, &argv);
  tessera::engine::Context world;
  tessera::engine::init_logging(world.rank(), world.size());
  const int fail_rank = argc > 1 ? std::atoi(argv[1]) : 0;
  return tessera::engine::run_or_abort(world, [&] {
    TESSERA_CHECK(world.rank() != fail_rank, "probe failure on purpose");
    world.barrier();  // the failing rank never arrives
    return 0;
  });
}
