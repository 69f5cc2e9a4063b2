// Ranking throughput: candidates scored per second per rank count, through the production path
// (solvers::search::rank_candidates): n random signatures x genes, all singles plus all pairs (summed), so
// n = 1415 gives 1,001,820 candidates; each is scored by the chosen score and offered to a bounded top-k.
//
//   rank_bench [--signatures=1415] [--genes=978] [--set-size=100]
//   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 rank_bench
//
// Prints one line per score (connectivity: two weighted KS statistics; cosine; pearson): candidates, wall
// seconds (max over ranks), candidates/s in all and per rank, and the best candidate (the same on any rank count).
//
//   rank_bench --permutations=1000 [--permutation-stop=10] [--signatures=1000000] [--library=FILE --query=CSV]
//
// The cost of CMap's calibration instead (no pairs): the plain WTCS pass over every signature, then calibrate()
// (WTCS, NCS, permutation p-values, FDR) and the ranking that reuses it; seconds, the ratio to the plain pass,
// the mean random queries per signature, and peak memory. --library / --query take a real GCTX library and
// query CSV instead of random ones.
#include <chrono>
#include <cstdio>
#include <numeric>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/log.h"
#include "engine/random.h"
#include "io/gctx.h"
#include "solvers/search/calibration.h"
#include "solvers/search/query.h"
#include "solvers/search/rank.h"

using namespace tessera;

namespace {

// The plain singles pass, then the calibrated one (see the header).
void time_calibration(const engine::Context& world, const solvers::search::Library& library,
                      const solvers::search::PreparedQuery& query, int permutations, int stop_after) {
  namespace search = solvers::search;
  search::RankOptions options;
  options.top_k = 100;
  options.progress = false;
  options.bootstrap = 0;
  const auto plain = search::rank_candidates(world, library, query, options);
  const auto calibration = search::calibrate(world, library, query, {permutations, stop_after, 1}, false);
  options.calibration = &calibration;
  const auto start = std::chrono::steady_clock::now();
  const auto ranked = search::rank_candidates(world, library, query, options);
  const double ranking =
      engine::allreduce_max(world, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  std::int64_t below_05 = 0;
  for (const double q : calibration.fdr) below_05 += q <= 0.05 ? 1 : 0;
  if (world.is_root())
    std::printf(
        "rank_bench calibration ranks=%d signatures=%lld genes=%lld permutations=%d stop=%d plain_wtcs_s=%.3f "
        "calibrate_s=%.3f rank_after_s=%.3f ratio=%.2f mean_draws=%.1f fdr<=0.05=%lld peak_rss_mib=%.0f best=%lld\n",
        world.size(), static_cast<long long>(library.size()), static_cast<long long>(library.num_genes()), permutations,
        stop_after, plain.seconds, calibration.seconds, ranking, (calibration.seconds + ranking) / plain.seconds,
        calibration.mean_draws(), static_cast<long long>(below_05), bench::peak_rss_mib(),
        static_cast<long long>(ranked.top[0].index));
}

}  // namespace

int run(const engine::Context& world, bench::BenchArgs& args) {
  const int n = int(args.integer("signatures", 1415));
  const int genes = int(args.integer("genes", 978));
  const int set_size = int(args.integer("set-size", 100));
  const int permutations = int(args.integer("permutations", 0));
  const int stop_after = int(args.integer("permutation-stop", 10));
  const std::string library_file = args.text("library", "");
  const std::string query_file = args.text("query", "");
  args.finish();

  if (!library_file.empty()) {
    solvers::search::Library library;
    library.add(io::read_gctx<float>(library_file, world), solvers::search::method_of_file_name(library_file), {},
                library_file);
    const auto match = solvers::search::match_genes(solvers::search::read_query_csv(query_file), library.rows(), 50);
    const auto query =
        solvers::search::prepare_query(match.library_rows, match.values, int(library.num_genes()), set_size);
    time_calibration(world, library, query, permutations, stop_after);
    return 0;
  }

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

  if (permutations > 0) {
    time_calibration(world, library, query, permutations, stop_after);
    return 0;
  }
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
  bench::BenchArgs args(argc, argv,
                        "rank_bench [--signatures=1415] [--genes=978] [--set-size=100] [--permutations=0] "
                        "[--permutation-stop=10] [--library=GCTX --query=CSV]");
  return bench::bench_main(world, [&] { return run(world, args); });
}
