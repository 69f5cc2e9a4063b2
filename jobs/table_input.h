// Options and code that turn an input file (or the built-in simulated screen) into the (cell type x
// perturbation) table, shared by `impute` and `evaluate`.
#pragma once

#include <optional>

#include "engine/context.h"
#include "engine/parameters.h"
#include "io/aggregate.h"
#include "io/perturbation_table.h"
#include "jobs/command_line.h"
#include "solvers/simulation/cmap_simulator.h"

namespace tessera::jobs {

// --dose, --time, --control-types, --center (checked while parsing against the names of io::ControlCentering),
// --cell-field, --pert-field
void add_aggregation_options(po::options_description& options);
io::AggregationOptions aggregation_options(const po::variables_map& vm);

struct TableInput {
  io::PerturbationTable table;
  std::string source;                                     // file name, or "built-in simulated screen"
  std::optional<solvers::simulation::GroundTruth> truth;  // only for the built-in data set
};

// Collective. Reads `path` (GCTX/GCT) or, when path is empty, simulates the default screen with `seed`.
TableInput load_table(const engine::Context& ctx, const std::string& path, const io::AggregationOptions& options,
                      std::uint64_t seed);

}  // namespace tessera::jobs
