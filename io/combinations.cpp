#include "io/combinations.h"

#include <algorithm>

namespace tessera::io {

std::vector<std::string> combination_parts(std::string_view perturbation) {
  std::vector<std::string> parts;
  while (true) {
    const std::size_t plus = perturbation.find('+');
    parts.emplace_back(perturbation.substr(0, plus));
    if (plus == std::string_view::npos) return parts;
    perturbation.remove_prefix(plus + 1);
  }
}

bool is_combination(std::string_view perturbation) { return perturbation.find('+') != std::string_view::npos; }

std::string canonical_perturbation(std::string_view name, const std::vector<std::string>& control_values) {
  std::vector<std::string> kept;
  for (auto& part : combination_parts(name))
    if (std::find(control_values.begin(), control_values.end(), part) == control_values.end())
      kept.push_back(std::move(part));
  std::sort(kept.begin(), kept.end());
  std::string canonical;
  for (const auto& part : kept) (canonical += canonical.empty() ? "" : "+") += part;
  return canonical;
}

}  // namespace tessera::io
