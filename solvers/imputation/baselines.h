// Mean baselines for imputation: predict a (cell type, drug) signature from averages of training signatures.
//
//   cell_mean     the mean of the cell type's training signatures (over its drugs); when the cell type has
//                 none, the global mean of all training signatures;
//   drug_mean     the mean of the drug's training signatures (over cell types); when the drug has none, the
//                 cell_mean prediction;
//   two_way_mean  w * drug_mean + (1 - w) * cell_mean (w = two_way_weight), exactly the published NTK code's
//                 mean baseline (uhlerlab ntk_matrix_completion, means.py): a drug with no training signature
//                 takes the unweighted average of the drug means, a cell type with none the unweighted average of
//                 the cell means, and the mix keeps its weights. (Before, a drug without training signatures fell
//                 back to the cell mean, so the mix gave the cell mean alone and no drug signal: 0.003 r lower under
//                 10 folds of LINCS2020, 0.009 under sparse B = 10.)
//
// Every mean is the plain average of training entries (each entry one pooled signature, weight 1). Training
// entries are those flagged in `train` that the table also marks observed. The work is O(genes x entries) and
// local: impute() ignores the ranks of its Context (distributes_itself() is false), so cross-validation spreads
// folds over ranks. Results are bit-identical for any rank count.
#pragma once

#include "engine/parameters.h"
#include "solvers/imputation/imputer.h"

namespace tessera::solvers::imputation {

struct BaselineParams {
  double two_way_weight = 0.5;  // w: weight of the drug mean in two_way_mean

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("two_way_weight", self.two_way_weight,
                         "two_way_mean: weight of the drug mean (1: drug mean only, 0: cell mean only)")
                .in(0.0, 1.0));
  }
  // Throws tessera::Error when two_way_weight is outside [0, 1] or not finite.
  void validate() const { engine::check_knobs(*this); }
};

enum class BaselineKind { kCellMean, kDrugMean, kTwoWayMean };

class MeanBaseline : public Imputer {
 public:
  // Validates params.
  explicit MeanBaseline(BaselineKind kind, const BaselineParams& params = {});

  // "cell_mean", "drug_mean" or "two_way_mean".
  std::string name() const override;

  // train: num_entries flags; queries: entry indices (any, observed or not). Returns genes x queries.size().
  // Throws tessera::Error for a train mask of the wrong size, a query out of range or no training entry at all.
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;

  BaselineKind kind() const { return kind_; }
  const BaselineParams& params() const { return params_; }

 private:
  BaselineKind kind_;
  BaselineParams params_;
};

}  // namespace tessera::solvers::imputation
