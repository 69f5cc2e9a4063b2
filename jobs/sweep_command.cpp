// `tessera sweep plan|run|status|resubmit|collect`: a parameter sweep of another tessera command, run as a Slurm
// job array. Every state lives in files of the sweep folder (jobs/sweep/sweep_state.h), written atomically, so a
// requeued or resubmitted task finds what is done, and `status` needs no sacct.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/collectives.h"
#include "engine/fatal.h"
#include "engine/log.h"
#include "engine/signals.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "jobs/run_record.h"
#include "jobs/sweep/batch_scripts.h"
#include "jobs/sweep/sweep_file.h"
#include "jobs/sweep/sweep_state.h"

namespace tessera::jobs {

namespace fs = std::filesystem;
using sweep::PointState;

namespace {

const char* kSubcommands = "plan | run | status | resubmit | collect";

po::options_description sweep_options() {
  po::options_description options("sweep options");
  options.add_options()("out,o", po::value<std::string>(), "plan: the sweep folder (default: 'out' of the sweep file)")(
      "template-dir", po::value<std::string>(), "plan: folder of sweep.sbatch and collect.sbatch (default: slurm/)")(
      "task", po::value<int>(), "run: the array task to run, usually $SLURM_ARRAY_TASK_ID")(
      "failed", po::bool_switch(), "resubmit: the tasks holding failed or missing points")(
      "submit", po::bool_switch(), "plan, resubmit: call sbatch instead of printing the command")(
      "table", po::value<std::string>()->default_value("metrics.csv"), "collect: the CSV of each point to merge")(
      "output", po::value<std::string>(), "collect: the merged CSV (default: <sweep folder>/results.csv)");
  add_report_option(options);  // status, collect: the sweep's page
  return options;
}

struct Plan {
  fs::path dir;
  sweep::SweepFile file;
  io::CsvTable points;  // index, then the grid parameters
  int num_points() const { return int(points.rows.size()); }
};

Plan load_plan(const fs::path& dir) {
  Plan plan;
  plan.dir = fs::absolute(dir);
  TESSERA_CHECK(fs::exists(dir / "sweep.ini") && fs::exists(dir / "points.csv"), "'", dir.string(),
                "' is not a planned sweep folder (no sweep.ini and points.csv): run 'tessera sweep plan <file>' first");
  plan.file = sweep::read_sweep_file(dir / "sweep.ini");
  plan.points = io::read_csv(dir / "points.csv");
  return plan;
}

std::string text_of(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs a shell command (sbatch) and returns its exit code; output goes to our stdout.
int shell(const std::string& command) {
  std::printf("+ %s\n", command.c_str());
  std::fflush(stdout);
  const int status = std::system(command.c_str());
  return status == -1 ? 127 : WEXITSTATUS(status);
}

std::string submit_commands(const fs::path& dir, const std::string& array) {
  const std::string override_array = array.empty() ? "" : " --array=" + array;
  return "jid=$(sbatch --parsable" + override_array + " " + (dir / "array.sbatch").string() +
         ") && sbatch --dependency=afterany:${jid%%;*} " + (dir / "collect.sbatch").string();
}

// The message of an Error without its " [source.cpp:N]" tag, to quote inside another message.
std::string message_of(const Error& error) {
  std::string text = error.what();
  const auto tag = text.rfind(" [");
  if (tag != std::string::npos && text.back() == ']') text.erase(tag);
  return text;
}

// Parses `args` as the sweep's command would, without running it (jobs/command_line.h, OptionCheck). Parsing is
// local, so this runs on rank 0 alone, as plan does. Returns the Error a point given these arguments would stop
// with ("" when none); `options` receives the command's options when its parser was reached.
std::string option_error(const engine::Context& world, const sweep::SweepFile& file, std::vector<std::string> args,
                         const fs::path& out, po::options_description* options = nullptr) {
  CommandFunction function = nullptr;
  for (const auto& command : commands())
    if (command.spec.name == file.command) function = command.run;
  TESSERA_CHECK(function, "sweep command '", file.command, "' is not in this tessera's command table");
  args.push_back("--out");
  args.push_back(out.string());
  const OptionCheck check;
  std::string error;
  try {
    function(world, args);
    error = "tessera " + file.command + " ran instead of stopping after its options";
  } catch (const OptionsChecked&) {
  } catch (const Error& e) {
    error = message_of(e);
  }
  if (options != nullptr && check.options() != nullptr) options->add(*check.options());
  return error;
}

// Every [fixed] and [grid] key must be an option of the command and every grid value one it accepts: checked
// here, at plan time, rather than failing in every array task. Each grid value is checked in the first point
// with only that value changed, so that the message names its line.
void check_sweep_options(const engine::Context& world, const sweep::SweepFile& file, const fs::path& sweep_path,
                         const fs::path& dir) {
  const fs::path out = sweep::point_dir(dir, 0);
  const std::string name = "sweep file '" + sweep_path.string() + "'";
  const auto first = file.points().front();
  po::options_description options;
  const std::string first_error = option_error(world, file, sweep::point_arguments(file, first), out, &options);
  TESSERA_CHECK(!options.options().empty(), name, ": the points of 'tessera ", file.command,
                "' cannot run: ", first_error);
  const auto check_key = [&](const char* section, int line, const std::string& key) {
    if (options.find_nothrow(key, /*approx=*/false) != nullptr) return;
    const std::string closest = closest_option(options, key);
    TESSERA_FAIL(name, " line ", line, ": [", section, "] '", key, "' is no option of 'tessera ", file.command, "'",
                 closest.empty() ? "" : "; did you mean '" + closest + "'?", " (see 'tessera ", file.command,
                 " --help' for the options)");
  };
  for (std::size_t f = 0; f < file.fixed.size(); ++f) check_key("fixed", file.fixed_lines[f], file.fixed[f].first);
  for (std::size_t g = 0; g < file.grid.size(); ++g) check_key("grid", file.grid_lines[g], file.grid[g].first);
  for (std::size_t g = 0; g < file.grid.size(); ++g)
    for (const auto& value : file.grid[g].second) {
      auto point = first;
      point[g] = value;
      const std::string error = option_error(world, file, sweep::point_arguments(file, point), out);
      TESSERA_CHECK(error.empty() || error == first_error, name, " line ", file.grid_lines[g], ": [grid] ",
                    file.grid[g].first, " = ", value, ": ", error);
    }
  TESSERA_CHECK(first_error.empty(), name, ": the options of its points are refused by 'tessera ", file.command,
                "': ", first_error, "; fix the [fixed] or [grid] entry it names");
}

int plan_sweep(const engine::Context& world, const fs::path& sweep_path, const po::variables_map& vm) {
  auto file = sweep::read_sweep_file(sweep_path);
  const fs::path dir = fs::absolute(vm.count("out") ? vm["out"].as<std::string>() : file.out);
  check_sweep_options(world, file, sweep_path, dir);
  const auto values = file.points();
  io::CsvTable points;
  points.header = {"index"};
  for (const auto& name : file.parameter_names()) points.header.push_back(name);
  for (std::size_t i = 0; i < values.size(); ++i) {
    points.rows.push_back({std::to_string(i)});
    for (const auto& value : values[i]) points.rows.back().push_back(value);
  }
  // Planning twice is fine; planning a different sweep into a folder with results would mix them up.
  const std::string sweep_text = text_of(sweep_path);
  if (fs::exists(dir / "points.csv"))
    TESSERA_CHECK(text_of(dir / "points.csv") == io::to_csv_text(points) && text_of(dir / "sweep.ini") == sweep_text,
                  "'", dir.string(), "' already holds a different sweep: choose another 'out' or delete the folder");
  const int tasks = file.num_tasks(int(values.size()));
  const std::string array = "0-" + std::to_string(tasks - 1) + "%" + std::to_string(file.max_parallel);
  const fs::path templates =
      vm.count("template-dir") ? fs::path(vm["template-dir"].as<std::string>()) : sweep::default_template_dir();
  const std::map<std::string, std::string> fill{{"ARRAY", array},
                                                {"SWEEP_DIR", dir.string()},
                                                {"TESSERA", sweep::this_executable().string()},
                                                {"JOB_NAME", "tessera-sweep-" + dir.filename().string()}};
  const std::string array_script = sweep::fill_template(templates / "sweep.sbatch", fill);
  const std::string collect_script = sweep::fill_template(templates / "collect.sbatch", fill);
  io::write_bytes_atomically(dir / "sweep.ini", sweep_text);
  io::write_csv(dir / "points.csv", points);
  io::write_bytes_atomically(dir / "array.sbatch", array_script);
  io::write_bytes_atomically(dir / "collect.sbatch", collect_script);
  io::make_output_folder(dir / "status", "--out");
  io::make_output_folder(dir / "logs", "--out");  // sbatch does not create the folder of --output
  std::printf("Planned %zu points of '%s' (%s) as %d array tasks, at most %d at once, in %s\n", values.size(),
              file.command.c_str(), file.combine.c_str(), tasks, file.max_parallel, dir.c_str());
  if (vm["submit"].as<bool>()) return shell(submit_commands(dir, ""));
  std::printf("Submit with:\n  %s\n", submit_commands(dir, "").c_str());
  return 0;
}

// Runs one point in this process, on every rank, and records the outcome. Returns the command's exit code.
int run_point(const engine::Context& world, const Plan& plan, int index) {
  std::vector<std::string> values(plan.points.rows.at(std::size_t(index)).begin() + 1,
                                  plan.points.rows.at(std::size_t(index)).end());
  auto args = sweep::point_arguments(plan.file, values);
  args.push_back("--out");
  args.push_back(sweep::point_dir(plan.dir, index).string());
  CommandFunction function = nullptr;
  for (const auto& command : commands())
    if (command.spec.name == plan.file.command) function = command.run;
  TESSERA_CHECK(function, "sweep command '", plan.file.command, "' is not in this tessera's command table");
  std::string line;
  for (const auto& arg : args) line += " " + arg;
  engine::info("point ", index, ": tessera ", plan.file.command, line);

  const auto start = std::chrono::steady_clock::now();
  int code = 0;
  try {
    code = function(world, args);
  } catch (const engine::StopRequested&) {
    // The command stopped at one of its own safe points (engine/signals.h): no failure, and the point is left
    // unrecorded so that the requeued task runs it again.
    engine::info("point ", index, " stopped by a signal before it finished; it runs again when the task resumes");
    throw;
  } catch (const std::exception& e) {
    // Recorded by the rank that failed, before run_or_abort ends the job: the other ranks may be stuck in a
    // collective, so only this rank is sure to get here.
    sweep::write_status(plan.dir, index, PointState::kFailed, e.what());
    throw;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (code == engine::kExitRequeue) return code;  // stopped, as above, but by returning the requeue code
  if (world.is_root()) {
    if (code == 0)
      sweep::write_status(plan.dir, index, PointState::kDone, std::to_string(seconds));
    else
      sweep::write_status(plan.dir, index, PointState::kFailed, "exit code " + std::to_string(code));
  }
  world.barrier();
  return code;
}

int run_task(const engine::Context& world, const Plan& plan, int task) {
  const int per_task = plan.file.points_per_task;
  TESSERA_CHECK(task >= 0 && task < plan.file.num_tasks(plan.num_points()), "--task ", task,
                " is out of range: the sweep in ", plan.dir.string(), " has tasks 0..",
                plan.file.num_tasks(plan.num_points()) - 1);
  const char* restarts = std::getenv("SLURM_RESTART_COUNT");
  engine::info("sweep task ", task, " (restart ", restarts ? restarts : "0", ") of ", plan.dir.string());
  int failures = 0;
  for (int index = task * per_task; index < std::min(plan.num_points(), (task + 1) * per_task); ++index) {
    if (sweep::read_status(plan.dir, index).state == PointState::kDone) {
      engine::info("point ", index, " is already done: skipped");
      continue;
    }
    // A point is the unit of checkpointing: stop between points, never inside one.
    if (engine::stop_requested(world)) {
      engine::info("stop requested (signal ", engine::stop_signal_number(), "): task ", task,
                   " checkpointed before point ", index, ", exiting with ", engine::kExitRequeue, " for requeue");
      return engine::kExitRequeue;
    }
    const int code = run_point(world, plan, index);
    if (code == engine::kExitRequeue) return code;
    if (code != 0) ++failures;
  }
  return failures == 0 ? 0 : engine::kExitError;
}

int print_status(const Plan& plan) {
  const auto counts = sweep::count_points(plan.dir, plan.num_points());
  std::printf("%s: %d points: %zu done, %zu failed, %zu missing\n", plan.dir.c_str(), plan.num_points(),
              counts.done.size(), counts.failed.size(), counts.missing.size());
  if (!counts.failed.empty()) {
    std::printf("failed: %s\n", sweep::index_ranges(counts.failed).c_str());
    for (int i : counts.failed) std::printf("  %d: %s\n", i, sweep::read_status(plan.dir, i).detail.c_str());
  }
  if (!counts.missing.empty()) std::printf("missing: %s\n", sweep::index_ranges(counts.missing).c_str());
  return 0;
}

int resubmit(const Plan& plan, const po::variables_map& vm) {
  TESSERA_CHECK(vm["failed"].as<bool>(), "tessera sweep resubmit: say --failed (resubmits failed and missing points)");
  const auto counts = sweep::count_points(plan.dir, plan.num_points());
  std::vector<int> tasks;
  for (const auto* list : {&counts.failed, &counts.missing})
    for (int i : *list) tasks.push_back(i / plan.file.points_per_task);
  std::sort(tasks.begin(), tasks.end());
  tasks.erase(std::unique(tasks.begin(), tasks.end()), tasks.end());
  if (tasks.empty()) {
    std::printf("%s: all %d points are done; nothing to resubmit\n", plan.dir.c_str(), plan.num_points());
    return 0;
  }
  const std::string array = sweep::index_ranges(tasks) + "%" + std::to_string(plan.file.max_parallel);
  if (vm["submit"].as<bool>()) return shell(submit_commands(plan.dir, array));
  std::printf("%s\n", submit_commands(plan.dir, array).c_str());
  return 0;
}

int collect(const Plan& plan, const po::variables_map& vm) {
  const std::string table_name = vm["table"].as<std::string>();
  const fs::path output = vm.count("output") ? fs::path(vm["output"].as<std::string>()) : plan.dir / "results.csv";
  io::CsvTable merged;
  std::vector<int> absent;
  for (int i = 0; i < plan.num_points(); ++i) {
    const fs::path table_path = sweep::point_dir(plan.dir, i) / table_name;
    if (sweep::read_status(plan.dir, i).state != PointState::kDone || !fs::exists(table_path)) {
      absent.push_back(i);
      continue;
    }
    const auto table = io::read_csv(table_path);
    std::vector<std::string> header{"point"};
    header.insert(header.end(), plan.points.header.begin() + 1, plan.points.header.end());
    header.insert(header.end(), table.header.begin(), table.header.end());
    if (merged.header.empty()) merged.header = header;
    TESSERA_CHECK(merged.header == header, "'", table_path.string(), "' has other columns than the points before it; ",
                  "collect merges tables of one layout only");
    for (const auto& row : table.rows) {
      std::vector<std::string> out = plan.points.rows[std::size_t(i)];
      out.insert(out.end(), row.begin(), row.end());
      merged.rows.push_back(std::move(out));
    }
  }
  TESSERA_CHECK(!merged.header.empty(), "no point of ", plan.dir.string(), " is done with a ", table_name,
                "; see 'tessera sweep status ", plan.dir.string(), "'");
  io::write_csv(output, merged);
  std::printf("Collected %d of %d points (%zu rows) into %s\n", plan.num_points() - int(absent.size()),
              plan.num_points(), merged.rows.size(), output.c_str());
  if (!absent.empty())
    std::printf("not collected (failed or missing): %s; rerun them with 'tessera sweep resubmit %s --failed'\n",
                sweep::index_ranges(absent).c_str(), plan.dir.c_str());
  return 0;
}

}  // namespace

int run_sweep(const engine::Context& world, const std::vector<std::string>& args) {
  // "sweep <subcommand> <file or folder> [options]": the two positionals come first.
  std::vector<std::string> rest = args;
  std::string subcommand, target;
  if (!rest.empty() && rest.front().rfind("-", 0) != 0) subcommand = rest.front(), rest.erase(rest.begin());
  if (!rest.empty() && rest.front().rfind("-", 0) != 0) target = rest.front(), rest.erase(rest.begin());
  const auto parsed = parse_options(world, spec_of("sweep"), sweep_options(), rest);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  TESSERA_CHECK(!subcommand.empty(), "tessera sweep: name a subcommand (", kSubcommands, ")");
  TESSERA_CHECK(!target.empty(), "tessera sweep ", subcommand, ": name the ",
                subcommand == "plan" ? "sweep file" : "sweep folder", " after '", subcommand, "'");
  if (subcommand == "run") {
    TESSERA_CHECK(vm.count("task"), "tessera sweep run: give --task (in an array job: --task $SLURM_ARRAY_TASK_ID)");
    return run_task(world, load_plan(target), vm["task"].as<int>());
  }
  // The other subcommands are bookkeeping on files: rank 0 does it, the others wait for its exit code.
  std::int64_t code = 0;
  if (world.is_root()) {
    if (subcommand == "plan")
      code = plan_sweep(world, target, vm);
    else if (subcommand == "status")
      code = print_status(load_plan(target));
    else if (subcommand == "resubmit")
      code = resubmit(load_plan(target), vm);
    else if (subcommand == "collect")
      code = collect(load_plan(target), vm);
    else
      TESSERA_FAIL("tessera sweep: unknown subcommand '", subcommand, "'; the subcommands are ", kSubcommands);
    if (subcommand == "status" || subcommand == "collect") write_report_if_asked(world, vm, target);
    std::fflush(stdout);
  }
  std::vector<std::int64_t> shared{code};
  engine::broadcast(world, std::span<std::int64_t>(shared));
  return int(shared[0]);
}

}  // namespace tessera::jobs
