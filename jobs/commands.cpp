#include "jobs/commands.h"

#include "engine/error.h"

namespace tessera::jobs {

const std::vector<Command>& commands() {
  static const std::vector<Command> table{
      {{"simulate", "simulate a CMap-like screen from a causal gene network (GCTX + HDF5 ground truth)",
        "Simulates expression profiles of cell types treated with drugs, where genes follow a linear structural\n"
        "equation model on a random gene-regulatory DAG and each drug intervenes on a few target genes. Writes\n"
        "the observed samples (GCTX) and the ground truth (true signatures of every pair, DAG, targets; HDF5)."},
       run_simulate},
      {{"impute", "impute missing (cell type, perturbation) signatures and score the methods",
        "Aggregates signatures into a (cell type x perturbation) table, cross-validates each method under a\n"
        "protocol (full: K folds per cell type; sparse: B training drugs per cell type) or a given fold file,\n"
        "prints and writes the metrics table, and writes the completed table (observed + imputed) as GCTX.\n"
        "Without --input it runs on the built-in simulated data set."},
       run_impute},
      {{"evaluate", "score predicted signatures against measured or true ones",
        "Compares predicted signatures (GCTX/GCT with cell_id and pert_id column fields, e.g. from another\n"
        "tool, or Tessera's heldout_*.gctx / completed_*.gctx) with measured signatures (--truth) or with the\n"
        "simulator's ground truth (--ground-truth), on the pairs both hold (or those held out in --fold-file)."},
       run_evaluate},
      {{"inspect", "summarise a GCTX or GCT file",
        "Prints the shape, data type, metadata fields with their types and missing counts, the number of cell\n"
        "types and perturbations, and value statistics of a GCTX or GCT file."},
       run_inspect},
  };
  return table;
}

const CommandSpec& spec_of(const std::string& name) {
  for (const auto& command : commands())
    if (command.spec.name == name) return command.spec;
  TESSERA_FAIL("no command named '", name, "'");
}

}  // namespace tessera::jobs
