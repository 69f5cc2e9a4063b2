#include "tests/support/run_command.h"

#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace tessera::testing {

std::string quote(const std::string& argument) {
  std::string quoted = "'";
  for (char c : argument) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult run_command(const std::string& command, int timeout_seconds) {
  std::string environment = "env -i";
  for (const char* name : {"PATH", "HOME", "TMPDIR", "TESSERA_DATA_DIR"}) {
    if (const char* value = std::getenv(name)) environment += " " + std::string(name) + "=" + quote(value);
  }
  environment += " OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1";
  const std::string full =
      environment + " timeout " + std::to_string(timeout_seconds) + " sh -c " + quote(command) + " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  CommandResult result;
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  while (fgets(buffer.data(), int(buffer.size()), pipe)) result.output += buffer.data();
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string mpirun(int ranks) {
  return std::string(TESSERA_MPIEXEC) + " -np " + std::to_string(ranks) + " --oversubscribe";
}

}  // namespace tessera::testing
