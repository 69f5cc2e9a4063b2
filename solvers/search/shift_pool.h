// A finite pool of candidate shift interventions for `tessera design`, e.g. the real perturbations of an
// interventional data set, and the linear SEM they are measured against.
//
// On a known DAG, a linear SEM x = B x + c + a + e has mean (I - B)^-1 (c + a) under shift a, so a perturbation
// whose rows have mean m applied the shift a = (I - B) m - c. fit_sem() estimates B and c by least squares of
// each node on its parents (and an intercept) over the observational rows; shift_pool_from_settings() then turns
// every interventional setting's mean into that setting's shift. Local (no MPI).
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "solvers/causal/data.h"
#include "solvers/search/bayes_linear.h"

namespace tessera::solvers::search {

struct ShiftPool {
  std::vector<std::string> names;  // one per candidate
  Eigen::MatrixXd shifts;          // p x K, column k = candidate k's shift of every node
  int size() const { return int(shifts.cols()); }
};

struct FittedSem {
  SemParams sem;
  double noise_sd = 0;  // sqrt of the mean residual variance over nodes (the design model's single sigma)
};

// `nodes`: the DAG's node names, each a variable of `data`. Uses the rows of setting 0 (observational); throws
// tessera::Error naming a node missing from the data or a node with fewer observational rows than parameters.
FittedSem fit_sem(const Dag& dag, const std::vector<std::string>& nodes, const causal::InterventionalData& data);

// One candidate per interventional setting of `data` (named by the setting), a_k = (I - B) mean_k - c.
ShiftPool shift_pool_from_settings(const SemParams& sem, const std::vector<std::string>& nodes,
                                   const causal::InterventionalData& data);

}  // namespace tessera::solvers::search
