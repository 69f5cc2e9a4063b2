#include "python/bindings/command_runner.h"

#include <pybind11/pybind11.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "engine/context.h"
#include "engine/fatal.h"
#include "engine/log.h"
#include "engine/signals.h"
#include "jobs/command_line.h"
#include "jobs/commands.h"
#include "python/bindings/table_arrays.h"

namespace tessera::python {

namespace py = pybind11;

namespace {

const jobs::Command& command_named(const std::string& name) {
  const auto* command = jobs::find_command(name);
  TESSERA_CHECK(command != nullptr, "tessera has no command '", name, "'; the commands are those of 'tessera --help'");
  return *command;
}

// The default of an option as Boost prints it in --help: "arg (=5)" -> "5".
std::string default_text(const jobs::po::option_description& option) {
  const std::string format = option.format_parameter();
  const auto open = format.find("(=");
  if (open == std::string::npos || format.back() != ')') return "";
  return format.substr(open + 2, format.size() - open - 3);
}

std::vector<OptionInfo> describe(const jobs::po::options_description& declared) {
  std::vector<OptionInfo> options;
  for (const auto& option : declared.options()) {
    if (option->long_name().empty() || option->long_name() == "help") continue;
    options.push_back(
        {option->long_name(), default_text(*option), option->description(), option->semantic()->max_tokens() == 0});
  }
  return options;
}

// Ends the job as engine::run_or_abort does when there are other ranks to reach; on one rank returns, so that the
// caller raises the error in Python.
void end_job_if_distributed(const engine::Context& world, const std::string& message, int code) {
  if (world.size() == 1) return;
  engine::any_rank_error(message);
  world.abort(code);
}

// Redirects the process's stdout (file descriptor 1, which the commands' printf writes to) into a temporary file
// for its lifetime: a notebook shows only what goes through Python's sys.stdout, so the text is handed back for
// the Python layer to write there. Python code that writes to file descriptor 1 meanwhile (a logging handler on
// sys.stdout in a script) is captured too, and comes out afterwards: delayed, not lost.
class CapturedStdout {
 public:
  CapturedStdout() : file_(std::tmpfile()) {
    TESSERA_CHECK(file_ != nullptr, "cannot create a temporary file for the command's output: check $TMPDIR");
    std::fflush(stdout);
    saved_ = ::dup(STDOUT_FILENO);
    ::dup2(::fileno(file_), STDOUT_FILENO);
  }
  ~CapturedStdout() {
    restore();
    std::fclose(file_);
  }
  CapturedStdout(const CapturedStdout&) = delete;
  CapturedStdout& operator=(const CapturedStdout&) = delete;

  std::string text() {
    restore();
    std::string text;
    std::rewind(file_);
    char buffer[1 << 14];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) text.append(buffer, n);
    return text;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stdout);
    ::dup2(saved_, STDOUT_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::FILE* file_;
  int saved_ = -1;
};

}  // namespace

bool check_options(const std::string& name, const std::vector<std::string>& args) {
  const auto& command = command_named(name);
  const engine::Context world;
  jobs::OptionCheck check;
  try {
    command.run(world, args);
  } catch (const jobs::OptionsChecked&) {
    return true;
  }
  return false;  // parse_options printed --help and the command returned before doing anything
}

CommandResult run_command(const std::string& name, const std::vector<std::string>& args) {
  const auto& command = command_named(name);
  if (!check_options(name, args)) return {};
  const engine::Context world;
  std::optional<std::string> stopped;
  CommandResult result;
  {
    py::gil_scoped_release release;
    CapturedStdout printed;
    const engine::ScopedStopHandlers handlers(
        jobs::stops_at_safe_points(name) ? engine::StopMode::kAtSafePoints : engine::StopMode::kEndOnTerm, name);
    try {
      result.exit_code = command.run(world, args);
    } catch (const engine::StopRequested& stop) {
      stopped = stop.what();
    } catch (const Error& error) {
      end_job_if_distributed(world, error.what(), engine::kExitError);
      throw;
    } catch (const std::exception& error) {
      end_job_if_distributed(world, std::string("internal error: ") + error.what(), engine::kExitInternal);
      throw InternalError(std::string("internal error (please report): ") + error.what());
    }
    // A command with no safe point runs to its end after Ctrl-C: it finished, and the caller still asked to stop.
    if (!stopped && engine::stop_signalled()) stopped = "tessera " + name + " had finished; its outputs are complete";
    result.printed = printed.text();
  }
  if (stopped)
    throw Stopped("stopped on " + engine::signal_name(engine::stop_signal_number()) +
                  (stopped->empty() ? std::string() : ": " + *stopped));
  return result;
}

std::vector<OptionInfo> command_options(const std::string& name) {
  if (name == kTableOptionsName) return describe(table_options());
  const auto& command = command_named(name);
  // Context of this rank alone: listing options is local, and the command stops in parse_options.
  const engine::Context self(MPI_COMM_SELF);
  jobs::OptionCheck check;
  try {
    command.run(self, {});
  } catch (const jobs::OptionsChecked&) {
  } catch (const Error&) {
    // A command that insists on an option it was not given still declared its options first.
  }
  TESSERA_CHECK(check.options() != nullptr, "tessera ", name, " declares no options");
  std::vector<OptionInfo> options;
  for (const auto& option : check.options()->options()) {
    if (option->long_name().empty() || option->long_name() == "help") continue;
    options.push_back(
        {option->long_name(), default_text(*option), option->description(), option->semantic()->max_tokens() == 0});
  }
  return options;
}

}  // namespace tessera::python
