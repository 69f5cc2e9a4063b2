// Nystrom NTK solver against the exact one: Pearson r of the Nystrom predictions against the exact NTK predictions
// (and both against the noiseless truth), wall time and peak memory, for several centre counts M.
//
//   ntk_nystrom_bench [--n=20000] [--genes=978] [--queries=5000] [--centres=1000,2000,5000] [--ridge=1e-6]
//                     [--sampling=uniform] [--leverage-ridge=1] [--exact=1] [--verbose=0]
//
// --sampling: a list of ntk_centre_sampling values (uniform, leverage), each run at every M; --leverage-ridge: a list
// of ntk_leverage_ridge values for the leverage runs (see nystrom_regression.h).
//
// The table is a low-rank synthetic screen (as imputation_methods_bench --workload=synthetic): 50 cell types x
// n / 10 drugs, 20% of the entries observed (so about n training pairs), each a cell x drug interaction plus the
// drug's own effect plus noise 0.5. Every observed entry trains, `queries` unobserved entries are predicted, through
// the NTK imputer (reference prior on cell type 0, published defaults), once with ntk_solver=exact and once per M
// with ntk_solver=nystrom. One rank; peak memory is each phase's own (reset_peak_rss between phases).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_args.h"
#include "engine/context.h"
#include "engine/log.h"
#include "engine/random.h"
#include "solvers/ntk/ntk_imputer.h"
#include "solvers/ntk/solve/nystrom_regression.h"

namespace {

using namespace tessera;

std::string numbered(const char* prefix, std::int64_t k) {
  std::string id(prefix);
  id += std::to_string(k);
  return id;
}

struct Screen {
  io::PerturbationTable table;
  Eigen::MatrixXd truth_of_queries;  // genes x queries
  std::vector<std::int64_t> queries;
};

Screen make_screen(std::int64_t n, std::int64_t genes, std::int64_t num_queries) {
  const std::int64_t cells = 50, drugs = std::max<std::int64_t>(n / 10, 1), rank = 8;
  engine::RandomStream factors(1, "bench/ntk-nystrom/factors");
  auto fill = [&](Eigen::MatrixXd& m, Eigen::Index rows, Eigen::Index cols) {
    m.resize(rows, cols);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = factors.normal();
  };
  Eigen::MatrixXd gene_factors, cell_factors, drug_factors, main_genes, main_drugs;
  fill(gene_factors, genes, rank);
  fill(cell_factors, rank, cells);
  fill(drug_factors, rank, drugs);
  fill(main_genes, genes, rank);
  fill(main_drugs, rank, drugs);
  const auto truth = [&](std::int64_t c, std::int64_t d) -> Eigen::VectorXd {
    const Eigen::VectorXd mix = cell_factors.col(c).cwiseProduct(drug_factors.col(d));
    return (gene_factors * mix + main_genes * main_drugs.col(d)) / std::sqrt(double(rank));
  };
  Screen s;
  auto& t = s.table;
  for (std::int64_t g = 0; g < genes; ++g) t.genes.push_back(numbered("g", g));
  for (std::int64_t c = 0; c < cells; ++c) t.cells.push_back(numbered("c", c));
  for (std::int64_t d = 0; d < drugs; ++d) t.perts.push_back(numbered("d", d));
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(genes, t.num_entries());
  t.observed.assign(std::size_t(t.num_entries()), 0);
  t.replicates.assign(std::size_t(t.num_entries()), 0);
  engine::RandomStream mask(1, "bench/ntk-nystrom/mask"), noise(1, "bench/ntk-nystrom/noise");
  std::vector<std::int64_t> unobserved;
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    // Cell type 0 is the reference of the prior: it measures every drug.
    if (!(t.cell_of(e) == 0 || mask.bernoulli(0.2))) {
      unobserved.push_back(e);
      continue;
    }
    auto column = dense.col(e);
    column = truth(t.cell_of(e), t.pert_of(e));
    for (Eigen::Index g = 0; g < column.size(); ++g) column(g) += 0.5 * noise.normal();
    t.observed[std::size_t(e)] = 1;
    t.replicates[std::size_t(e)] = 1;
  }
  t.set_dense(dense);
  t.controls = Eigen::MatrixXd::Zero(genes, cells);
  t.control_counts.assign(std::size_t(cells), 0);
  const std::int64_t stride = std::max<std::int64_t>(1, std::int64_t(unobserved.size()) / num_queries);
  for (std::size_t k = 0; k < unobserved.size() && std::int64_t(s.queries.size()) < num_queries; k += stride)
    s.queries.push_back(unobserved[k]);
  s.truth_of_queries.resize(genes, std::int64_t(s.queries.size()));
  for (std::size_t q = 0; q < s.queries.size(); ++q)
    s.truth_of_queries.col(Eigen::Index(q)) = truth(t.cell_of(s.queries[q]), t.pert_of(s.queries[q]));
  return s;
}

double pearson(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  const Eigen::ArrayXd x = a.reshaped().array() - a.mean(), y = b.reshaped().array() - b.mean();
  return (x * y).sum() / std::sqrt(x.square().sum() * y.square().sum());
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  return bench::bench_main(world, [&] {
    bench::BenchArgs args(argc, argv,
                          "ntk_nystrom_bench [--n=20000] [--genes=978] [--queries=5000] [--centres=1000,2000,5000] "
                          "[--ridge=1e-6] [--sampling=uniform] [--leverage-ridge=1] [--exact=1] [--verbose=0]");
    const std::int64_t n = args.integer("n", 20000), genes = args.integer("genes", 978);
    const std::int64_t num_queries = args.integer("queries", 5000);
    const auto centres = args.integers("centres", {1000, 2000, 5000});
    const double ridge = args.real("ridge", 1e-6);
    const auto samplings = args.words("sampling", {"uniform"});
    std::vector<double> leverage_ridges;
    for (const auto& word : args.words("leverage-ridge", {"1"})) leverage_ridges.push_back(std::stod(word));
    const bool run_exact = args.integer("exact", 1) != 0;
    // --verbose=1: the solvers' info lines (the choice, each solve's phases and CG iterations).
    engine::init_logging(world.rank(), world.size(),
                         args.integer("verbose", 0) != 0 ? engine::LogLevel::kInfo : engine::LogLevel::kWarn);
    args.finish();

    const Screen screen = make_screen(n, genes, num_queries);
    const auto& table = screen.table;
    const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
    solvers::ntk::NtkParams params;
    params.reference_cell = "c0";
    const std::int64_t pairs = table.num_observed() - table.num_perts();  // the reference cell type's are not rows
    if (world.is_root())
      std::printf("ntk_nystrom_bench: N = %lld training pairs, %lld genes, %zu queries, %d rank(s), ridge %g\n",
                  (long long)pairs, (long long)genes, screen.queries.size(), world.size(), ridge);

    Eigen::MatrixXd exact;
    if (run_exact) {
      bench::reset_peak_rss();
      const bench::Stopwatch time;
      params.solve.solver = solvers::ntk::KernelSolverRequest::kExact;
      exact = solvers::ntk::NtkImputer(params).impute(world, table, train, screen.queries);
      if (world.is_root())
        std::printf("  exact              %8.2f s  peak %7.0f MiB  r vs truth %.4f\n", time.seconds(),
                    bench::peak_rss_mib(), pearson(exact, screen.truth_of_queries));
      std::fflush(stdout);
    }
    for (const auto m : centres)
      for (const auto& sampling : samplings) {
        const auto kind = name_table(solvers::ntk::CentreSampling{}).parse(sampling, "--sampling");
        const bool leverage = kind == solvers::ntk::CentreSampling::kLeverage;
        for (const double leverage_ridge : leverage ? leverage_ridges : std::vector<double>{1.0}) {
          bench::reset_peak_rss();
          const bench::Stopwatch time;
          params.solve.solver = solvers::ntk::KernelSolverRequest::kNystrom;
          params.solve.nystrom.centres = m;
          params.solve.nystrom.ridge = ridge;
          params.solve.nystrom.sampling = kind;
          params.solve.nystrom.leverage_ridge = leverage_ridge;
          const Eigen::MatrixXd nystrom = solvers::ntk::NtkImputer(params).impute(world, table, train, screen.queries);
          const double seconds = time.seconds();
          char label[64];
          if (leverage)
            std::snprintf(label, sizeof label, "%s %g", sampling.c_str(), leverage_ridge);
          else
            std::snprintf(label, sizeof label, "%s", sampling.c_str());
          if (world.is_root())
            std::printf("  nystrom M = %6lld %-15s %8.2f s  peak %7.0f MiB  r vs exact %.6f  r vs truth %.4f\n",
                        (long long)m, label, seconds, bench::peak_rss_mib(), run_exact ? pearson(nystrom, exact) : NAN,
                        pearson(nystrom, screen.truth_of_queries));
          std::fflush(stdout);
        }
      }
    return 0;
  });
}
