// Causal discovery entry point: GSP (observational), IGSP (known targets) or UT-IGSP (unknown targets) on the
// sufficient statistics of interventional data (or, with the HSIC CI test, on its observational rows), with
// restarts spread over the ranks of a Context.
//
// Collective: every rank must call with the same data and parameters; every rank returns the same result, and
// the result does not depend on the number of ranks (restart r always uses RandomStream(seed, "gsp/restart", r)).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "solvers/causal/citest/gaussian_invariance_test.h"
#include "solvers/causal/dag.h"
#include "solvers/causal/data.h"
#include "solvers/causal/search/gsp.h"
#include "solvers/causal/stats/sufficient_stats.h"

namespace tessera::solvers::causal {

// GSP: observational only; IGSP: known targets; UT-IGSP: unknown targets, learned.
enum class Algorithm { kGsp, kIgsp, kUtIgsp };
const engine::NameTable<Algorithm>& name_table(Algorithm);  // gsp | igsp | utigsp
// The rows whose partial-correlation graph gives the starting orders.
enum class StartGraph { kPooled, kObservational };
const engine::NameTable<StartGraph>& name_table(StartGraph);  // pooled | observational
enum class CiTestKind { kGaussian, kHsic };
const engine::NameTable<CiTestKind>& name_table(CiTestKind);  // gaussian | hsic

struct DiscoveryParams {
  Algorithm algorithm = Algorithm::kGsp;
  double alpha = 0;         // CI test level; 0 = 1 / (observational rows)
  double alpha_inv = 1e-5;  // invariance test level (igsp, utigsp)
  int depth = 4;            // covered-arc reversals per DFS branch; kUnlimitedDepth: none (--depth inf)
  // first (the default: on the benchmark the same SHD as best on average in up to 1.6x less time; BENCHMARKS.md)
  // or best, the published search's rule (search/gsp.h).
  MoveRule move = MoveRule::kFirst;
  // The invariance test of igsp / utigsp: chow (the default) or wald, the published UT-IGSP test
  // (citest/gaussian_invariance_test.h).
  InvarianceForm invariance_test = InvarianceForm::kChow;
  int restarts = 10;
  std::uint64_t seed = 1;
  // Shrinkage of the observational correlation matrix used by the CI tests, the minimal I-maps and the starting
  // orders: R_lambda = (1 - lambda) R + lambda I (see citest/gaussian_ci_test.h). Negative = auto: no shrinkage
  // when R is safely invertible (more than p + 1 observational rows, not ill-conditioned), so such results are
  // exactly those without shrinkage; otherwise (n_obs <= p + 1, collinear columns) the Schaefer-Strimmer optimal
  // lambda computed from the data. 0 = never (singular data then stop with an error naming this option);
  // a value in (0, 1] = that lambda. The invariance tests (small conditioning sets, pooled data) are not shrunk.
  double shrinkage = -1;
  // The rows whose thresholded partial-correlation graph gives the restarts' starting orders (minimum-degree
  // orders): pooled (every setting; the default) or observational. Only the starting orders; the CI tests
  // always use the observational rows.
  StartGraph start_graph = StartGraph::kPooled;
  // Starting DAGs drawn per restart. 1: each restart starts from the minimal I-map of its own minimum-degree
  // order. k > 1: k x restarts orders are drawn (farmed over the ranks) and the restarts start from the minimal
  // I-maps of the `restarts` sparsest (fewest arcs, ties by draw), as the published GSP does with k = 2.
  int start_candidates = 1;
  // The CI test behind the minimal I-maps and the search (--ci-test). gaussian: partial correlations from the
  // sufficient statistics (linear Gaussian models). hsic: the kernel test of citest/hsic_ci_test.h on the
  // observational rows, which sees non-monotone dependences that have no correlation (y = x^2 + noise); it needs
  // the samples, so only the InterventionalData overload accepts it. alpha = 0 then means 1 / (rows it uses).
  // It conditions by linear regression on S, so it is exact when each variable depends additively and linearly
  // on the variables it is tested given: a nonlinear dependence is seen, but not regressed out of a conditioning set.
  // Either way the starting orders come from the Gaussian partial-correlation graph and the invariance tests of
  // igsp / utigsp stay Gaussian.
  CiTestKind ci_test = CiTestKind::kGaussian;
  // hsic: the first min(hsic_samples, observational rows) observational rows are used; a test costs
  // O(hsic_samples^2) time and memory.
  int hsic_samples = 1000;
  std::vector<int> fixed_order;  // when non-empty: no search, the minimal I-map of this order
  std::vector<Arc> required;     // prior knowledge: arcs always present, never reversed
  std::vector<Arc> forbidden;    // prior knowledge: arcs never present
  bool progress = false;         // rank 0 logs the restarts done, with rate and ETA

  // The knobs `tessera discover` offers. depth (a number | inf), shrinkage (auto | a number) and the arc and
  // order lists are parsed by the command; validate() checks them.
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("algorithm", self.algorithm,
                         "gsp (observational only), igsp (known targets) or utigsp (unknown targets, learned)"));
    declare(engine::knob("alpha", self.alpha, "CI test level (0: 1/n)").at_least(0.0).below(1.0));
    declare(engine::knob("alpha_inv", self.alpha_inv, "invariance test level").above(0.0).below(1.0));
    declare(engine::knob("move", self.move,
                         "first (move to the first better DAG the DFS meets) or best (score every neighbour, move to "
                         "the best: the published GSP / UT-IGSP rule)"));
    declare(engine::knob("invariance_test", self.invariance_test,
                         "igsp / utigsp: chow (Chow's F-test of the coefficients, one residual variance) or wald "
                         "(the published UT-IGSP test: each setting its own variance)"));
    declare(engine::knob("restarts", self.restarts, "random restarts (over ranks)").at_least(1));
    declare(engine::knob("seed", self.seed, "random seed"));
    declare(engine::knob("ci_test", self.ci_test,
                         "gaussian (partial correlation, Fisher z) or hsic (kernel test, for nonlinear data; O(n^2) "
                         "per test)"));
    declare(engine::knob("hsic_samples", self.hsic_samples,
                         "hsic: observational rows the kernel test uses (the "
                         "first ones)")
                .at_least(6));
    declare(engine::knob("start_candidates", self.start_candidates,
                         "starting DAGs drawn per restart; the restarts start from the sparsest (the published GSP: "
                         "2)")
                .at_least(1)
                .at_most(100));
    declare(engine::knob("start_graph", self.start_graph,
                         "rows whose partial-correlation graph gives the starting orders: pooled (all settings) or "
                         "observational"));
  }
  void validate() const;  // throws tessera::Error naming the bad parameter
};

struct DiscoveryResult {
  Dag dag;
  std::vector<std::vector<int>> targets;  // per setting: learned (utigsp) or the known ones (igsp); [0] empty
  long edges = 0;
  long penalty = 0;               // tie-break score of the chosen DAG (contradicting arcs / changed mechanisms)
  int restart = -1;               // the restart that found it
  std::int64_t dags_visited = 0;  // over all restarts and ranks
  double shrinkage = 0;           // the lambda used (auto resolved)
  // What the search cost: each restart (its rank, DAGs visited, distinct CI and invariance tests, seconds, which
  // include building the tests on a rank's first restart), and the wall time of the whole search on this rank.
  std::vector<RestartRecord> restarts;
  std::int64_t ci_tests = 0, invariance_tests = 0;  // summed over the restarts
  double search_seconds = 0;
};

// stats[0] observational, stats[k] setting k; known_targets per setting (used by igsp and utigsp).
// ci_test = hsic throws here: the statistics hold no samples.
DiscoveryResult discover(const engine::Context& ctx, const std::vector<SettingStats>& stats,
                         const std::vector<std::vector<int>>& known_targets, const DiscoveryParams& params);

// Computes the statistics (collective, rows split over ranks), then the above.
DiscoveryResult discover(const engine::Context& ctx, const InterventionalData& data, const DiscoveryParams& params);

}  // namespace tessera::solvers::causal
