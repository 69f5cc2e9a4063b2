// Test files written by Debian's Python and anndata (/usr/bin/python3 with python3-anndata), for the AnnData
// tests: rank 0 runs the script and every rank learns the outcome, so a missing interpreter or package makes every
// rank skip (GTEST_SKIP, reported Skipped), never pass. The scripts exit 3 when a package is missing.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <system_error>
#include <utility>

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

// Collective over MPI_COMM_WORLD: `script FOLDER kind`, run once per test program for each (script, kind) into a
// folder of its own that later calls reuse (the fixtures a program's cases share cost one Python start, not one per
// case); rank 0 removes the folders when the program ends. Sets `folder`; returns run_python_fixture's outcome.
inline std::string shared_python_fixture(const std::string& script, const std::string& kind,
                                         std::filesystem::path& folder) {
  struct Made {
    std::map<std::string, std::pair<std::filesystem::path, std::string>> folders;  // key -> (folder, outcome)
    bool root = false;
    ~Made() {
      if (!root) return;
      std::error_code ignored;
      for (const auto& [key, made] : folders) std::filesystem::remove_all(made.first, ignored);
    }
  };
  static Made made;
  const engine::Context world(MPI_COMM_WORLD);
  const std::string key = script + "\n" + kind;
  if (const auto at = made.folders.find(key); at != made.folders.end()) {
    folder = at->second.first;
    return at->second.second;
  }
  std::int64_t pid = ::getpid();
  engine::broadcast(world, std::span<std::int64_t>(&pid, 1));
  folder = std::filesystem::temp_directory_path() /
           ("tessera_fixtures_" + std::to_string(pid) + "_" + std::to_string(made.folders.size()));
  made.root = world.is_root();
  if (made.root) std::filesystem::create_directories(folder);
  const std::string outcome = run_python_fixture(script, quote(folder.string()) + " " + kind);
  made.folders[key] = {folder, outcome};
  return outcome;
}

}  // namespace tessera::testing

// Skips the test case when the fixture's outcome says Python or a package is missing; fails it when the script
// failed.
#define TESSERA_SKIP_OR_FAIL_ON_FIXTURE(outcome, script)                                                      \
  do {                                                                                                        \
    const std::string fixture_outcome = (outcome);                                                            \
    if (fixture_outcome.rfind("skip", 0) == 0)                                                                \
      GTEST_SKIP() << "needs /usr/bin/python3 with anndata, h5py, scipy and pandas (Debian: apt-get install " \
                      "python3-anndata): "                                                                    \
                   << fixture_outcome;                                                                        \
    ASSERT_EQ(fixture_outcome, "") << (script);                                                               \
  } while (0)

// Runs the fixture script, then TESSERA_SKIP_OR_FAIL_ON_FIXTURE.
#define TESSERA_PYTHON_FIXTURE_OR_SKIP(script, arguments) \
  TESSERA_SKIP_OR_FAIL_ON_FIXTURE(::tessera::testing::run_python_fixture(script, arguments), script)

// The same through shared_python_fixture; declares `folder`, the folder holding the files.
#define TESSERA_SHARED_PYTHON_FIXTURE_OR_SKIP(folder, script, kind) \
  std::filesystem::path folder;                                     \
  TESSERA_SKIP_OR_FAIL_ON_FIXTURE(::tessera::testing::shared_python_fixture(script, kind, folder), script)
