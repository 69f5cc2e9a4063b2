// The explicit table of imputation methods by name: the one place a new method is registered.
//
// Names: "cell_mean", "drug_mean", "two_way_mean" (solvers/imputation/baselines.h), "dnpp" (dnpp.h),
// "synthetic_interventions" (synthetic_interventions.h), "falrtc" (falrtc.h), "ntk" (solvers/ntk/ntk_imputer.h),
// "ntk_dnpp" (solvers/ntk/ntk_dnpp.h),
// "autoencoder" (solvers/autoencoder/latent_transport.h; only in builds with LibTorch, its ae_* knobs always).
// MethodParams gathers each method family's Params struct; a method reads only its own. Local (no MPI).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "solvers/autoencoder/params.h"
#include "solvers/imputation/baselines.h"
#include "solvers/imputation/dnpp.h"
#include "solvers/imputation/falrtc.h"
#include "solvers/imputation/imputer.h"
#include "solvers/imputation/synthetic_interventions.h"
#include "solvers/ntk/ntk_dnpp.h"
#include "solvers/ntk/ntk_imputer.h"

namespace tessera::solvers {

struct MethodParams {
  imputation::BaselineParams baseline;
  imputation::DnppParams dnpp;
  imputation::FalrtcParams falrtc;
  imputation::SiParams si;
  ntk::NtkParams ntk;
  ntk::NtkDnppParams ntk_dnpp;
  autoencoder::AutoencoderParams autoencoder;

  // visit(name, value&, help) for every knob of every method family: the command line and config files offer
  // each as --name-with-dashes. Names are unique across families (prefix them with the family, e.g. ntk_alpha).
  // value is int&, double&, bool&, std::string& or std::uint64_t& (ae_seed).
  template <typename Self, typename Visit>
  static void for_each_knob(Self& self, Visit&& visit) {
    visit("two_way_weight", self.baseline.two_way_weight, "weight w of the drug mean in two_way_mean, in [0, 1]");
    visit("dnpp_k", self.dnpp.k, "dnpp: neighbour drugs averaged per prediction (>= 1)");
    visit("si_num_donors", self.si.num_donors, "synthetic_interventions: most donor drugs per target (>= 1)");
    visit("si_sv_threshold", self.si.sv_threshold,
          "synthetic_interventions: keep singular values above this fraction of the largest, in [0, 1) (0 = all)");
    visit("si_rank", self.si.rank, "synthetic_interventions: keep at most this many singular directions (0 = all)");
    visit("si_intercept", self.si.intercept, "synthetic_interventions: fit an intercept in the donor regression");
    visit("falrtc_iterations", self.falrtc.iterations, "falrtc: iterations (maxIter; Hodos 20), >= 1");
    visit("falrtc_alpha_drug", self.falrtc.alpha_drug, "falrtc: weight of the drug unfolding's nuclear norm (>= 0)");
    visit("falrtc_alpha_gene", self.falrtc.alpha_gene, "falrtc: weight of the gene unfolding's nuclear norm (>= 0)");
    visit("falrtc_alpha_cell", self.falrtc.alpha_cell, "falrtc: weight of the cell unfolding's nuclear norm (>= 0)");
    visit("falrtc_mu_scale", self.falrtc.mu_scale,
          "falrtc: final smoothing mu_i = scale * alpha_i / sqrt(n_i) (Hodos 0.01), > 0");
    visit("falrtc_lipschitz_start", self.falrtc.lipschitz_start, "falrtc: initial Lipschitz constant L0 (> 0)");
    visit("falrtc_lipschitz_shrink", self.falrtc.lipschitz_shrink,
          "falrtc: C in L = L / C after a failed line-search trial, in (0, 1)");
    visit("falrtc_tolerance", self.falrtc.tolerance,
          "falrtc: stop when the relative change of the iterate falls below this (0 = run all iterations)");
    ntk::NtkParams::for_each_knob(self.ntk, visit);
    ntk::NtkDnppParams::for_each_knob(self.ntk_dnpp, visit);
    autoencoder::AutoencoderParams::for_each_knob(self.autoencoder, visit);
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
