// Test files written by Debian's Python and anndata (/usr/bin/python3 with python3-anndata), for the AnnData
// tests: rank 0 runs the script and every rank learns the outcome, so a missing interpreter or package makes every
// rank skip (GTEST_SKIP, reported Skipped), never pass. The scripts exit 3 when a package is missing.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/collectives.h"
#include "engine/context.h"
#include "tests/support/run_command.h"

namespace tessera::testing {

// Collective over MPI_COMM_WORLD: "" when the script succeeded, "skip: ..." or "failed (exit N): ...".
inline std::string run_python_fixture(const std::string& script, const std::string& arguments) {
  const engine::Context world(MPI_COMM_WORLD);
  std::string outcome;
  if (world.is_root()) {
    if (!std::filesystem::exists("/usr/bin/python3")) {
      outcome = "skip: /usr/bin/python3 not found";
    } else {
      const auto result = run_command("/usr/bin/python3 " + quote(script) + " " + arguments, 300);
      if (result.exit_code == 3)
        outcome = "skip: " + result.output;
      else if (result.exit_code != 0)
        outcome = "failed (exit " + std::to_string(result.exit_code) + "): " + result.output;
    }
  }
  engine::broadcast(world, outcome);
  world.barrier();
  return outcome;
}

}  // namespace tessera::testing

// Runs the fixture script; skips the test case when Python or a package is missing, fails it when the script did.
#define TESSERA_PYTHON_FIXTURE_OR_SKIP(script, arguments)                                                     \
  do {                                                                                                        \
    const std::string fixture_outcome = ::tessera::testing::run_python_fixture(script, arguments);            \
    if (fixture_outcome.rfind("skip", 0) == 0)                                                                \
      GTEST_SKIP() << "needs /usr/bin/python3 with anndata, h5py, scipy and pandas (Debian: apt-get install " \
                      "python3-anndata): "                                                                    \
                   << fixture_outcome;                                                                        \
    ASSERT_EQ(fixture_outcome, "") << script;                                                                 \
  } while (0)
