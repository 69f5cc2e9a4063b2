// Edge stability by bootstrap: resample the rows of each setting with replacement, rerun discovery, and count
// how often each arc appears. Resample b draws from RandomStream(seed, "gsp/bootstrap", b) and runs alone on one
// rank (its restarts run serially there), so the frequencies are the same for any rank count.
//
// Preemption: resamples run in rounds of one per rank; after each round every rank calls
// engine::stop_requested(ctx). On a stop, rank 0 writes the checkpoint (finished resamples and the summed
// integer arc counts) and every rank throws engine::StopRequested. A later call with the same checkpoint path
// loads it and continues with the next resample. Counts are integers, so the resumed frequencies are
// bit-identical to an uninterrupted run, with the same or any other rank count.
#pragma once
#include <Eigen/Dense>
#include <filesystem>
#include <functional>

#include "engine/context.h"
#include "solvers/causal/discover.h"

namespace tessera::solvers::causal {

struct EdgeFrequencies {
  Eigen::MatrixXd arc;  // p x p: fraction of resamples whose DAG has the arc i -> j
  int resamples = 0;
  // Fraction with i and j adjacent in either direction.
  double adjacency(int i, int j) const { return arc(i, j) + arc(j, i); }
};

struct BootstrapOptions {
  // Where to checkpoint on a stop and resume from; empty = no checkpoint (a stop then throws without saving).
  // A checkpoint of another problem (data, p, resamples, seed, algorithm or search parameters) is an Error.
  std::filesystem::path checkpoint;
  // Also rewrite the checkpoint after a round when this many seconds passed since the last write, so that a node
  // failure (no signal) loses little work. <= 0: only on a stop.
  double checkpoint_interval_seconds = 600;
  bool progress = false;  // rank 0 logs "bootstrap: done/total, rate, ETA" after rounds (at most every 2 s)
  // Test hook, called on every rank after each round (0-based, counted from this call's start) before the stop
  // check; a test calls engine::request_stop() in it to stop at a chosen round.
  std::function<void(int round)> after_round;
};

// Collective; every rank returns the same frequencies. Throws engine::StopRequested on every rank when a stop
// was requested before the last round finished (after writing options.checkpoint).
EdgeFrequencies bootstrap_edges(const engine::Context& ctx, const InterventionalData& data,
                                const DiscoveryParams& params, int resamples, const BootstrapOptions& options = {});

}  // namespace tessera::solvers::causal
