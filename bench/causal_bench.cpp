// Causal discovery benchmark: GSP, IGSP and UT-IGSP on random linear Gaussian SEMs (ER, expected degree 1.5),
// 1000 observational rows + 5 single-node perfect interventions x 1000 rows, alpha = alpha_inv = 1e-5,
// depth 4, 10 restarts spread over the ranks. Prints time (max over ranks), SHD, precision/recall, targets found.
// Usage: causal_bench [--alg=gsp,igsp,utigsp] [--shrinkage=auto|LAMBDA] [p ...] (default p: 20 50 100; default
// shrinkage auto, which is none while the 1000 observational rows exceed p + 1). Run under mpirun -np N for N ranks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/log.h"
#include "solvers/causal/discover.h"
#include "solvers/causal/random_dag.h"

using namespace tessera;
using namespace tessera::solvers::causal;

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);
  std::vector<int> sizes;
  std::vector<std::string> algorithms{"gsp", "igsp", "utigsp"};
  double shrinkage = -1;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg.rfind("--alg=", 0) == 0) {
      algorithms.clear();
      std::string list = arg.substr(6);
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        if (comma > at) algorithms.push_back(list.substr(at, comma - at));
        at = comma + 1;
      }
    } else if (arg.rfind("--shrinkage=", 0) == 0) {
      const std::string v = arg.substr(12);
      shrinkage = v == "auto" ? -1 : std::atof(v.c_str());
    } else {
      sizes.push_back(std::atoi(argv[a]));
    }
  }
  if (sizes.empty()) sizes = {20, 50, 100};
  if (world.is_root())
    std::printf(
        "ranks  p     algorithm  seconds  SHD  true_arcs  learned  precision  recall  targets_ok  dags_visited  "
        "lambda\n");
  for (int p : sizes) {
    engine::RandomStream rng(42, "bench/sem", std::uint64_t(p));
    const LinearSem sem = random_linear_sem(random_er_dag(p, 1.5, rng), rng);
    std::vector<Intervention> ivs;
    std::vector<int> nodes(p);
    for (int j = 0; j < p; ++j) nodes[j] = j;
    rng.shuffle(nodes);
    for (int k = 0; k < 5; ++k) ivs.push_back({{nodes[k]}, Intervention::Kind::kPerfect});
    const InterventionalData data = simulate_interventional(sem, 1000, ivs, 1000, 7);
    for (const std::string& algorithm : algorithms) {
      DiscoveryParams params;
      params.algorithm = algorithm;
      params.alpha = 1e-5;
      params.alpha_inv = 1e-5;
      params.depth = 4;
      params.restarts = 10;
      params.shrinkage = shrinkage;
      world.barrier();
      const auto start = std::chrono::steady_clock::now();
      const DiscoveryResult res = discover(world, data, params);
      const double local = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double seconds = engine::allreduce_max(world, local);
      int targets_ok = 0;
      if (algorithm == "utigsp")
        for (int k = 1; k <= 5; ++k) targets_ok += res.targets[k] == data.known_targets[k] ? 1 : 0;
      const auto acc = edge_accuracy(sem.dag, res.dag);
      if (world.is_root())
        std::printf("%5d  %-5d %-9s  %7.3f  %3d  %9d  %7d  %9.3f  %6.3f  %6d/5  %12lld  %.4g\n", world.size(), p,
                    algorithm.c_str(), seconds, shd(sem.dag, res.dag), sem.dag.num_edges(), res.dag.num_edges(),
                    acc.precision(), acc.recall(), targets_ok, static_cast<long long>(res.dags_visited), res.shrinkage);
      std::fflush(stdout);
    }
  }
  return 0;
}
