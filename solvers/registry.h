// The explicit table of imputation methods by name: the one place a new method is registered.
//
// Names: "cell_mean", "drug_mean", "two_way_mean" (solvers/imputation/baselines.h), "dnpp" (dnpp.h),
// "synthetic_interventions" (synthetic_interventions.h), "falrtc" (falrtc.h), "ntk" (solvers/ntk/ntk_imputer.h),
// "ntk_dnpp" (solvers/ntk/ntk_dnpp.h), "additive" (solvers/imputation/additive.h: a combination as the sum of its
// parts; after the single-perturbation methods),
// "autoencoder" (solvers/autoencoder/latent_transport.h; only in builds with LibTorch, its ae_* knobs always).
// MethodParams gathers each method family's Params struct; a method reads only its own. Local (no MPI).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "solvers/autoencoder/params.h"
#include "solvers/imputation/additive.h"
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

  // Every knob of every method family, each declared by its own Params struct (engine/parameters.h); the
  // command line and config files offer each as --name-with-dashes. Names are unique across families (each
  // prefixed with its family, e.g. ntk_alpha).
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    imputation::BaselineParams::declare_knobs(self.baseline, declare);
    imputation::DnppParams::declare_knobs(self.dnpp, declare);
    imputation::SiParams::declare_knobs(self.si, declare);
    imputation::FalrtcParams::declare_knobs(self.falrtc, declare);
    ntk::NtkParams::declare_knobs(self.ntk, declare);
    ntk::NtkDnppParams::declare_knobs(self.ntk_dnpp, declare);
    autoencoder::AutoencoderParams::declare_knobs(self.autoencoder, declare);
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
