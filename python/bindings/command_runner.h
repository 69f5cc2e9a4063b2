// Running a `tessera` command inside the Python process: the same command functions as the `tessera` program
// (jobs/commands.h), so a Python call and the command line give the same numbers and the same messages.
#pragma once

#include <string>
#include <vector>

#include "engine/error.h"

namespace tessera::python {

// A command stopped on a signal (Ctrl-C, or SIGTERM/SIGUSR1/SIGUSR2 from Slurm): raised in Python as
// tessera.Stopped, a KeyboardInterrupt.
class Stopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Any exception but a tessera::Error: a bug. Raised in Python as tessera.InternalError.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Collective over MPI_COMM_WORLD: parses and validates `args` as `tessera <command> <args>` would, and runs
// nothing. A bad option throws tessera::Error on every rank alike (nothing has started that another rank could
// be waiting in), so each rank can raise it. Returns false when `args` asked for --help (it was printed).
bool check_options(const std::string& command, const std::vector<std::string>& args);

// Collective over MPI_COMM_WORLD: checks the options (check_options), then runs the command with the GIL released
// and Ctrl-C turned into a stop at the command's next safe point. Returns the command's exit code. On one rank a
// failure throws (tessera::Error for bad input, InternalError otherwise); on several ranks it ends the job as the
// command line does (engine/fatal.h), since the other ranks may be waiting for the failed one in a collective.
// A stop throws Stopped with the command's account of what it left written.
struct CommandResult {
  int exit_code = 0;
  std::string printed;  // what the command printed on stdout (its tables), for Python to show or parse
};
CommandResult run_command(const std::string& command, const std::vector<std::string>& args);

// One option of a command, as `tessera <command> --help` lists it.
struct OptionInfo {
  std::string name;           // long name, "dnpp-k"
  std::string default_value;  // as text; "" when the option has none
  std::string help;
  bool is_flag = false;  // takes no value
};

// Local: the options of `command`, from the same declarations that the command line parses (also those of the
// perturbation table, python/bindings/table_arrays.h, under its name).
std::vector<OptionInfo> command_options(const std::string& command);

}  // namespace tessera::python
