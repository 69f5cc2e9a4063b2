// NTK + DNPP, the mixed prior of the NTK paper's CMap results (Radhakrishnan, Stefanakis, Belkin, Uhler, PNAS
// 2022): DNPP's predictions serve as the drug features where there is enough data to trust them.
//
// Queries in a cell type with at least ntk_dnpp_min_drugs training drugs ("rich" cell types) are predicted by
// an NTK regression whose pair features are pair-specific:
//   training pair (c, d):  f = [alpha |y_cd| cbar_c, y_cd]       (its own training signature)
//   query pair (c, d):     f = [alpha |p_cd| cbar_c, p_cd]       (p_cd = DNPP's prediction, solvers/imputation/dnpp.h)
// with cbar_c the unit-norm mean of c's training signatures, a one-hot block of weight ntk_beta per training row
// (solvers/ntk/kernel/explicit_kernel.h), and every training pair of every cell type as a regression row. The kernel
// then costs O(N^2 genes) rather than O(N^2): one GEMM per tile.
// Queries in the other cell types use the plain NTK imputer (solvers/ntk/ntk_imputer.h, every ntk_* knob) with
// alpha = ntk_dnpp_plain_alpha (1.25, as the paper) instead of ntk_alpha.
//
// Collective over ctx, like its two parts: the same table, mask and queries on
// every rank, the same predictions back. Preemption and checkpoints as ntk_imputer.h.
#pragma once

#include <string>

#include "solvers/imputation/dnpp.h"
#include "solvers/imputation/imputer.h"
#include "solvers/ntk/ntk_imputer.h"

namespace tessera::solvers::ntk {

struct NtkDnppParams {
  int min_training_drugs = 150;  // a cell type with at least this many training drugs uses DNPP features
  double plain_alpha = 1.25;     // alpha of the plain-prior NTK in the other cell types

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("ntk_dnpp_min_drugs", self.min_training_drugs,
                         "ntk_dnpp: cell types with at least this many training drugs use DNPP predictions as features")
                .at_least(1));
    declare(engine::knob("ntk_dnpp_plain_alpha", self.plain_alpha,
                         "ntk_dnpp: ntk_alpha of the plain prior in the other cell types")
                .at_least(0.0));
  }
  // Throws tessera::Error naming the bad knob (ntk_dnpp_*) and its valid range.
  void validate() const { engine::check_knobs(*this); }
};

class NtkDnppImputer : public imputation::Imputer {
 public:
  // Validates all three parameter sets.
  NtkDnppImputer(const NtkDnppParams& params, const NtkParams& ntk, const imputation::DnppParams& dnpp);

  std::string name() const override { return "ntk_dnpp"; }
  // As NtkImputer with the same ntk_* knobs: its kernel systems are at most that size.
  bool distributes_itself(const engine::Context& ctx, const io::PerturbationTable& table) const override;

  // Collective. Errors as NtkImputer and Dnpp.
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;

 private:
  // The NTK regression with pair-specific features for queries in rich cell types; prior = DNPP's predictions.
  Eigen::MatrixXd regress_on_dnpp_features(const engine::Context& ctx, const io::PerturbationTable& table,
                                           const std::vector<std::uint8_t>& train,
                                           const std::vector<std::int64_t>& queries,
                                           const Eigen::MatrixXd& prior) const;

  NtkDnppParams params_;
  NtkParams ntk_;
  imputation::DnppParams dnpp_;
};

}  // namespace tessera::solvers::ntk
