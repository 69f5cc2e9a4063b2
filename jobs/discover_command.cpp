// `tessera discover`: causal discovery (GSP, IGSP, UT-IGSP) from a CSV of observational and interventional
// samples. Writes the DAG as an edge list (dag_edges.csv) and Graphviz (dag.dot), and the targets per setting
// (targets.csv: learned by utigsp, the given ones for igsp) into --out. Restarts run spread over the ranks.
// With --bootstrap N it also reruns discovery on N resamples (one per rank at a time) and writes how often each arc
// appears (edge_stability.csv). The bootstrap checkpoints on SIGUSR1/USR2/TERM into <out>/bootstrap.checkpoint
// and exits with 75 (requeue); the same command resumes from it.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "engine/log.h"
#include "engine/signals.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "solvers/causal/bootstrap.h"
#include "solvers/causal/discover.h"

namespace tessera::jobs {

namespace {

namespace causal = solvers::causal;

std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

void write_outputs(const std::filesystem::path& out, const causal::InterventionalData& data,
                   const causal::DiscoveryResult& res) {
  std::filesystem::create_directories(out);
  io::CsvTable edges;
  edges.header = {"from", "to"};
  for (const auto& [i, j] : res.dag.edges()) edges.rows.push_back({data.variables[i], data.variables[j]});
  io::write_csv(out / "dag_edges.csv", edges);
  io::write_atomically(out / "dag.dot", [&](const std::filesystem::path& tmp) {
    std::ofstream f(tmp);
    f << "digraph causal {\n";
    for (const auto& v : data.variables) f << "  " << dot_quote(v) << ";\n";
    for (const auto& [i, j] : res.dag.edges())
      f << "  " << dot_quote(data.variables[i]) << " -> " << dot_quote(data.variables[j]) << ";\n";
    f << "}\n";
    TESSERA_CHECK(f.good(), "could not write '", tmp.string(), "'");
  });
  io::CsvTable targets;
  targets.header = {"setting", "target"};
  for (std::size_t k = 1; k < res.targets.size(); ++k)
    for (int v : res.targets[k]) targets.rows.push_back({data.setting_names[k], data.variables[v]});
  io::write_csv(out / "targets.csv", targets);
}

struct ArcFrequency {
  std::string source, target;
  double frequency;
};

// Arcs seen in at least one resample, most stable first (ties by names, so the order is reproducible).
std::vector<ArcFrequency> stable_arcs(const causal::InterventionalData& data, const causal::EdgeFrequencies& freq) {
  std::vector<ArcFrequency> arcs;
  for (int i = 0; i < data.num_variables(); ++i)
    for (int j = 0; j < data.num_variables(); ++j)
      if (freq.arc(i, j) > 0) arcs.push_back({data.variables[i], data.variables[j], freq.arc(i, j)});
  std::sort(arcs.begin(), arcs.end(), [](const ArcFrequency& a, const ArcFrequency& b) {
    if (a.frequency != b.frequency) return a.frequency > b.frequency;
    return std::tie(a.source, a.target) < std::tie(b.source, b.target);
  });
  return arcs;
}

// Shortest text that reads back to the same double (0.7, not 0.69999999999999996).
std::string shortest(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

void write_stability(const std::filesystem::path& path, const std::vector<ArcFrequency>& arcs) {
  io::CsvTable table;
  table.header = {"source", "target", "frequency"};
  for (const auto& a : arcs) table.rows.push_back({a.source, a.target, shortest(a.frequency)});
  io::write_csv(path, table);
}

void print_stability(const std::vector<ArcFrequency>& arcs, int resamples, const std::filesystem::path& path) {
  constexpr std::size_t kTop = 15;
  std::printf("Edge stability over %d bootstrap resamples (top %zu of %zu arcs):\n", resamples,
              std::min(kTop, arcs.size()), arcs.size());
  for (std::size_t k = 0; k < std::min(kTop, arcs.size()); ++k)
    std::printf("  %-12s -> %-12s %.3f\n", arcs[k].source.c_str(), arcs[k].target.c_str(), arcs[k].frequency);
  std::printf("Wrote %s\n", path.string().c_str());
}

// Collective. Throws engine::StopRequested (exit code 75) after checkpointing when a stop signal arrives.
void run_bootstrap(const engine::Context& world, const causal::InterventionalData& data,
                   const causal::DiscoveryParams& params, int resamples, const std::filesystem::path& out) {
  causal::BootstrapOptions options;
  options.checkpoint = out / "bootstrap.checkpoint";
  options.progress = true;
  engine::info("bootstrap: ", resamples, " resamples, one per rank at a time over ", world.size(), " ranks");
  const auto freq = causal::bootstrap_edges(world, data, params, resamples, options);
  if (world.is_root()) {
    const auto arcs = stable_arcs(data, freq);
    write_stability(out / "edge_stability.csv", arcs);
    print_stability(arcs, resamples, out / "edge_stability.csv");
    std::filesystem::remove(options.checkpoint);  // done: a rerun must start over, not resume a finished run
  }
  world.barrier();
}

}  // namespace

int run_discover(const engine::Context& world, const std::vector<std::string>& args) {
  causal::DiscoveryParams params;
  po::options_description options("discover options");
  options.add_options()
      ("input,i", po::value<std::string>()->required(), "CSV: one numeric column per variable plus the setting column")
      ("setting-column", po::value<std::string>()->default_value("setting"), "column naming each row's setting")
      ("observational", po::value<std::vector<std::string>>()->multitoken(),
       "setting values that are observational (default: 0, obs, observational)")
      ("settings", po::value<std::vector<std::string>>()->multitoken(),
       "keep only rows of these setting values (default: all)")
      ("targets", po::value<std::string>()->default_value(""),
       "known targets, 'setting:var1;var2,setting:var3' (needed by igsp)")
      ("algorithm", po::value<std::string>(&params.algorithm)->default_value(params.algorithm), "gsp | igsp | utigsp")
      ("alpha", po::value<double>(&params.alpha)->default_value(params.alpha), "CI test level (0: 1/n)")
      ("alpha-inv", po::value<double>(&params.alpha_inv)->default_value(params.alpha_inv), "invariance test level")
      ("depth", po::value<int>(&params.depth)->default_value(params.depth), "covered-arc reversals per DFS branch")
      ("restarts", po::value<int>(&params.restarts)->default_value(params.restarts), "random restarts (over ranks)")
      ("seed", po::value<std::uint64_t>(&params.seed)->default_value(params.seed), "random seed")
      ("bootstrap", po::value<int>()->default_value(0),
       "bootstrap resamples for edge_stability.csv (0: none); checkpointed on SIGUSR1/USR2/TERM, resumed on rerun")
      ("out,o", po::value<std::string>()->default_value("discover_out"), "output folder");
  const auto vm = parse_options(world, spec_of("discover"), options, args);
  if (!vm) return 0;
  params.check();
  const int resamples = (*vm)["bootstrap"].as<int>();
  TESSERA_CHECK(resamples >= 0, "--bootstrap must be >= 0 (0: no bootstrap), got ", resamples);
  // A signal during the first discovery is honoured after the bootstrap's first round. Without --bootstrap
  // nothing polls the flag: the run finishes (or Slurm kills it at the time limit) instead of dying 300 s early
  // on the sbatch's --signal=USR2@300.
  engine::install_stop_handlers();

  causal::CausalCsvOptions csv;
  if (vm->count("observational")) csv.observational = split_list((*vm)["observational"].as<std::vector<std::string>>());
  if (vm->count("settings")) csv.keep_settings = split_list((*vm)["settings"].as<std::vector<std::string>>());
  const auto data = causal::read_causal_csv((*vm)["input"].as<std::string>(),
                                            (*vm)["setting-column"].as<std::string>(),
                                            (*vm)["targets"].as<std::string>(), csv);
  engine::info("discover: ", data.samples.rows(), " rows, ", data.num_variables(), " variables, ",
               data.num_settings() - 1, " interventional settings; ", params.algorithm, ", ", params.restarts,
               " restarts over ", world.size(), " ranks");
  const auto res = causal::discover(world, data, params);
  const std::filesystem::path out = (*vm)["out"].as<std::string>();
  if (world.is_root()) {
    write_outputs(out, data, res);
    std::printf("%s: %ld arcs (tie-break score %ld, restart %d, %lld DAGs visited)\nWrote %s/dag_edges.csv, "
                "dag.dot, targets.csv\n",
                params.algorithm.c_str(), res.edges, res.penalty, res.restart,
                static_cast<long long>(res.dags_visited), out.string().c_str());
  }
  world.barrier();
  if (resamples > 0) run_bootstrap(world, data, params, resamples, out);
  return 0;
}

}  // namespace tessera::jobs
