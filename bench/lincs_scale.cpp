// The whole LINCS-scale path, stage by stage, on a simulated LINCS-shaped release: time, rate and peak memory.
//
//   lincs_scale [--cells=230] [--compounds=2200] [--observed=0.04] [--genes=978] [--dir=/tmp/lincs_scale]
//               [--methods=two_way_mean,ntk] [--ntk-solver=nystrom] [--ntk-centres=2000] [--folds=5]
//               [--where=is_gold=1,pert_type=trt_cp] [--cell-rank=1] [--seed=1]
//   mpirun -np 2 lincs_scale ...
//
// Stages (rank 0 prints one line each):
//   release   write_lincs_release into --dir, unless a release of the same parameters is there already (its truth
//             file says so); not part of the path, timed for reference;
//   read      jobs::load_table with the side tables, as `tessera impute --signature-info siginfo_beta.txt --where
//             ... --gene-info geneinfo_beta.txt --genes landmark` reads a beta release: N observed pairs;
//   folds     make_folds, full protocol with --folds folds;
//   fold 0    per method, impute() of fold 0's held-out pairs from its training pairs, run as cross_validate runs
//             a fold (collective when the method distributes itself, else on rank 0 alone); r of the held-out
//             predictions against the measured signatures (compute_metrics) and against the release's truth;
//   complete  per method, complete_table of every pair of the cell line with the most measured pairs (--cell-rank
//             2: the next one; trained on every usable observed pair); r of the imputed pairs against the truth;
//   write     write_entries of that completion into --dir (the GCTX `tessera impute` writes).
// Figures: wall seconds (slowest rank), a rate (signatures/s or pairs/s) and peak RSS = the largest over ranks of
// getrusage's ru_maxrss so far (never reset: the peak of the path up to and including the stage).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/log.h"
#include "io/side_table.h"
#include "jobs/table_input.h"
#include "jobs/table_output.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/imputation/metrics.h"
#include "solvers/imputation/protocol.h"
#include "solvers/registry.h"
#include "solvers/simulation/lincs_release.h"

namespace {

using namespace tessera;
namespace fs = std::filesystem;
namespace imp = solvers::imputation;
namespace sim = solvers::simulation;

struct Options {
  sim::LincsReleaseParams release;
  fs::path dir = "/tmp/lincs_scale";
  std::vector<std::string> methods = {"two_way_mean", "ntk"};
  std::string where = "is_gold=1,pert_type=trt_cp";
  int folds = 5;
  int cell_rank = 1;  // complete the cell line with the cell_rank-th most measured pairs
  std::uint64_t seed = 1;
  solvers::MethodParams params;
};

Options parse(int argc, char** argv) {
  bench::BenchArgs args(
      argc, argv,
      "lincs_scale [--cells=230] [--compounds=2200] [--observed=0.04] [--genes=978] "
      "[--dir=/tmp/lincs_scale] [--methods=two_way_mean,ntk] [--ntk-solver=nystrom] "
      "[--ntk-centres=2000] [--folds=5] [--where=is_gold=1,pert_type=trt_cp] [--cell-rank=1] [--seed=1]");
  Options o;
  o.release.compounds = 2200;
  o.release.cells = int(args.integer("cells", o.release.cells));
  o.release.compounds = int(args.integer("compounds", o.release.compounds));
  o.release.observed = args.real("observed", o.release.observed);
  o.release.genes = int(args.integer("genes", o.release.genes));
  o.dir = args.text("dir", o.dir.string());
  o.methods = args.words("methods", o.methods);
  o.params.ntk.solve.solver =
      name_table(solvers::ntk::KernelSolverRequest{}).parse(args.text("ntk-solver", "nystrom"), "--ntk-solver");
  o.params.ntk.solve.nystrom.centres = args.integer("ntk-centres", 2000);
  o.folds = int(args.integer("folds", o.folds));
  o.cell_rank = int(args.integer("cell-rank", o.cell_rank));
  o.where = args.text("where", o.where);
  o.seed = std::uint64_t(args.integer("seed", std::int64_t(o.seed)));
  args.finish();
  o.release.seed = o.seed;
  o.release.validate();
  o.params.validate();
  TESSERA_CHECK(o.folds >= 2, "--folds must be at least 2");
  TESSERA_CHECK(o.cell_rank >= 1, "--cell-rank must be at least 1 (1: the cell line with the most measured pairs)");
  TESSERA_CHECK(!o.methods.empty(), "--methods needs at least one method");
  return o;
}

// Peak RSS of the largest rank so far, MiB.
double peak_mib(const engine::Context& world) { return engine::allreduce_max(world, bench::peak_rss_mib()); }

// One stage line: name, seconds, rate, peak, then free text.
void stage_line(const engine::Context& world, const std::string& stage, double seconds, double count, const char* unit,
                const std::string& extra) {
  const double peak = peak_mib(world);
  if (!world.is_root()) return;
  std::printf("%-26s %9.2f s  %11.0f %-12s peak %7.0f MiB  %s\n", stage.c_str(), seconds, bench::rate(count, seconds),
              unit, peak, extra.c_str());
  std::fflush(stdout);
}

// The truth file in `dir` holds a model of these parameters: the release need not be written again.
bool release_present(const fs::path& dir, const sim::LincsReleaseParams& p) {
  const auto files = sim::lincs_release_files(dir, p);
  for (const auto& path : {files.gctx, files.siginfo, files.geneinfo, files.truth})
    if (!fs::exists(path)) return false;
  try {
    const auto stored = sim::read_lincs_truth(files.truth).params;
    return stored.seed == p.seed && stored.cells == p.cells && stored.compounds == p.compounds &&
           stored.observed == p.observed && stored.genes == p.genes;
  } catch (const Error&) {
    return false;
  }
}

// Pearson r of predictions (genes x queries) against the release's true signatures of those pairs. Table ids map
// back to model indices through the release's names (lincs_cell_name, lincs_pert_id, lincs_gene_id).
double truth_r(const sim::LincsModel& model, const io::PerturbationTable& table,
               const std::vector<std::int64_t>& entries, const Eigen::MatrixXd& predicted,
               const std::vector<std::int64_t>& columns) {
  std::unordered_map<std::string, int> cell_index, compound_index, gene_index;
  for (int c = 0; c < model.params.cells; ++c) cell_index[sim::lincs_cell_name(model.params, c)] = c;
  for (int d = 0; d < model.params.compounds; ++d) compound_index[sim::lincs_pert_id(d)] = d;
  for (int g = 0; g < model.params.genes; ++g) gene_index[std::to_string(sim::lincs_gene_id(g))] = g;
  std::vector<int> genes;
  for (const auto& id : table.genes) genes.push_back(gene_index.at(id));
  double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (const auto j : columns) {
    const auto e = entries[std::size_t(j)];
    const int cell = cell_index.at(table.cells[std::size_t(table.cell_of(e))]);
    const int compound = compound_index.at(table.perts[std::size_t(table.pert_of(e))]);
    const Eigen::VectorXd truth = sim::lincs_true_signature(model, cell, compound);
    for (std::size_t g = 0; g < genes.size(); ++g) {
      const double x = predicted(Eigen::Index(g), Eigen::Index(j)), y = truth(genes[g]);
      n += 1;
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
    }
  }
  return (sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
}

// Predictions for the held-out pairs of fold 0, computed as cross_validate computes one fold; every rank gets them.
Eigen::MatrixXd impute_fold(const engine::Context& world, const imp::Imputer& imputer,
                            const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                            const std::vector<std::int64_t>& queries) {
  if (engine::allreduce_any(world, imputer.distributes_itself(world, table)))
    return imputer.impute(world, table, train, queries);
  Eigen::MatrixXd predicted = Eigen::MatrixXd::Zero(table.num_genes(), Eigen::Index(queries.size()));
  if (world.is_root()) predicted = imputer.impute(engine::Context(MPI_COMM_SELF), table, train, queries);
  bench::sleepy_barrier(world);  // the other ranks wait asleep, as in complete_table
  engine::broadcast(world, std::span<double>(predicted.data(), std::size_t(predicted.size())));
  return predicted;
}

std::string format(const char* pattern, auto... values) {
  char text[512];
  std::snprintf(text, sizeof text, pattern, values...);
  return text;
}

void run(const engine::Context& world, const Options& o) {
  const auto files = sim::lincs_release_files(o.dir, o.release);
  if (world.is_root()) {
    std::printf(
        "lincs_scale: %d rank(s), release %d cells x %d compounds at %.2f%% (%lld signatures) x %d genes, "
        "%d folds, ntk solver %s (nystrom centres M = %lld)\n",
        world.size(), o.release.cells, o.release.compounds, 100 * o.release.observed,
        (long long)o.release.total_signatures(), o.release.genes, o.folds,
        std::string(name_table(o.params.ntk.solve.solver).name(o.params.ntk.solve.solver)).c_str(),
        (long long)o.params.ntk.solve.nystrom.centres);
    std::printf("%-26s %9s    %11s %-12s %17s\n", "stage", "wall", "rate", "", "peak RSS (max rank)");
    std::fflush(stdout);
  }

  // 1. The release (not part of the path).
  bench::Stopwatch time;
  const bool write = engine::allreduce_any(world, !release_present(o.dir, o.release));
  if (write) sim::write_lincs_release(o.dir, o.release, world);
  stage_line(world, "1 release", engine::allreduce_max(world, time.seconds()), double(o.release.total_signatures()),
             "sig/s", write ? "written to " + o.dir.string() : "already in " + o.dir.string() + " (not rewritten)");
  const sim::LincsModel model = sim::read_lincs_truth(files.truth);

  // 2. Read + filter + aggregate.
  jobs::TableOptions table_options;
  table_options.side.signature_info = files.siginfo;
  table_options.side.where = io::parse_where(o.where);
  table_options.side.gene_info = files.geneinfo;
  table_options.side.genes = {"landmark"};
  bench::sleepy_barrier(world);
  time.restart();
  const io::PerturbationTable table = jobs::load_table(world, files.gctx.string(), table_options, o.seed).table;
  const double read_seconds = engine::allreduce_max(world, time.seconds());
  stage_line(world, "2 read+filter", read_seconds, double(o.release.total_signatures()), "sig/s",
             format("N = %lld observed pairs, %lld cells x %lld perts x %lld genes (--where %s)",
                    (long long)table.num_observed(), (long long)table.num_cells(), (long long)table.num_perts(),
                    (long long)table.num_genes(), o.where.c_str()));

  // 3. Folds, then fold 0 per method.
  time.restart();
  imp::ProtocolOptions protocol;
  protocol.folds = o.folds;
  protocol.seed = o.seed;
  const imp::FoldPlan plan = imp::make_folds(table, protocol);
  const std::vector<std::uint8_t> train = imp::train_mask(plan, 0);
  const std::vector<std::int64_t> queries = imp::held_out_entries(plan, 0);
  std::int64_t num_train = 0;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) num_train += train[std::size_t(e)];
  stage_line(world, "3 make_folds", engine::allreduce_max(world, time.seconds()), double(table.num_observed()),
             "pairs/s",
             format("fold 0: %lld training, %lld held out; %zu cell lines dropped", (long long)num_train,
                    (long long)queries.size(), plan.dropped_cells.size()));
  Eigen::MatrixXd measured(table.num_genes(), Eigen::Index(queries.size()));
  std::vector<std::int64_t> all_columns(queries.size());
  for (std::size_t j = 0; j < queries.size(); ++j) {
    measured.col(Eigen::Index(j)) = table.signature(queries[j]);
    all_columns[j] = std::int64_t(j);
  }
  for (const auto& name : o.methods) {
    const auto imputer = solvers::make_imputer(name, o.params);
    bench::sleepy_barrier(world);
    time.restart();
    const Eigen::MatrixXd predicted = impute_fold(world, *imputer, table, train, queries);
    const double seconds = engine::allreduce_max(world, time.seconds());
    const double r = imp::compute_metrics(measured, predicted).pearson;
    const double r_truth = world.is_root() ? truth_r(model, table, queries, predicted, all_columns) : 0;
    stage_line(world, "3 fold 0 " + name, seconds, double(num_train), "train p/s",
               format("r %.4f vs measured, %.4f vs truth (%zu held-out pairs)", r, r_truth, queries.size()));
  }

  // 4. Completion of the cell line with the --cell-rank-th most measured pairs (ties: table order), then its GCTX.
  // Rank 1 is also the NTK's default reference cell type, whose pairs build the prior rather than train, so the
  // NTK's completion of that cell is not a fair test of it: --cell-rank 2 picks the next one.
  std::vector<std::int64_t> measured_pairs(std::size_t(table.num_cells()), 0), by_count;
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    for (std::int64_t p = 0; p < table.num_perts(); ++p)
      measured_pairs[std::size_t(c)] += table.observed[std::size_t(table.entry(c, p))];
    by_count.push_back(c);
  }
  std::stable_sort(by_count.begin(), by_count.end(), [&](std::int64_t a, std::int64_t b) {
    return measured_pairs[std::size_t(a)] > measured_pairs[std::size_t(b)];
  });
  TESSERA_CHECK(o.cell_rank <= table.num_cells(), "--cell-rank ", o.cell_rank, " but the table has ", table.num_cells(),
                " cell lines");
  const std::int64_t cell = by_count[std::size_t(o.cell_rank - 1)], most = measured_pairs[std::size_t(cell)];
  std::vector<std::int64_t> entries;
  std::vector<int> imputed;
  std::vector<std::int64_t> imputed_columns;
  for (std::int64_t p = 0; p < table.num_perts(); ++p) {
    const auto e = table.entry(cell, p);
    imputed.push_back(table.observed[std::size_t(e)] ? 0 : 1);
    if (imputed.back()) imputed_columns.push_back(std::int64_t(entries.size()));
    entries.push_back(e);
  }
  for (const auto& name : o.methods) {
    const auto imputer = solvers::make_imputer(name, o.params);
    bench::sleepy_barrier(world);
    time.restart();
    const Eigen::MatrixXd completed = imp::complete_table(world, *imputer, table, plan, entries);
    const double seconds = engine::allreduce_max(world, time.seconds());
    const double r_truth = world.is_root() ? truth_r(model, table, entries, completed, imputed_columns) : 0;
    stage_line(world, "4 complete " + name, seconds, double(entries.size()), "pairs/s",
               format("cell %s: %lld pairs (%lld measured), r %.4f of the imputed vs truth",
                      table.cells[std::size_t(cell)].c_str(), (long long)entries.size(), (long long)most, r_truth));
    const fs::path out = o.dir / ("completed_" + name + "_" + table.cells[std::size_t(cell)] + ".gctx");
    bench::sleepy_barrier(world);
    time.restart();
    jobs::write_entries(world, out, table, entries, completed, "imputed", imputed);
    const double write_seconds = engine::allreduce_max(world, time.seconds());
    stage_line(world, "4 write " + name, write_seconds, double(entries.size()), "pairs/s",
               format("%s, %.1f MB", out.filename().c_str(), double(fs::file_size(out)) / 1e6));
  }
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  const engine::Context world;
  engine::init_logging(world.rank(), world.size(), engine::LogLevel::kWarn);
  // A bad option is the same error on every rank (bench_main prints it once); a failure inside the path may be one
  // rank's alone, so it ends the job rather than leave the others waiting in a collective.
  return bench::bench_main(world, [&] {
    const Options options = parse(argc, argv);
    try {
      run(world, options);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "lincs_scale rank %d: %s\n", world.rank(), error.what());
      world.abort(1);
    }
    return 0;
  });
}
