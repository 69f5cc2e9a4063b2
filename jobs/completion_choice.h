// Which entries `tessera impute` completes and writes: the whole table by default, or what the user names with
// --complete-cells / --complete-perts (comma lists) or --complete-pairs (a CSV of cell_id,pert_id). A LINCS-sized
// table has millions of (cell, perturbation) pairs; all 230 x 30,000 of them at 978 genes are 27 GB in float32,
// so at that scale the user completes what they will read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/perturbation_table.h"
#include "jobs/command_line.h"
#include "solvers/imputation/protocol.h"

namespace tessera::jobs {

// --complete-cells, --complete-perts, --complete-pairs.
void add_completion_options(po::options_description& options);

// Checks the options that need no data (--complete-pairs excludes the other two). Local.
void check_completion_options(const po::variables_map& vm);

// The entries to complete, in entry order (cell, then perturbation), without the cell types the plan dropped
// unless the user names them (then an Error says why they cannot be completed). Names that are not in the table
// are an Error naming the option (or the file and line) and the first unknown name. Local.
std::vector<std::int64_t> entries_to_complete(const po::variables_map& vm, const io::PerturbationTable& table,
                                              const solvers::imputation::FoldPlan& plan);

}  // namespace tessera::jobs
