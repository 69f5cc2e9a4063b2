// The explicit table of imputation methods by name: the one place a new method is registered.
//
// Names: "cell_mean", "drug_mean", "two_way_mean" (solvers/imputation/baselines.h), "dnpp" (dnpp.h),
// "synthetic_interventions" (synthetic_interventions.h). MethodParams gathers each
// method family's Params struct; a method reads only its own. Local (no MPI).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "solvers/imputation/baselines.h"
#include "solvers/imputation/dnpp.h"
#include "solvers/imputation/imputer.h"
#include "solvers/imputation/synthetic_interventions.h"

namespace tessera::solvers {

struct MethodParams {
  imputation::BaselineParams baseline;
  imputation::DnppParams dnpp;
  imputation::SiParams si;

  // visit(name, value&, help) for every knob of every method family: the command line and config files offer
  // each as --name-with-dashes. Names are unique across families (prefix them with the family, e.g. ntk_alpha).
  // value is int&, double&, bool& or std::string&.
  template <typename Self, typename Visit>
  static void for_each_knob(Self& self, Visit&& visit) {
    visit("two_way_weight", self.baseline.two_way_weight, "weight w of the drug mean in two_way_mean, in [0, 1]");
    visit("dnpp_k", self.dnpp.k, "dnpp: neighbour drugs averaged per prediction (>= 1)");
    visit("si_num_donors", self.si.num_donors, "synthetic_interventions: most donor drugs per target (>= 1)");
    visit("si_sv_threshold", self.si.sv_threshold,
          "synthetic_interventions: keep singular values above this fraction of the largest, in [0, 1) (0 = all)");
    visit("si_rank", self.si.rank, "synthetic_interventions: keep at most this many singular directions (0 = all)");
    visit("si_intercept", self.si.intercept, "synthetic_interventions: fit an intercept in the donor regression");
  }

  // Validates every family's params (tessera::Error naming the bad one).
  void validate() const;
};

// Every registered imputation method name, in table order.
std::vector<std::string> imputation_methods();

// The method called `name`, configured from params (validated). Unknown name -> tessera::Error listing the
// valid names.
std::unique_ptr<imputation::Imputer> make_imputer(const std::string& name, const MethodParams& params);

}  // namespace tessera::solvers
