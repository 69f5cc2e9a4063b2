// Running a command line from a test (mpirun, the tessera binary), with a hard time limit, in a clean
// environment: a test binary has MPI initialised itself, and an mpirun started from it would inherit that
// singleton's OMPI_* and PMIX_* variables and fail. Only PATH, HOME, TMPDIR, TESSERA_DATA_DIR and the
// variables that let mpirun run as root are passed on.
#pragma once

#include <string>

namespace tessera::testing {

struct CommandResult {
  int exit_code = -1;  // 124 when the time limit was hit
  std::string output;  // stdout and stderr together
  double seconds = 0;
};

CommandResult run_command(const std::string& command, int timeout_seconds = 120);

// "mpirun -np N --oversubscribe" as configured by CMake.
std::string mpirun(int ranks);

// Shell-quotes one argument.
std::string quote(const std::string& argument);

}  // namespace tessera::testing
