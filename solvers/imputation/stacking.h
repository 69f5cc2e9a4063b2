// `--method stack`: a convex combination of base methods, its weights learnt by inner cross-validation.
//
// Each impute() call (each outer fold, and the completion) cross-validates every base method on
// inner_fold_plan(train) (inner_cv.h), so each inner held-out pair has one prediction per base, made without it.
// The weights w (non-negative, summing to one) minimise the squared error over those pairs' genes,
//   min_w || y - sum_b w_b p_b ||^2   subject to   w >= 0, sum_b w_b = 1,
// fitted per cell type where the cell type has at least min_cell_pairs inner held-out pairs and once over all
// pairs for the others. Every base is then fitted on all of `train`, and a query's prediction is the combination
// with its cell type's weights. Only entries flagged in `train` are read, as in tuning.h. With --autotune the bases
// are every grid point of every base method (a stack over the grid; tuning picks one point, stacking mixes them).
//
// Why this constraint: a convex combination cannot extrapolate beyond its bases (an unconstrained least-squares
// fit over a few inner pairs per cell type can), and on collinear bases (cell_mean, drug_mean and two_way_mean)
// the fit stays bounded. The weights, with each base's inner r, are kept in call order (choices()).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "solvers/imputation/inner_cv.h"

namespace tessera::solvers::imputation {

struct StackParams {
  std::string methods = "cell_mean,drug_mean,dnpp,ntk";  // comma list of base methods
  int min_cell_pairs = 20;

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("stack_methods", self.methods, "stack: the base methods combined (comma list)"));
    declare(engine::knob("stack_min_cell_pairs", self.min_cell_pairs,
                         "stack: inner held-out pairs a cell type needs for weights of its own (else the global ones)")
                .at_least(1));
  }
  void validate() const { engine::check_knobs(*this); }
};

// The minimiser of w' G w - 2 c' w over the probability simplex (w >= 0, sum w = 1): with G = P'P and c = P'y, the
// weights above. Accelerated projected gradient, run until the Frank-Wolfe gap (a bound on the excess objective)
// is below 1e-13 of the scale of G and c; on a singular G one of the minimisers. Local; G must be symmetric positive
// semi-definite.
Eigen::VectorXd simplex_least_squares(const Eigen::MatrixXd& gram, const Eigen::VectorXd& cross);

// The point of the simplex nearest to v (Euclidean).
Eigen::VectorXd project_to_simplex(const Eigen::VectorXd& v);

class StackedImputer : public Imputer, public ExplainsChoices {
 public:
  // Throws tessera::Error without bases or for invalid params.
  StackedImputer(std::vector<Candidate> bases, InnerCvParams inner, StackParams params);

  std::string name() const override { return "stack"; }
  bool distributes_itself(const engine::Context&, const io::PerturbationTable&) const override { return true; }
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;
  std::vector<InnerChoice> choices() const override;

 private:
  std::vector<Candidate> bases_;
  InnerCvParams inner_;
  StackParams params_;
  mutable std::mutex mutex_;
  mutable std::vector<InnerChoice> choices_;
};

}  // namespace tessera::solvers::imputation
