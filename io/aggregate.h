// Signatures with metadata -> the (cell type x perturbation) table (io/perturbation_table.h).
//
// Each signature is placed by its `cell_id` (LINCS2020 beta: `cell_iname`) and `pert_id`. Signatures whose `pert_type`
// is one of control_types are controls: their mean per cell type becomes table.controls, and when `center` asks for it
// that mean is subtracted from the cell's treated entries (for expression-level data; Level 5 signatures are
// already differences). Replicates, doses and times of one (cell, perturbation) are pooled by their mean, or
// only the signatures with the chosen dose / time are kept.
//
// Distributed: each rank sums its own block of signatures, then one allreduce combines the sums, so every
// rank ends with the same table. Sums are in double; results agree across rank counts to rounding (~1e-12).
#pragma once

#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "io/gctx.h"
#include "io/perturbation_table.h"

namespace tessera::io {

enum class ControlCentering {
  kAuto,      // subtract the cell's control mean when the cell has controls
  kNone,      // never subtract
  kRequired,  // subtract; a treated cell type without controls is an error
};
// auto | none | required (the names of --center).
const engine::NameTable<ControlCentering>& name_table(ControlCentering);

// The cell field of LINCS2020 beta's siginfo; the default cell_field falls back to it when cell_id is absent.
inline constexpr const char* kBetaCellField = "cell_iname";

struct AggregationOptions {
  std::string cell_field = "cell_id";  // when absent and left at this default: kBetaCellField
  std::string pert_field = "pert_id";
  std::string type_field = "pert_type";
  std::string dose_field = "pert_idose";
  std::string time_field = "pert_itime";
  std::vector<std::string> control_types = {"ctl_vehicle", "ctl_untrt", "ctl_vehicle.cns", "ctl_untrt.cns"};
  std::string dose;  // empty: pool every dose (mean); otherwise keep only this pert_idose value
  std::string time;  // empty: pool every time point; otherwise keep only this pert_itime value
  ControlCentering center = ControlCentering::kAuto;
};

// Collective. `source` names the file in error messages (a missing field, NaN values). Takes the signatures by
// value and frees their values once summed, and the table's doubles are the summed buffer itself, divided in
// place: the peak per rank is this rank's float slab plus one genes x (observed entries + cell types) buffer, not
// two of them (a LINCS-sized table is 1.6 GB of doubles). Pass a block with std::move when it is not needed after.
PerturbationTable aggregate(const engine::Context& ctx, LocalGctx<float> signatures, const AggregationOptions& options,
                            const std::string& source);

}  // namespace tessera::io
