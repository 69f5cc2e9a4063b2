// Edge stability by bootstrap: resample the rows of each setting with replacement, rerun discovery, and count
// how often each arc appears. Resample b draws from RandomStream(seed, "gsp/bootstrap", b) and runs on rank
// b % size (its restarts run serially there), so the frequencies are the same for any rank count.
#pragma once
#include <Eigen/Dense>

#include "engine/context.h"
#include "solvers/causal/discover.h"

namespace tessera::solvers::causal {

struct EdgeFrequencies {
  Eigen::MatrixXd arc;  // p x p: fraction of resamples whose DAG has the arc i -> j
  int resamples = 0;
  // Fraction with i and j adjacent in either direction.
  double adjacency(int i, int j) const { return arc(i, j) + arc(j, i); }
};

// Collective; every rank returns the same frequencies.
EdgeFrequencies bootstrap_edges(const engine::Context& ctx, const InterventionalData& data,
                                const DiscoveryParams& params, int resamples);

}  // namespace tessera::solvers::causal
