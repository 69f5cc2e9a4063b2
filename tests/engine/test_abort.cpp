// An exception on one rank ends the whole job promptly, with the message and the rank, never a hang.
// Runs abort_probe under mpirun with 2 ranks and a hard time limit (a hang shows as exit code 124).
#include <gtest/gtest.h>

#include <string>

#include "tests/support/run_command.h"

using tessera::testing::mpirun;
using tessera::testing::run_command;

TEST(Abort, OneFailingRankEndsTheJobWithItsMessage) {
  for (int fail_rank : {0, 1}) {
    const auto result = run_command(mpirun(2) + " " ABORT_PROBE " " + std::to_string(fail_rank), 60);
    EXPECT_NE(result.exit_code, 0) << result.output;
    EXPECT_NE(result.exit_code, 124) << "the job hung instead of aborting:\n" << result.output;
    EXPECT_NE(result.output.find("probe failure on purpose"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("r" + std::to_string(fail_rank) + "/2"), std::string::npos)
        << "the log line must name the failing rank:\n"
        << result.output;
    EXPECT_LT(result.seconds, 30.0);
  }
}

TEST(Abort, OneRankReturnsTheErrorCodeWithoutAbort) {
  const auto result = run_command(ABORT_PROBE " 0", 60);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("probe failure on purpose"), std::string::npos) << result.output;
}
