// The explicit table of imputation methods by name: the one place a new method is registered.
//
// Names: "cell_mean", "drug_mean", "two_way_mean" (solvers/imputation/baselines.h). MethodParams gathers each
// method family's Params struct; a method reads only its own. Local (no MPI).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "solvers/imputation/baselines.h"
#include "solvers/imputation/imputer.h"

namespace tessera::solvers {

struct MethodParams {
  imputation::BaselineParams baseline;

  // visit(name, value&, help) for every knob of every method family: the command line and config files offer
  // each as --name-with-dashes. Names are unique across families (prefix them with the family, e.g. ntk_alpha).
  // value is int&, double&, bool& or std::string&.
  template <typename Self, typename Visit>
  static void for_each_knob(Self& self, Visit&& visit) {
    visit("two_way_weight", self.baseline.two_way_weight, "weight w of the drug mean in two_way_mean, in [0, 1]");
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
