// The explicit table of imputation methods by name: the one place a new method is registered.
//
// Names: "cell_mean", "drug_mean", "two_way_mean" (solvers/imputation/baselines.h), "dnpp" (dnpp.h),
// "synthetic_interventions" (synthetic_interventions.h), "falrtc" (falrtc.h), "ntk" (solvers/ntk/ntk_imputer.h),
// "ntk_dnpp" (solvers/ntk/ntk_dnpp.h), "additive" (solvers/imputation/additive.h: a combination as the sum of its
// parts; after the single-perturbation methods),
// "autoencoder" (solvers/autoencoder/latent_transport.h; only in builds with LibTorch, its ae_* knobs always).
// "stack" (solvers/imputation/stacking.h) combines registered methods and is made by make_method, not listed among
// them (so --method all does not run every method twice). --autotune (solvers/imputation/tuning.h) wraps any method
// in a TunedImputer over its grid. MethodParams gathers each method family's Params struct; a method reads only its
// own. Local (no MPI).
#pragma once

#include <map>
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
#include "solvers/imputation/inner_cv.h"
#include "solvers/imputation/stacking.h"
#include "solvers/imputation/synthetic_interventions.h"
#include "solvers/imputation/tuning.h"
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
  imputation::InnerCvParams inner;  // --autotune and stack; train_only_cells and seed come from the protocol
  imputation::StackParams stack;

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
    imputation::InnerCvParams::declare_knobs(self.inner, declare);
    imputation::StackParams::declare_knobs(self.stack, declare);
  }

  // Validates every family's params (tessera::Error naming the bad one).
  void validate() const;
};

// Every registered imputation method name, in table order.
std::vector<std::string> imputation_methods();

// The method called `name`, configured from params (validated). Unknown name -> tessera::Error listing the
// valid names.
std::unique_ptr<imputation::Imputer> make_imputer(const std::string& name, const MethodParams& params);

// The name of the stacked method (stacking.h).
inline constexpr const char* kStackMethod = "stack";

// The grid --autotune searches for `method` when the user gives none (README, "Tuning and stacking"); empty for a
// method with nothing worth tuning or too costly to fit many times (falrtc, autoencoder).
imputation::TuningGrid default_tuning_grid(const std::string& method);

// Tuning grids by method name; a method without an entry gets its default_tuning_grid.
using TuningGrids = std::map<std::string, imputation::TuningGrid>;

// One candidate per point of `grid`: the method configured from params with the point's knobs set. Throws
// tessera::Error naming the knob for a grid knob that no method has or a value it does not allow.
std::vector<imputation::Candidate> grid_candidates(const std::string& method, const MethodParams& params,
                                                   const imputation::TuningGrid& grid);

// What `tessera impute --method name` runs: a registered method or "stack" (its bases from params.stack.methods),
// tuned over `tuning`'s grids when tuning is not null (a method whose grid has one point runs untuned; a stack's
// bases become every grid point of every base method).
std::unique_ptr<imputation::Imputer> make_method(const std::string& name, const MethodParams& params,
                                                 const TuningGrids* tuning);

}  // namespace tessera::solvers
