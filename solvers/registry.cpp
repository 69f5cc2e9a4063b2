#include "solvers/registry.h"

#include <functional>

#include "engine/error.h"
#ifdef TESSERA_HAVE_TORCH
#include "solvers/autoencoder/factory.h"  // torch-free; set by solvers/autoencoder/CMakeLists.txt
#endif

namespace tessera::solvers {

namespace {

using Factory = std::function<std::unique_ptr<imputation::Imputer>(const MethodParams&)>;

struct MethodEntry {
  const char* name;
  Factory make;
};

template <imputation::BaselineKind Kind>
std::unique_ptr<imputation::Imputer> make_baseline(const MethodParams& params) {
  return std::make_unique<imputation::MeanBaseline>(Kind, params.baseline);
}

// The table: one line per method.
const std::vector<MethodEntry>& methods() {
  static const std::vector<MethodEntry> table = {
      {"cell_mean", make_baseline<imputation::BaselineKind::kCellMean>},
      {"drug_mean", make_baseline<imputation::BaselineKind::kDrugMean>},
      {"two_way_mean", make_baseline<imputation::BaselineKind::kTwoWayMean>},
      {"dnpp",
       [](const MethodParams& p) -> std::unique_ptr<imputation::Imputer> {
         return std::make_unique<imputation::Dnpp>(p.dnpp);
       }},
      {"synthetic_interventions",
       [](const MethodParams& p) -> std::unique_ptr<imputation::Imputer> {
         return std::make_unique<imputation::SyntheticInterventions>(p.si);
       }},
      {"falrtc",
       [](const MethodParams& p) -> std::unique_ptr<imputation::Imputer> {
         return std::make_unique<imputation::Falrtc>(p.falrtc);
       }},
      {"ntk",
       [](const MethodParams& p) -> std::unique_ptr<imputation::Imputer> {
         return std::make_unique<ntk::NtkImputer>(p.ntk);
       }},
      {"ntk_dnpp",
       [](const MethodParams& p) -> std::unique_ptr<imputation::Imputer> {
         return std::make_unique<ntk::NtkDnppImputer>(p.ntk_dnpp, p.ntk, p.dnpp);
       }},
      {"additive",
       [](const MethodParams&) -> std::unique_ptr<imputation::Imputer> {
         return std::make_unique<imputation::AdditiveCombination>();
       }},
#ifdef TESSERA_HAVE_TORCH
      {"autoencoder", [](const MethodParams& p) { return autoencoder::make_autoencoder_imputer(p.autoencoder); }},
#endif
  };
  return table;
}

}  // namespace

void MethodParams::validate() const {
  baseline.validate();
  dnpp.validate();
  si.validate();
  falrtc.validate();
  ntk.validate();
  ntk_dnpp.validate();
  autoencoder.validate();
  inner.validate();
  stack.validate();
}

std::vector<std::string> imputation_methods() {
  std::vector<std::string> names;
  for (const auto& method : methods()) names.emplace_back(method.name);
  return names;
}

std::unique_ptr<imputation::Imputer> make_imputer(const std::string& name, const MethodParams& params) {
  for (const auto& method : methods())
    if (name == method.name) return method.make(params);
  std::string valid;
  for (const auto& method : methods()) valid += (valid.empty() ? "" : ", ") + std::string(method.name);
  TESSERA_FAIL("unknown imputation method '", name, "': valid methods are ", valid);
}

imputation::TuningGrid default_tuning_grid(const std::string& method) {
  // Each grid brackets the default (the published value where there is one) by about a factor of two either side,
  // and the NTK grid tries every prior: which prior wins depends on how much each cell type measured.
  static const std::map<std::string, imputation::TuningGrid> grids = {
      {"two_way_mean", {{"two_way_weight", {"0.25", "0.5", "0.75"}}}},
      {"dnpp", {{"dnpp_k", {"5", "10", "20"}}}},
      {"synthetic_interventions", {{"si_num_donors", {"5", "10", "20"}}}},
      {"ntk", {{"ntk_prior", {"reference", "all_cells", "similarity"}}, {"ntk_alpha", {"0.375", "0.75", "1.5"}}}},
      {"ntk_dnpp", {{"ntk_prior", {"reference", "all_cells", "similarity"}}}},
  };
  const auto grid = grids.find(method);
  return grid == grids.end() ? imputation::TuningGrid{} : grid->second;
}

std::vector<imputation::Candidate> grid_candidates(const std::string& method, const MethodParams& params,
                                                   const imputation::TuningGrid& grid) {
  std::vector<imputation::Candidate> candidates;
  for (const auto& point : imputation::grid_points(grid)) {
    MethodParams configured = params;
    for (std::size_t i = 0; i < grid.size(); ++i)
      TESSERA_CHECK(engine::set_knob(configured, grid[i].first, grid[i].second[point[i]]), "tuning grid of ", method,
                    ": no method has a knob '", grid[i].first, "' (knobs are named as the options, e.g. ntk_alpha)");
    candidates.push_back({imputation::grid_point_label(grid, point), make_imputer(method, configured)});
  }
  return candidates;
}

std::unique_ptr<imputation::Imputer> make_method(const std::string& name, const MethodParams& params,
                                                 const TuningGrids* tuning) {
  const auto grid_of = [&](const std::string& method) {
    const auto given = tuning->find(method);
    return given != tuning->end() ? given->second : default_tuning_grid(method);
  };
  if (name == kStackMethod) {
    std::vector<imputation::Candidate> bases;
    for (const auto& base : engine::split_comma_list(params.stack.methods)) {
      TESSERA_CHECK(base != kStackMethod, "--stack-methods cannot name stack itself");
      if (!tuning) {
        bases.push_back({base, make_imputer(base, params)});
        continue;
      }
      for (auto& candidate : grid_candidates(base, params, grid_of(base))) {
        candidate.label = base + (candidate.label == "defaults" ? "" : " " + candidate.label);
        bases.push_back(std::move(candidate));
      }
    }
    return std::make_unique<imputation::StackedImputer>(std::move(bases), params.inner, params.stack);
  }
  if (!tuning) return make_imputer(name, params);
  auto candidates = grid_candidates(name, params, grid_of(name));
  if (candidates.size() == 1) return std::move(candidates.front().imputer);
  return std::make_unique<imputation::TunedImputer>(name, std::move(candidates), params.inner);
}

}  // namespace tessera::solvers
