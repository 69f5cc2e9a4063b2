// Ranking throughput: candidates scored per second per rank count, through the production path
// (solvers::search::rank_candidates): n random signatures x genes, all singles plus all pairs (summed), so
// n = 1415 gives 1,001,820 candidates; each is scored by the chosen score and offered to a bounded top-k.
//
//   rank_bench [--signatures=1415] [--genes=978] [--set-size=100]
//   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 rank_bench
//
// Prints one line per score (connectivity: two weighted KS statistics; cosine; pearson): candidates, wall
// seconds (max over ranks), candidates/s in all and per rank, and the best candidate (the same on any rank count).
#include <cstdio>
#include <numeric>

#include "bench/bench_args.h"
#include "engine/context.h"
#include "engine/log.h"
#include "engine/random.h"
#include "solvers/search/rank.h"

using namespace tessera;

int run(const engine::Context& world, bench::BenchArgs& args) {
  const int n = int(args.integer("signatures", 1415));
  const int genes = int(args.integer("genes", 978));
  const int set_size = int(args.integer("set-size", 100));
  args.finish();

  io::GeneMatrix matrix;
  matrix.values.resize(genes, n);
  engine::RandomStream random(42, "bench/rank/library");
  for (int c = 0; c < n; ++c)
    for (int g = 0; g < genes; ++g) matrix.values(g, c) = float(random.normal());
  for (int g = 0; g < genes; ++g) matrix.rows.ids.push_back(std::to_string(g));
  for (int c = 0; c < n; ++c) matrix.cols.ids.push_back("sig" + std::to_string(c));
  solvers::search::Library library;
  library.add(matrix, "", {});

  engine::RandomStream query_random(42, "bench/rank/query");
  std::vector<double> values(std::size_t(genes), 0);
  for (auto& v : values) v = query_random.normal();
  std::vector<int> rows(static_cast<std::size_t>(genes));
  std::iota(rows.begin(), rows.end(), 0);
  const auto query = solvers::search::prepare_query(rows, values, genes, set_size);

  for (auto by :
       {solvers::search::RankBy::kConnectivity, solvers::search::RankBy::kCosine, solvers::search::RankBy::kPearson}) {
    solvers::search::RankOptions options;
    options.top_k = 100;
    options.pairs = true;
    options.rank_by = by;
    options.progress = false;
    const auto result = solvers::search::rank_candidates(world, library, query, options);
    if (world.is_root())
      std::printf(
          "rank_bench ranks=%d signatures=%d genes=%d set_size=%d score=%-12s candidates=%lld "
          "seconds=%.3f candidates/s=%.4g per-rank=%.4g best=%lld (%.4f)\n",
          world.size(), n, genes, set_size, name_table(by).name(by), static_cast<long long>(result.candidates),
          result.seconds, bench::rate(double(result.candidates), result.seconds),
          bench::rate(double(result.candidates), result.seconds) / world.size(),
          static_cast<long long>(result.top[0].index), result.top[0].score);
  }
  return 0;
}

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);
  bench::BenchArgs args(argc, argv, "rank_bench [--signatures=1415] [--genes=978] [--set-size=100]");
  return bench::bench_main(world, [&] { return run(world, args); });
}
