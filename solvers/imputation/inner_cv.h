// Inner cross-validation: what a method would score, learnt from one outer fold's training entries alone.
//
// Tuning (tuning.h) and stacking (stacking.h) both need predictions of held-out pairs that they may look at
// without looking at the outer fold's held-out pairs. They get them by cross-validating inside the training set:
// inner_fold_plan deals each cell type's training entries into K inner folds, as the full protocol deals its
// observed ones (protocol.h). Under the sparse protocol a cell type's training entries are its B training drugs,
// so each inner split trains on B - B/K of them: the same scarce regime, one step scarcer. The train-only cell
// types of the outer protocol (its reference cell types) stay train-only, so the inner score, like the outer one,
// never counts them. A cell type with fewer than 2 training entries has nothing to hold out: its entries are
// train-only. Shuffles use engine::RandomStream(seed, "inner-folds", stable_hash(cell id)), so a plan depends on the
// seed and the training entries only, never on the rank count.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "io/perturbation_table.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/imputation/imputer.h"
#include "solvers/imputation/metrics.h"
#include "solvers/imputation/protocol.h"

namespace tessera::solvers::imputation {

struct InnerCvParams {
  int inner_folds = 5;
  std::vector<std::string> train_only_cells;  // the outer protocol's reference cell types (set by the command)
  std::uint64_t seed = 1;                     // the outer protocol's seed (set by the command)

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("inner_folds", self.inner_folds,
                         "--autotune and stack: inner folds dealt from each outer fold's training pairs")
                .at_least(2));
  }
  void validate() const { engine::check_knobs(*this); }
};

// Local. The inner folds of the entries flagged in `train` (above). Throws tessera::Error when no cell type has two
// training entries to deal (nothing to hold out), or for a train-only cell type not in the table.
FoldPlan inner_fold_plan(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                         const InnerCvParams& params);

// One configuration an inner cross-validation compares: a method with its knobs, and the text that says which
// (a tuning grid point "ntk_prior=similarity ntk_alpha=0.5", or a method's name in a stack).
struct Candidate {
  std::string label;
  std::unique_ptr<Imputer> imputer;
};

// One row of what an inner cross-validation decided, for the output folder: in the impute() call that predicted
// first_query (so the caller can say which outer fold it was), the candidate `label` scored inner_pearson (pooled r
// over its inner held-out pairs of `cell`, "all" for every cell type) and contributes `weight` to the predictions
// (tuning: 1 for the chosen candidate, 0 for the others; stacking: the fitted weight).
struct InnerChoice {
  std::int64_t first_query = -1;
  std::string cell = "all";
  std::string label;
  double inner_pearson = 0;
  double weight = 0;
};

// A method that decides something by inner cross-validation and can say what (tuning.h, stacking.h).
class ExplainsChoices {
 public:
  virtual ~ExplainsChoices() = default;
  // Every choice made so far, in the order of the impute() calls. Identical on every rank.
  virtual std::vector<InnerChoice> choices() const = 0;
};

// Collective over ctx. Every candidate cross-validated on `plan`: one CvPredictions per candidate, all over the
// same entries in the same order. Inner folds run over the ranks as outer ones do (cross_validation.h). Holds
// genes x inner pairs x candidates doubles at once (the stack needs them together).
std::vector<CvPredictions> inner_predictions(const engine::Context& ctx, const std::vector<Candidate>& candidates,
                                             const io::PerturbationTable& table, const FoldPlan& plan);

// Collective over ctx. The pooled metrics of every candidate cross-validated on `plan`, each candidate's
// predictions dropped as soon as they are scored (tuning needs the scores only).
std::vector<Metrics> inner_metrics(const engine::Context& ctx, const std::vector<Candidate>& candidates,
                                   const io::PerturbationTable& table, const FoldPlan& plan);

// Collective over ctx. imputer fitted on `train`, predicting `queries`, identical on every rank: a method that
// distributes itself runs over ctx; any other runs on each rank alone (the same arithmetic on each).
Eigen::MatrixXd fit_and_predict(const engine::Context& ctx, const Imputer& imputer, const io::PerturbationTable& table,
                                const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& queries);

}  // namespace tessera::solvers::imputation
