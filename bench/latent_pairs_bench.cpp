// Latent-space pairs (tessera rank --pairs --pair-space latent) against gene-space pairs: candidates scored per
// second through rank_candidates, n random signatures of one cell type (all n(n-1)/2 pairs are combinations),
// the published architecture (width 1024, untrained weights: the cost does not depend on them).
//
//   latent_pairs_bench [--signatures=200] [--genes=978]        under mpirun -np N for N ranks
#include <cstdio>
#include <numeric>

#include "bench/bench_args.h"
#include "engine/context.h"
#include "engine/log.h"
#include "engine/random.h"
#include "solvers/autoencoder/latent_pairs.h"
#include "solvers/search/cell_controls.h"
#include "solvers/search/rank.h"

using namespace tessera;
namespace search = solvers::search;

int run(const engine::Context& world, bench::BenchArgs& args) {
  const int n = int(args.integer("signatures", 200));
  const int genes = int(args.integer("genes", 978));
  args.finish();

  engine::RandomStream random(42, "bench/latent_pairs");
  io::GeneMatrix matrix;
  matrix.values.resize(genes, n);
  for (Eigen::Index i = 0; i < matrix.values.size(); ++i) matrix.values.data()[i] = float(random.normal());
  for (int g = 0; g < genes; ++g) matrix.rows.ids.push_back(std::to_string(g));
  io::MetaColumn cell{"cell_id", io::MetaType::kString, {}, {}};
  for (int c = 0; c < n; ++c) matrix.cols.ids.push_back("sig" + std::to_string(c)), cell.text.push_back("A");
  matrix.cols.fields = {cell};
  search::Library library;
  library.add(matrix, "", {});

  io::CsvTable controls{{"cell"}, {{"A"}}, {}};
  for (int g = 0; g < genes; ++g) {
    controls.header.push_back(std::to_string(g));
    controls.rows[0].push_back(std::to_string(2 + random.normal()));
  }
  const auto matched = search::match_cell_controls(controls, "bench", library);
  std::vector<double> values(static_cast<std::size_t>(genes));
  for (auto& v : values) v = random.normal();
  std::vector<int> rows(static_cast<std::size_t>(genes));
  std::iota(rows.begin(), rows.end(), 0);
  const auto query = search::prepare_query(rows, values, genes, 100);

  const solvers::autoencoder::Trainer model(world, solvers::autoencoder::AutoencoderParams{}, genes);
  const bench::Stopwatch setup_time;
  solvers::autoencoder::LatentPairs pairs(world, model, {}, library.values(), matched.values, matched.cell_of);
  const double setup = setup_time.seconds();

  search::RankOptions options;
  options.pairs = true;
  options.progress = false;
  for (const bool latent : {false, true}) {
    options.pair_signature = latent ? &pairs : nullptr;
    const auto result = search::rank_candidates(world, library, query, options);
    if (world.is_root())
      std::printf(
          "latent_pairs_bench ranks=%d signatures=%d genes=%d space=%-6s candidates=%lld seconds=%.3f "
          "candidates/s=%.4g%s\n",
          world.size(), n, genes, latent ? "latent" : "gene", static_cast<long long>(result.candidates), result.seconds,
          bench::rate(double(result.candidates), result.seconds),
          latent ? (" (+ " + std::to_string(setup) + " s to encode and decode the signatures once)").c_str() : "");
  }
  return 0;
}

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);
  bench::BenchArgs args(argc, argv, "latent_pairs_bench [--signatures=200] [--genes=978]");
  return bench::bench_main(world, [&] { return run(world, args); });
}
