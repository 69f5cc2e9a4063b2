// The additive baseline for combination perturbations (Norman et al. 2019; the linear model GEARS is compared with,
// Roohani et al. 2023): the change a combination "A+B" makes to a cell type's control profile is predicted as the
// sum of the changes its parts make alone.
//
// Table entries are already changes from the cell type's control (io/perturbation_table.h), so entry (c, "A+B") is
// predicted as effect(c, A) + effect(c, B), the parts named by io::combination_parts (canonical names: sorted,
// joined by '+'). The effect of part A in cell type c is
//   - its training entry (c, A), when (c, A) trains;
//   - otherwise the mean of A's training entries over the other cell types (a drug mean);
//   - zero (no known effect) when A has no training entry anywhere, or A is not a perturbation of the table.
// A single perturbation is a combination of one part, so for singles the method is a drug mean whose last fallback
// is zero, not the cell mean of drug_mean (baselines.h): a cell type's other drugs say nothing about A's effect.
// The parts are summed in name order. Training entries are those flagged in `train` that the table also marks
// observed. The work is O(genes x entries) and local: impute() ignores the ranks of its Context
// (distributes_itself() is false), so cross-validation spreads folds over ranks, and results are bit-identical for
// any rank count.
#pragma once

#include "solvers/imputation/imputer.h"

namespace tessera::solvers::imputation {

class AdditiveCombination : public Imputer {
 public:
  // "additive".
  std::string name() const override;

  // train: num_entries flags; queries: entry indices (any, observed or not). Returns genes x queries.size().
  // Throws tessera::Error for a train mask of the wrong size, a query out of range, no training entry at all, or a
  // queried perturbation whose name has an empty part ("A++B").
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;
};

}  // namespace tessera::solvers::imputation
