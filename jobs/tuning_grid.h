// The --autotune-grid file of `tessera impute`: the knob values --autotune tries, one section per method.
//
//   [ntk]
//   ntk_prior = all_cells, similarity     # knobs named as the options, with - or _
//   ntk_alpha = 0.5, 0.75, 1.5
//   [two_way_mean]
//   two_way_weight = 0.3, 0.5, 0.7
//
// A method named in the file is tuned over its section (the product of its lists); every other method keeps its
// default grid (solvers/registry.h, default_tuning_grid). Each value is checked against its knob when the file is
// read. Errors name the file and the line: an unknown method or knob, a bad value, an empty list.
#pragma once

#include <filesystem>

#include "solvers/registry.h"

namespace tessera::jobs {

solvers::TuningGrids read_tuning_grid(const std::filesystem::path& path, const solvers::MethodParams& params);

}  // namespace tessera::jobs
