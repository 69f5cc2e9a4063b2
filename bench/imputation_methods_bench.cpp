// Time, peak memory and accuracy of the imputation methods, one row per method of a table of names.
//
//   imputation_methods_bench [--workload=synthetic|simulated] [--mode=complete|cv] [--methods=a,b,...]
//                            [--drugs=2000] [--cells=50] [--genes=978] [--density=0.1] [--rank=8]
//                            [--noise=0.3] [--main-effect=1] [--folds=5] [--seed=1] [--set=knob=value ...]
//   mpirun -np 2 imputation_methods_bench ...
//
// Workloads:
//   synthetic  cells x drugs x genes signatures with low-rank structure: a cell-specific (CP) part and the drug's
//              own effect, y(c, d) = (G (u_c * v_d) + main H w_d) / sqrt(R) + N(0, noise^2), all factors N(0, 1),
//              each entry observed with probability `density`; generated from the seed;
//   simulated  the built-in simulated CMap screen (solvers/simulation, default parameters and --seed),
//              aggregated on one rank as `tessera` does (io::aggregate, controls subtracted).
// Modes:
//   complete   one impute() of every unobserved entry (synthetic only; r against the noiseless truth). A method
//              that distributes itself runs on every rank; any other runs on rank 0 (as complete_table does);
//   cv         cross_validate() with the full protocol (--folds folds, min_drugs 10, no reference cell type) and
//              evaluate(): r, R2 and cosine of the held-out entries against the measured values.
// Figures: wall seconds and process CPU seconds (user + system) of the slowest rank; peak RSS is the largest over
// ranks of getrusage's ru_maxrss after a reset of the peak (/proc/self/clear_refs) before each method, so it
// includes the table every rank holds ("base" is the RSS before the method).
//
// To add a method: append its registry name to kMethods.
#include <cmath>
#include <cstdio>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/random.h"
#include "io/aggregate.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/registry.h"
#include "solvers/simulation/cmap_simulator.h"

namespace {

using namespace tessera;
namespace imp = solvers::imputation;

// The methods timed, by registry name (solvers/registry.cpp).
const std::vector<std::string> kMethods = {"cell_mean", "two_way_mean", "dnpp", "synthetic_interventions"};

struct Options {
  std::string workload = "synthetic";
  std::string mode = "complete";
  std::vector<std::string> methods = kMethods;
  int drugs = 2000, cells = 50, genes = 978, rank = 8, folds = 5;
  double density = 0.1, noise = 0.3, main = 1.0;
  std::uint64_t seed = 1;
  solvers::MethodParams params;  // --set knob=value (registry knob names, e.g. dnpp_k=5)
};

// Sets one registry knob from "name=value".
void set_knob(solvers::MethodParams& params, const std::string& assignment) {
  const auto equals = assignment.find('=');
  TESSERA_CHECK(equals != std::string::npos, "--set expects knob=value, got '", assignment, "'");
  const std::string name = assignment.substr(0, equals), value = assignment.substr(equals + 1);
  bool found = false;
  engine::for_each_knob(params, [&](const char* knob, auto& field, const char*) {
    if (name != knob) return;
    found = true;
    using Value = std::remove_reference_t<decltype(field)>;
    if constexpr (std::is_same_v<Value, bool>)
      field = value == "1" || value == "true";
    else if constexpr (std::is_same_v<Value, std::string>)
      field = value;
    else if constexpr (std::is_enum_v<Value>)
      field = name_table(Value{}).parse(value, "--set " + name);
    else if constexpr (std::is_integral_v<Value>)
      field = Value(std::stoll(value));
    else
      field = Value(std::stod(value));
  });
  TESSERA_CHECK(found, "--set: unknown knob '", name, "'");
}

Options parse(int argc, char** argv) {
  bench::BenchArgs args(argc, argv,
                        "imputation_methods_bench [--workload=synthetic|simulated] [--mode=complete|cv] "
                        "[--methods=a,b,...] [--drugs=2000] [--cells=50] [--genes=978] [--density=0.1] [--rank=8] "
                        "[--noise=0.3] [--main-effect=1] [--folds=5] [--seed=1] [--set=knob=value ...]");
  Options o;
  o.workload = args.text("workload", o.workload);
  o.mode = args.text("mode", o.mode);
  o.methods = args.words("methods", o.methods);
  o.drugs = int(args.integer("drugs", o.drugs));
  o.cells = int(args.integer("cells", o.cells));
  o.genes = int(args.integer("genes", o.genes));
  o.rank = int(args.integer("rank", o.rank));
  o.folds = int(args.integer("folds", o.folds));
  o.density = args.real("density", o.density);
  o.noise = args.real("noise", o.noise);
  o.main = args.real("main-effect", o.main);
  o.seed = std::uint64_t(args.integer("seed", std::int64_t(o.seed)));
  for (const auto& assignment : args.repeated("set")) set_knob(o.params, assignment);
  args.finish();
  TESSERA_CHECK(o.workload == "synthetic" || o.workload == "simulated", "--workload synthetic|simulated");
  TESSERA_CHECK(o.mode == "complete" || o.mode == "cv", "--mode complete|cv");
  TESSERA_CHECK(o.workload == "synthetic" || o.mode == "cv", "the simulated workload runs in --mode cv");
  TESSERA_CHECK(o.drugs > 0 && o.cells > 0 && o.genes > 1 && o.rank > 0 && o.folds >= 2, "sizes must be positive");
  TESSERA_CHECK(o.density > 0 && o.density <= 1, "--density in (0, 1]");
  o.params.validate();
  return o;
}

// "g12": built by append (GCC 12 warns falsely about operator+ on a literal and a temporary).
std::string id(const char* prefix, int number) {
  std::string text = prefix;
  text += std::to_string(number);
  return text;
}

// The low-rank synthetic screen: its factors give the noiseless truth of any entry.
struct Synthetic {
  io::PerturbationTable table;
  Eigen::MatrixXd gene_factors, cell_factors, drug_factors;  // genes x R, R x cells, R x drugs
  Eigen::MatrixXd main_genes, main_drugs;                    // genes x R, R x drugs: the drugs' own effects
  double main = 1.0;

  Eigen::VectorXd truth(std::int64_t cell, std::int64_t drug) const {
    const Eigen::VectorXd mix = cell_factors.col(cell).cwiseProduct(drug_factors.col(drug));
    return (gene_factors * mix + main * main_genes * main_drugs.col(drug)) / std::sqrt(double(mix.size()));
  }
};

Synthetic make_synthetic(const Options& o) {
  Synthetic s;
  engine::RandomStream factors(o.seed, "bench/imputation/factors");
  auto fill = [&](Eigen::MatrixXd& m, Eigen::Index rows, Eigen::Index cols) {
    m.resize(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
      for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = factors.normal();
  };
  fill(s.gene_factors, o.genes, o.rank);
  fill(s.cell_factors, o.rank, o.cells);
  fill(s.drug_factors, o.rank, o.drugs);
  fill(s.main_genes, o.genes, o.rank);
  fill(s.main_drugs, o.rank, o.drugs);
  s.main = o.main;
  auto& t = s.table;
  for (int g = 0; g < o.genes; ++g) t.genes.push_back(id("g", g));
  for (int c = 0; c < o.cells; ++c) t.cells.push_back(id("c", 1000 + c));
  for (int d = 0; d < o.drugs; ++d) t.perts.push_back(id("d", 100000 + d));
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(o.genes, t.num_entries());
  t.observed.assign(std::size_t(t.num_entries()), 0);
  t.replicates.assign(std::size_t(t.num_entries()), 0);
  engine::RandomStream mask(o.seed, "bench/imputation/mask");
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    if (!mask.bernoulli(o.density)) continue;
    engine::RandomStream noise(o.seed, "bench/imputation/noise", std::uint64_t(e));
    auto column = dense.col(e);
    column = s.truth(t.cell_of(e), t.pert_of(e));
    for (Eigen::Index g = 0; g < column.size(); ++g) column(g) += o.noise * noise.normal();
    t.observed[std::size_t(e)] = 1;
    t.replicates[std::size_t(e)] = 1;
  }
  t.set_dense(dense);
  return s;
}

io::PerturbationTable make_simulated(const Options& o) {
  solvers::simulation::SimulationParams params;
  params.seed = o.seed;
  auto screen = solvers::simulation::simulate_screen(params);
  const engine::Context self(MPI_COMM_SELF);
  io::LocalGctx<float> local;
  local.rows = std::move(screen.samples.rows);
  local.cols = std::move(screen.samples.cols);
  local.signatures = {0, screen.samples.values.cols()};
  local.values = std::move(screen.samples.values);
  return io::aggregate(self, local, io::AggregationOptions{}, "built-in simulated screen");
}

struct Row {
  std::string method;
  double seconds = 0, cpu = 0, base_mib = 0, peak_mib = 0;
  imp::Metrics metrics;
};

// Pearson r of predictions against the synthetic truth, accumulated column by column (no truth matrix).
imp::Metrics truth_metrics(const Synthetic& s, const std::vector<std::int64_t>& queries, const Eigen::MatrixXd& p) {
  double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const Eigen::VectorXd y = s.truth(s.table.cell_of(queries[q]), s.table.pert_of(queries[q]));
    const auto x = p.col(Eigen::Index(q));
    n += double(y.size());
    sx += x.sum();
    sy += y.sum();
    sxx += x.squaredNorm();
    syy += y.squaredNorm();
    sxy += x.dot(y);
  }
  imp::Metrics m;
  m.pearson = (sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
  m.num_signatures = std::int64_t(queries.size());
  m.num_values = std::int64_t(n);
  return m;
}

Row run_method(const engine::Context& world, const Options& o, const std::string& name,
               const io::PerturbationTable& table, const Synthetic* synthetic) {
  const auto imputer = solvers::make_imputer(name, o.params);
  Row row;
  row.method = name;
  bench::sleepy_barrier(world);
  row.base_mib = engine::allreduce_max(world, bench::current_rss_mib());
  bench::reset_peak_rss();
  const bench::Stopwatch time;
  const double cpu_start = bench::cpu_seconds();
  if (o.mode == "complete") {
    std::vector<std::int64_t> queries;
    for (std::int64_t e = 0; e < table.num_entries(); ++e)
      if (!table.observed[std::size_t(e)]) queries.push_back(e);
    Eigen::MatrixXd predicted;
    if (imputer->distributes_itself(world, table)) {
      predicted = imputer->impute(world, table, table.observed, queries);
    } else if (world.is_root()) {
      predicted = imputer->impute(engine::Context(MPI_COMM_SELF), table, table.observed, queries);
    }
    row.seconds = time.seconds();
    row.cpu = bench::cpu_seconds() - cpu_start;
    bench::sleepy_barrier(world);  // ranks without work wait asleep
    if (world.is_root()) row.metrics = truth_metrics(*synthetic, queries, predicted);
  } else {
    imp::ProtocolOptions protocol;
    protocol.folds = o.folds;
    protocol.seed = o.seed;
    const imp::FoldPlan plan = imp::make_folds(table, protocol);
    const imp::CvPredictions predictions = imp::cross_validate(world, *imputer, table, plan);
    row.seconds = time.seconds();
    row.cpu = bench::cpu_seconds() - cpu_start;
    row.metrics = imp::evaluate(table, predictions).overall;
  }
  row.cpu = engine::allreduce_max(world, row.cpu);
  row.seconds = engine::allreduce_max(world, row.seconds);
  bench::sleepy_barrier(world);
  row.peak_mib = engine::allreduce_max(world, bench::peak_rss_mib());
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);
  try {
    const Options o = parse(argc, argv);
    const bench::Stopwatch time;
    Synthetic synthetic;
    if (o.workload == "synthetic")
      synthetic = make_synthetic(o);
    else
      synthetic.table = make_simulated(o);
    const io::PerturbationTable& table = synthetic.table;
    if (world.is_root()) {
      std::printf("workload %s: %lld cells x %lld drugs x %lld genes, %lld observed (%.1f%%), built in %.1f s\n",
                  o.workload.c_str(), (long long)table.num_cells(), (long long)table.num_perts(),
                  (long long)table.num_genes(), (long long)table.num_observed(),
                  100.0 * double(table.num_observed()) / double(table.num_entries()), time.seconds());
      if (o.workload == "synthetic")
        std::printf("  low-rank: rank %d, drug main effect x %.2f, noise sd %.2f, seed %llu\n", o.rank, o.main, o.noise,
                    (unsigned long long)o.seed);
      if (o.mode == "cv")
        std::printf("mode cv on %d rank(s), full protocol, %d folds\n", world.size(), o.folds);
      else
        std::printf("mode complete on %d rank(s): one impute() of every unobserved entry, r against the truth\n",
                    world.size());
      std::printf("%-26s %9s %9s %10s %10s %8s %8s %8s\n", "method", "wall s", "cpu s", "peak MiB", "base MiB", "r",
                  "R2", "cos");
      std::fflush(stdout);
    }
    for (const auto& name : o.methods) {
      const Row row = run_method(world, o, name, table, o.workload == "synthetic" ? &synthetic : nullptr);
      if (world.is_root()) {
        std::printf("%-26s %9.2f %9.2f %10.0f %10.0f %8.4f %8.4f %8.4f\n", row.method.c_str(), row.seconds, row.cpu,
                    row.peak_mib, row.base_mib, row.metrics.pearson, row.metrics.mean_r2, row.metrics.mean_cosine);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "imputation_methods_bench rank %d: %s\n", world.rank(), error.what());
    world.abort(1);
  }
  return 0;
}
