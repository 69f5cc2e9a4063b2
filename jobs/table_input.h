// Options and code that turn an input file (or the built-in simulated screen) into the (cell type x
// perturbation) table, shared by `impute` and `evaluate`.
#pragma once

#include <optional>

#include "engine/context.h"
#include "engine/parameters.h"
#include "io/aggregate.h"
#include "io/perturbation_table.h"
#include "jobs/command_line.h"
#include "jobs/signature_file.h"
#include "jobs/single_cell_input.h"
#include "solvers/simulation/cmap_simulator.h"

namespace tessera::jobs {

// --dose, --time, --control-types, --center (checked while parsing against the names of io::ControlCentering),
// --cell-field, --pert-field, and the side tables of a release shipped as LINCS2020 beta is (jobs/signature_file.h):
// --signature-info, --compound-info, --where (its syntax checked while parsing), --gene-info, --genes (checked
// against io::gene_spaces() while parsing).
void add_aggregation_options(po::options_description& options);

// What load_table needs: how to aggregate, and which side tables select and describe the input.
struct TableOptions : io::AggregationOptions {
  SideTableOptions side;
  SingleCellOptions single_cell;
  // Whether the command line gave options that fit one kind of input only, so load_table can refuse them for the
  // other: a single-cell option (--preset ... --var-genes), or --control-types (bulk pert_type values).
  bool single_cell_given = false;
  bool control_types_given = false;
};
// Errors: --where or --compound-info without --signature-info, --genes without --gene-info, --obs-context with
// --cell-field or --obs-perturbation with --pert-field (each names the fix). Field precedence: --preset, then
// --obs-context / --cell-field (and --obs-perturbation / --pert-field).
TableOptions aggregation_options(const po::variables_map& vm);

struct TableInput {
  io::PerturbationTable table;
  std::string source;                                     // file name, or "built-in simulated screen"
  std::optional<solvers::simulation::GroundTruth> truth;  // only for the built-in data set
  // With --compound-info: ids = table.perts, text fields compound_output_fields() (cmap_name, moa) of each
  // perturbation's compounds, values joined with '|', -666 when missing; otherwise empty.
  io::MetaTable pert_fields;
};

// Collective. Reads `path` (GCTX/GCT; an .h5ad is pseudobulked: jobs/single_cell_input.h) or, when path is empty,
// simulates the default screen with `seed`. Errors: options for the other kind of input (side tables or
// --control-types with an .h5ad, single-cell options with bulk input), naming the fix.
TableInput load_table(const engine::Context& ctx, const std::string& path, const TableOptions& options,
                      std::uint64_t seed);

}  // namespace tessera::jobs
