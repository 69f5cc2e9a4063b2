// --autotune: each outer fold picks a method's knobs by inner cross-validation on that fold's training pairs.
//
// A TunedImputer holds one configured imputer per point of a grid (the candidates, built by solvers/registry.h from
// a TuningGrid). Each impute() call, that is each outer fold and the final completion, cross-validates every
// candidate on inner_fold_plan(train) (inner_cv.h), keeps the one with the highest pooled Pearson r over the inner
// held-out pairs (the first in grid order on a tie), fits it on all of `train` and predicts the queries. It reads
// only the entries flagged in `train`: an outer held-out pair can change neither the choice nor the fit. The
// choices, with every candidate's inner r, are kept in call order (choices()).
//
// Distribution: impute() is collective (distributes_itself() is true), so the outer folds run one after another
// and the inner folds of each candidate go over the ranks (cross_validation.h); the choice is the same on every
// rank. A candidate whose inner r is NaN (a constant prediction) is never chosen unless all are.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "solvers/imputation/inner_cv.h"

namespace tessera::solvers::imputation {

// A grid: knob name -> the values to try, in order. Candidates are the grid's points (the Cartesian product, the
// first knob varying slowest).
using TuningGrid = std::vector<std::pair<std::string, std::vector<std::string>>>;

// "ntk_prior=similarity ntk_alpha=0.5": the label of one grid point (values[i] for knob i).
std::string grid_point_label(const TuningGrid& grid, const std::vector<std::size_t>& point);

// Every point of the grid as an index per knob, in candidate order. An empty grid has one point (no knob set).
std::vector<std::vector<std::size_t>> grid_points(const TuningGrid& grid);

class TunedImputer : public Imputer, public ExplainsChoices {
 public:
  // name: the method's name (the tuned method keeps it). Throws tessera::Error without candidates.
  TunedImputer(std::string name, std::vector<Candidate> candidates, InnerCvParams inner);

  std::string name() const override { return name_; }
  bool distributes_itself(const engine::Context&, const io::PerturbationTable&) const override { return true; }
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;
  std::vector<InnerChoice> choices() const override;

  // The index of the candidate the inner predictions choose (above). Local; exposed for tests.
  static std::size_t best_candidate(const std::vector<double>& inner_pearson);

 private:
  std::string name_;
  std::vector<Candidate> candidates_;
  InnerCvParams inner_;
  mutable std::mutex mutex_;
  mutable std::vector<InnerChoice> choices_;
};

}  // namespace tessera::solvers::imputation
