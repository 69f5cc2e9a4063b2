// The options that read interventional data (for `tessera discover`, and `tessera design --pool-data`) in any of
// the three layouts: CSV (one column per variable plus a setting column), DCDI's folder (data_interv<i>.npy,
// intervention<i>.csv, regime<i>.csv) or GCTX/GCT (genes as variables, a column field as the setting).
#pragma once

#include <string>

#include "engine/context.h"
#include "jobs/command_line.h"
#include "solvers/causal/data.h"

namespace tessera::jobs {

// Adds --<input_option> plus --format, --setting-column, --observational, --settings, --targets, --dcdi-index
// and --variable-field.
void add_causal_input_options(po::options_description& options, const std::string& input_option,
                              const std::string& input_help);

// Collective. The layout is --format, or else guessed from the path: a folder is DCDI, .gctx/.gct is GCTX.
solvers::causal::InterventionalData read_causal_input(const engine::Context& world, const po::variables_map& vm,
                                                      const std::string& input_option);

}  // namespace tessera::jobs
