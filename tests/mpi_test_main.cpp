// main() for every Tessera test binary: MPI is initialised once around the whole GoogleTest run, and only
// rank 0 prints GoogleTest's report (a failure on any other rank still fails the binary through its exit code).
#include <gtest/gtest.h>

#include "engine/context.h"
#include "engine/log.h"

int main(int argc, char** argv) {
  tessera::engine::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  tessera::engine::Context world;
  tessera::engine::init_logging(world.rank(), world.size(), tessera::engine::LogLevel::kWarn);
  if (world.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS();
  // Fail on every rank if any rank failed, so mpirun's exit code reflects all of them.
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return failed;
}
