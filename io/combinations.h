// Perturbation names of combination screens (Norman et al. 2019, GEARS, CPA): "A+B" is A and B applied together.
//
// GEARS writes a single perturbation as "A+ctrl" (or "ctrl+A") and the control cells as "ctrl". Tessera names a
// perturbation canonically: the parts that are control values are dropped and the others sorted and joined by '+'
// ("ctrl+A" -> "A", "B+A" -> "A+B"), so one perturbation has one name whichever order or padding a file uses, and
// a name made only of control parts is the control. Every command that reads perturbation names from a
// single-cell file applies canonical_perturbation, so tables, outputs and scored predictions agree. Local.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::io {

// The parts of a name split on '+' (a single perturbation: itself). Empty parts (as in "A++B") are kept, so the
// caller can reject them.
std::vector<std::string> combination_parts(std::string_view perturbation);

// True when the name has more than one part: a combination of perturbations.
bool is_combination(std::string_view perturbation);

// The canonical name (above); "" when every part is one of control_values (the name is a control).
std::string canonical_perturbation(std::string_view name, const std::vector<std::string>& control_values);

}  // namespace tessera::io
