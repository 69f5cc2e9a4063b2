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

}  // namespace tessera::solvers
