// The bad-input table: each row is one malformed or odd input a user may give, the command line that meets it,
// the exit code Tessera must end with, and the words its message must contain (the file, the field, the fix).
// Each hardening test file declares the rows of its class and runs them with expect_refusals(); a row also
// checks that no "<name>.tmp-*" temporary and no file named in `must_not_exist` is left behind.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace tessera::testing {

struct BadInput {
  std::string name;                                                      // what is wrong, for the failure report
  std::function<std::string(const std::filesystem::path& dir)> command;  // builds the input in dir, returns the line
  int exit_code = 1;                             // engine/fatal.h: 1 bad input, never 0, 2 (internal) or a signal
  std::vector<std::string> message_contains;     // words the printed message must contain
  std::vector<std::string> must_not_exist = {};  // outputs (relative to dir) that must not be left behind
};

// Runs every row in its own scratch folder <tmp>/<prefix>_<pid>/<row index>.
inline void expect_refusals(const std::string& prefix, const std::vector<BadInput>& rows, int timeout_seconds = 120) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    SCOPED_TRACE(row.name);
    const auto dir = scratch_dir(prefix, std::to_string(i));
    const auto result = run_command(row.command(dir), timeout_seconds);
    EXPECT_EQ(result.exit_code, row.exit_code) << result.output;
    expect_mentions(result.output, row.message_contains);
    EXPECT_EQ(result.output.find("internal error"), std::string::npos) << result.output;
    EXPECT_FALSE(has_temporary_files(dir)) << "a temporary file was left in " << dir;
    for (const auto& name : row.must_not_exist)
      EXPECT_FALSE(std::filesystem::exists(dir / name)) << name << " was left behind: " << result.output;
  }
}

}  // namespace tessera::testing
