// A single-cell AnnData (.h5ad) screen as the signatures io::aggregate makes the table from: its cells
// pseudobulked (io/pseudobulk.h) per group of (context, perturbation[, dose][, time]).
//
// The obs columns are AggregationOptions' cell_field (context), pert_field (perturbation), dose_field and
// time_field (used when obs has them: a group per value, pooled or chosen by --dose / --time as for bulk data).
// Perturbation names are made canonical (io/combinations.h), so "A+ctrl" and "A" are one group and "B+A" and
// "A+B" another; cells whose perturbation is made only of control values are their context's control group, the
// baseline io::aggregate subtracts (--center). Cells with a missing context or perturbation are left out (counted
// in the log).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "io/aggregate.h"
#include "io/gctx.h"

namespace tessera::jobs {

// How the cells become groups (set by --control-value, --normalize-total, --log1p, --var-genes).
struct SingleCellOptions {
  // Perturbation values (or parts of combinations) that mark control cells: each context's baseline.
  std::vector<std::string> control_values = {"control", "ctrl", "non-targeting"};
  double normalize_total = 0;  // > 0: each cell's counts scaled to this total before averaging; 0: as stored
  bool log1p = false;          // log(1 + x) of each cell's (normalised) values before averaging
  std::string var_genes;       // a boolean var column (e.g. highly_variable) or a comma list of var ids; "": all
};

// The obs column names and control values each community's files use (--preset):
//   scperturb  perturbation, celltype, dose_value, time; controls "control" (scPerturb's harmonised files)
//   gears      condition ("A+B", "A+ctrl", "ctrl"), cell_type; controls "ctrl" (GEARS's PertData files)
//   cpa        condition, cell_type, dose_val; controls "control", "ctrl" (CPA's sci-Plex / Norman files)
enum class SingleCellPreset { kNone, kScperturb, kGears, kCpa };
const engine::NameTable<SingleCellPreset>& name_table(SingleCellPreset);  // none | scperturb | gears | cpa

// Sets the fields and control values of `preset` (kNone: nothing). The caller then applies explicit options.
void apply_preset(SingleCellPreset preset, io::AggregationOptions& aggregation, SingleCellOptions& options);

struct SingleCellGroups {
  // Columns = groups (ids "<context>:<perturbation>[:<dose>][:<time>]", fields cell_field, pert_field, dose_field
  // and time_field when obs has them, pert_type "control" / "treatment", n_cells), rows = the selected var rows
  // (pr_gene_symbol from var's gene_symbols, gene_symbol, gene_name or feature_name column when there is one);
  // values = this rank's engine::block_range of groups.
  io::LocalGctx<float> groups;
  // `aggregation` with type_field and control_types set to place the groups' pert_type.
  io::AggregationOptions aggregation;
};

// Collective over ctx. Errors (every rank together) name the file, the obs or var column and the fix: a missing
// context or perturbation column (listing obs's columns and the presets), an empty part of a combination ("A++B"),
// a --var-genes id not in var, a selection that keeps no gene, no cell left in any group.
SingleCellGroups read_single_cell_groups(const engine::Context& ctx, const std::filesystem::path& path,
                                         const io::AggregationOptions& aggregation, const SingleCellOptions& options);

}  // namespace tessera::jobs
