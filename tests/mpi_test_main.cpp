// main() for every Tessera test binary: MPI is initialised once around the whole GoogleTest run, and only
// rank 0 prints GoogleTest's report (a failure on any other rank still fails the binary through its exit code).
// A run whose every case was skipped (real data missing, say) exits with TESSERA_SKIP_EXIT_CODE, which
// tests/CMakeLists.txt gives ctest as the skip code: ctest then reports the test Skipped, not Passed.
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
  const auto& unit = *::testing::UnitTest::GetInstance();
  int all_skipped = unit.skipped_test_count() > 0 && unit.successful_test_count() == 0 ? 1 : 0;
  // Fail on every rank if any rank failed, so mpirun's exit code reflects all of them; skipped only if skipped
  // everywhere.
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &all_skipped, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (failed != 0) return failed;
  return all_skipped ? TESSERA_SKIP_EXIT_CODE : 0;
}
