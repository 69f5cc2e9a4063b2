// Causal discovery benchmark: GSP, IGSP and UT-IGSP on random linear Gaussian SEMs (ER, expected degree 1.5),
// 1000 observational rows + 5 single-node perfect interventions x 1000 rows, alpha = alpha_inv = 1e-5,
// depth 4, 10 restarts spread over the ranks. Prints time (max over ranks), SHD, precision/recall, targets found.
// Usage: causal_bench [--alg=gsp,igsp,utigsp] [--shrinkage=auto|LAMBDA] [--p=20,50,100] [--move=first,best]
// [--invariance-test=chow,wald] [--depth=4|inf] [--start-candidates=1] [--start-graph=pooled|observational]
// [--graphs=1] (default shrinkage auto, which is none while the 1000 observational rows exceed p + 1; each listed
// move rule and invariance test is run; --graphs SEMs per p, seeds 42, 43, ...). The published GSP / UT-IGSP
// policy: --move=best --invariance-test=wald --start-candidates=2 --start-graph=observational.
// Run under mpirun -np N for N ranks.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/log.h"
#include "solvers/causal/discover.h"
#include "solvers/causal/random_dag.h"

using namespace tessera;
using namespace tessera::solvers::causal;

namespace {

int run(const engine::Context& world, bench::BenchArgs& args) {
  std::vector<Algorithm> algorithms;
  for (const auto& name : args.words("alg", {"gsp", "igsp", "utigsp"}))
    algorithms.push_back(name_table(Algorithm{}).parse(name, "--alg"));
  const std::string shrinkage_text = args.text("shrinkage", "auto");
  const double shrinkage = shrinkage_text == "auto" ? -1 : args.real("shrinkage", -1);
  const std::vector<std::int64_t> sizes = args.integers("p", {20, 50, 100});
  std::vector<MoveRule> moves;
  for (const auto& name : args.words("move", {"first"})) moves.push_back(name_table(MoveRule{}).parse(name, "--move"));
  std::vector<InvarianceForm> forms;
  for (const auto& name : args.words("invariance-test", {"chow"}))
    forms.push_back(name_table(InvarianceForm{}).parse(name, "--invariance-test"));
  const std::string depth_text = args.text("depth", "4");
  const int depth = depth_text == "inf" ? kUnlimitedDepth : std::stoi(depth_text);
  const int graphs = int(args.integers("graphs", {1}).at(0));
  const int start_candidates = int(args.integers("start-candidates", {1}).at(0));
  const StartGraph start_graph = name_table(StartGraph{}).parse(args.text("start-graph", "pooled"), "--start-graph");
  args.finish();
  if (world.is_root())
    std::printf("# depth %s, start candidates %d, start graph %s\n", depth_text.c_str(), start_candidates,
                name_table(start_graph).name(start_graph));
  if (world.is_root())
    std::printf(
        "ranks  p     graph  algorithm  move   invariance  seconds  SHD  true_arcs  learned  precision  recall  "
        "targets_ok  dags_visited  ci_tests  lambda\n");
  for (const std::int64_t size : sizes)
    for (int graph = 0; graph < graphs; ++graph) {
      const int p = int(size);
      engine::RandomStream rng(42 + std::uint64_t(graph), "bench/sem", std::uint64_t(p));
      const LinearSem sem = random_linear_sem(random_er_dag(p, 1.5, rng), rng);
      std::vector<Intervention> ivs;
      std::vector<int> nodes(p);
      for (int j = 0; j < p; ++j) nodes[j] = j;
      rng.shuffle(nodes);
      for (int k = 0; k < 5; ++k) ivs.push_back({{nodes[k]}, Intervention::Kind::kPerfect});
      const InterventionalData data = simulate_interventional(sem, 1000, ivs, 1000, 7);
      for (const Algorithm algorithm : algorithms)
        for (const MoveRule move : moves)
          for (const InvarianceForm form : forms) {
            if (algorithm == Algorithm::kGsp && form != forms.front()) continue;  // gsp runs no invariance test
            DiscoveryParams params;
            params.algorithm = algorithm;
            params.alpha = 1e-5;
            params.alpha_inv = 1e-5;
            params.depth = depth;
            params.move = move;
            params.invariance_test = form;
            params.restarts = 10;
            params.start_candidates = start_candidates;
            params.start_graph = start_graph;
            params.shrinkage = shrinkage;
            world.barrier();
            const bench::Stopwatch time;
            const DiscoveryResult res = discover(world, data, params);
            const double seconds = engine::allreduce_max(world, time.seconds());
            int targets_ok = 0;
            if (algorithm == Algorithm::kUtIgsp)
              for (int k = 1; k <= 5; ++k) targets_ok += res.targets[k] == data.known_targets[k] ? 1 : 0;
            const auto acc = edge_accuracy(sem.dag, res.dag);
            if (world.is_root())
              std::printf(
                  "%5d  %-5d %5d  %-9s  %-5s  %-10s  %7.3f  %3d  %9d  %7d  %9.3f  %6.3f  %8d/5  %12lld  %8lld  %.4g\n",
                  world.size(), p, graph, name_table(algorithm).name(algorithm), name_table(move).name(move),
                  algorithm == Algorithm::kGsp ? "-" : name_table(form).name(form), seconds, shd(sem.dag, res.dag),
                  sem.dag.num_edges(), res.dag.num_edges(), acc.precision(), acc.recall(), targets_ok,
                  static_cast<long long>(res.dags_visited), static_cast<long long>(res.ci_tests + res.invariance_tests),
                  res.shrinkage);
            std::fflush(stdout);
          }
    }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);
  bench::BenchArgs args(argc, argv,
                        "causal_bench [--alg=gsp,igsp,utigsp] [--shrinkage=auto|LAMBDA] [--p=20,50,100] "
                        "[--move=first,best] [--invariance-test=chow,wald] [--depth=4|inf] [--start-candidates=1] "
                        "[--start-graph=pooled|observational] [--graphs=1]");
  return bench::bench_main(world, [&] { return run(world, args); });
}
