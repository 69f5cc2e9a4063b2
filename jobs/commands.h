// The `tessera` commands. Each takes the arguments after its name and returns the process exit code; each is
// collective over the world Context (every rank runs it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "jobs/command_line.h"

namespace tessera::jobs {

using CommandFunction = int (*)(const engine::Context& world, const std::vector<std::string>& args);

struct Command {
  CommandSpec spec;
  CommandFunction run;
};

int run_simulate(const engine::Context& world, const std::vector<std::string>& args);
int run_impute(const engine::Context& world, const std::vector<std::string>& args);
int run_evaluate(const engine::Context& world, const std::vector<std::string>& args);
int run_inspect(const engine::Context& world, const std::vector<std::string>& args);
int run_sweep(const engine::Context& world, const std::vector<std::string>& args);
int run_rank(const engine::Context& world, const std::vector<std::string>& args);
int run_design(const engine::Context& world, const std::vector<std::string>& args);
// jobs/train_command.cpp in builds with LibTorch; otherwise commands.cpp's stub says "built without LibTorch".
int run_train(const engine::Context& world, const std::vector<std::string>& args);
int run_discover(const engine::Context& world, const std::vector<std::string>& args);
int run_simulate_dag(const engine::Context& world, const std::vector<std::string>& args);
int run_report(const engine::Context& world, const std::vector<std::string>& args);

// The table of commands, in the order `tessera --help` lists them.
const std::vector<Command>& commands();
const CommandSpec& spec_of(const std::string& name);
// The command named `name`, or null.
const Command* find_command(std::string_view name);

// True for the commands whose long loops poll the stop flag at safe points (engine::stop_point) and exit 75 there,
// after their checkpoint where they have one. Every other command has no safe point: SIGTERM ends it at once with
// a message and exit 75 (engine::StopMode::kEndOnTerm), and its atomic writers leave no half-written output.
bool stops_at_safe_points(std::string_view command);

}  // namespace tessera::jobs
