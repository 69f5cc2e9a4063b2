// `tessera discover`: causal discovery (GSP, IGSP, UT-IGSP) from observational and interventional samples (a
// CSV, a DCDI folder or a GCTX file: jobs/causal_input.h). Writes the DAG as an edge list (dag_edges.csv) and
// Graphviz (dag.dot), the targets per setting (targets.csv: learned by utigsp, the given ones for igsp) and what
// the search cost (restarts.csv, timing.csv) into --out. Restarts run spread over the ranks.
// With --bootstrap N it also reruns discovery on N resamples (one per rank at a time) and writes how often each arc
// appears (edge_stability.csv). The bootstrap checkpoints on SIGUSR1/USR2/TERM into <out>/bootstrap.checkpoint
// and exits with 75 (requeue); the same command resumes from it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "engine/log.h"
#include "engine/signals.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "jobs/causal_input.h"
#include "jobs/commands.h"
#include "jobs/dag_file.h"
#include "jobs/run_record.h"
#include "solvers/causal/bootstrap.h"
#include "solvers/causal/discover.h"
#include "solvers/causal/evaluation.h"

namespace tessera::jobs {

namespace {

namespace causal = solvers::causal;

void write_outputs(const std::filesystem::path& out, const causal::InterventionalData& data,
                   const causal::DiscoveryResult& res) {
  io::make_output_folder(out, "--out");
  io::CsvTable edges;
  edges.header = {"from", "to"};
  for (const auto& [i, j] : res.dag.edges()) edges.rows.push_back({data.variables[i], data.variables[j]});
  io::write_csv(out / "dag_edges.csv", edges);
  io::write_stream_atomically(out / "dag.dot", [&](std::ostream& f) {
    f << "digraph causal {\n";
    for (const auto& v : data.variables) f << "  " << dot_quoted(v) << ";\n";
    for (const auto& [i, j] : res.dag.edges())
      f << "  " << dot_quoted(data.variables[i]) << " -> " << dot_quoted(data.variables[j]) << ";\n";
    f << "}\n";
  });
  io::CsvTable targets;
  targets.header = {"setting", "target"};
  for (std::size_t k = 1; k < res.targets.size(); ++k)
    for (int v : res.targets[k]) targets.rows.push_back({data.setting_names[k], data.variables[v]});
  io::write_csv(out / "targets.csv", targets);
}

// restarts.csv: what each restart found and cost; timing.csv: the run's phases and test counts. Printed too.
void write_search_report(const std::filesystem::path& out, const causal::DiscoveryResult& res, double read_seconds,
                         int ranks) {
  io::CsvTable restarts;
  restarts.header = {"restart", "rank", "arcs", "score", "dags_visited", "ci_tests", "invariance_tests", "seconds"};
  double longest = 0, summed = 0;
  for (const auto& r : res.restarts) {
    restarts.rows.push_back({std::to_string(r.restart), std::to_string(r.rank), std::to_string(r.edges),
                             std::to_string(r.penalty), std::to_string(r.dags_visited), std::to_string(r.ci_tests),
                             std::to_string(r.invariance_tests), io::shortest_text(r.seconds)});
    longest = std::max(longest, r.seconds);
    summed += r.seconds;
  }
  io::write_csv(out / "restarts.csv", restarts);
  io::CsvTable timing;
  timing.header = {"ranks",    "read_seconds",     "search_seconds", "restarts",
                   "ci_tests", "invariance_tests", "dags_visited"};
  timing.rows.push_back({std::to_string(ranks), io::shortest_text(read_seconds), io::shortest_text(res.search_seconds),
                         std::to_string(res.restarts.size()), std::to_string(res.ci_tests),
                         std::to_string(res.invariance_tests), std::to_string(res.dags_visited)});
  io::write_csv(out / "timing.csv", timing);
  const double mean = res.restarts.empty() ? 0 : summed / double(res.restarts.size());
  std::printf(
      "Search: %.3f s on %d rank(s) (reading %.3f s); %zu restarts, %.3f s each on average, longest %.3f s; %lld CI "
      "tests, %lld invariance tests\nWrote %s/restarts.csv, timing.csv\n",
      res.search_seconds, ranks, read_seconds, res.restarts.size(), mean, longest, static_cast<long long>(res.ci_tests),
      static_cast<long long>(res.invariance_tests), out.string().c_str());
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

void write_stability(const std::filesystem::path& path, const std::vector<ArcFrequency>& arcs) {
  io::CsvTable table;
  table.header = {"source", "target", "frequency"};
  for (const auto& a : arcs) table.rows.push_back({a.source, a.target, io::shortest_text(a.frequency)});
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

// --shrinkage: auto (-1) or a number in [0, 1]; else the option's error, raised while parsing.
double parse_shrinkage(const std::string& text) {
  if (text == "auto") return -1;
  std::size_t used = 0;
  double value = NAN;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (!(used == text.size() && value >= 0 && value <= 1))
    throw po::error("--shrinkage '" + text + "' is invalid: the allowed values of shrinkage are auto or in [0, 1]");
  return value;
}

// --depth: a number of at least 1, or inf (no limit, the published search's default); else the option's error.
int parse_depth(const std::string& text) {
  if (text == "inf") return causal::kUnlimitedDepth;
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
  }
  if (!(used == text.size() && value >= 1 && value < causal::kUnlimitedDepth))
    throw po::error("--depth '" + text + "' is invalid: the allowed values of depth are inf or at least 1");
  return int(value);
}

// The knobs of `tessera discover` itself (the search's are causal::DiscoveryParams).
struct DiscoverCommandParams {
  int bootstrap = 0;  // resamples of the edge-stability bootstrap

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("bootstrap", self.bootstrap,
                         "bootstrap resamples for edge_stability.csv (0: none); checkpointed on SIGUSR1/USR2/TERM, "
                         "resumed on rerun")
                .at_least(0));
  }
};

int variable_of(const causal::InterventionalData& data, const std::string& name, const std::string& option) {
  const int v = data.variable_index(name);
  TESSERA_CHECK(v >= 0, option, " names '", name, "', which is not a variable of the data");
  return v;
}

// "a>b,c>d" -> arcs.
std::vector<causal::Arc> parse_arcs(const causal::InterventionalData& data, const std::string& text,
                                    const std::string& option) {
  std::vector<causal::Arc> arcs;
  for (const auto& item : split_list({text})) {
    const auto arrow = item.find('>');
    TESSERA_CHECK(arrow != std::string::npos, option, " item '", item, "' is not 'from>to'");
    arcs.emplace_back(variable_of(data, item.substr(0, arrow), option),
                      variable_of(data, item.substr(arrow + 1), option));
  }
  return arcs;
}

std::vector<int> parse_order(const causal::InterventionalData& data, const std::string& text) {
  std::vector<int> order;
  for (const auto& name : split_list({text})) order.push_back(variable_of(data, name, "--order"));
  if (order.empty()) return order;
  std::vector<int> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  TESSERA_CHECK(int(order.size()) == data.num_variables() && std::unique(sorted.begin(), sorted.end()) == sorted.end(),
                "--order must list every one of the ", data.num_variables(), " variables once (got ", order.size(),
                " names)");
  return order;
}

// CSV setting,target[,...]: the true targets of each setting of `data`.
std::vector<std::vector<int>> read_targets_csv(const std::string& path, const causal::InterventionalData& data) {
  const auto table = io::read_csv(path);
  const auto setting = table.column("setting", path), target = table.column("target", path);
  std::vector<std::vector<int>> targets(std::size_t(data.num_settings()));
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto& name = table.rows[r][setting];
    const auto k = std::find(data.setting_names.begin(), data.setting_names.end(), name) - data.setting_names.begin();
    TESSERA_CHECK(k > 0 && k < data.num_settings(), "targets file '", path, "' line ", table.line_numbers[r],
                  ": setting '", name, "' is not an interventional setting of the data");
    targets[std::size_t(k)].push_back(variable_of(data, table.rows[r][target], "targets file '" + path + "'"));
  }
  return targets;
}

void write_metrics(const std::filesystem::path& path, const causal::DiscoveryMetrics& m) {
  io::CsvTable table;
  table.header = {"shd",
                  "essential_shd",
                  "observational_essential_shd",
                  "precision",
                  "recall",
                  "learned_arcs",
                  "true_arcs",
                  "true_targets",
                  "learned_targets",
                  "correct_targets"};
  table.rows.push_back({std::to_string(m.shd), std::to_string(m.essential_shd),
                        std::to_string(m.observational_essential_shd), io::shortest_text(m.accuracy.precision()),
                        io::shortest_text(m.accuracy.recall()), std::to_string(m.accuracy.learned_edges),
                        std::to_string(m.accuracy.true_edges), std::to_string(m.true_targets),
                        std::to_string(m.learned_targets), std::to_string(m.correct_targets)});
  io::write_csv(path, table);
  std::printf(
      "Against the truth: SHD %d, essential-graph SHD %d (interventional: the truth under its targets, the DAG "
      "under the targets used), %d (observational CPDAGs), precision %.3f, recall %.3f (%d of %d true arcs); "
      "targets %d of %d found, %d learned\nWrote %s\n",
      m.shd, m.essential_shd, m.observational_essential_shd, m.accuracy.precision(), m.accuracy.recall(),
      m.accuracy.true_positives, m.accuracy.true_edges, m.correct_targets, m.true_targets, m.learned_targets,
      path.string().c_str());
}

}  // namespace

int run_discover(const engine::Context& world, const std::vector<std::string>& args) {
  causal::DiscoveryParams params;
  DiscoverCommandParams command;
  po::options_description options("discover options");
  add_causal_input_options(options, "input,i",
                           "the data: a CSV (one numeric column per variable plus the setting column), a DCDI folder "
                           "or a GCTX/GCT file");
  add_knob_options(options, params);
  options.add_options()("depth",
                        po::value<std::string>()->default_value("4")->notifier(
                            [&params](const std::string& text) { params.depth = parse_depth(text); }),
                        "covered-arc reversals per DFS branch: at least 1, or inf (no limit)")(
      "shrinkage", po::value<std::string>()->default_value("auto")->notifier([&params](const std::string& text) {
        params.shrinkage = parse_shrinkage(text);
      }),
      "correlation shrinkage lambda for the CI tests: auto (none when the observational covariance is "
      "well-posed, else data-driven, at most 0.1), 0 (never) or a value in (0, 1]")(
      "required", po::value<std::string>()->default_value(""), "arcs always present, 'a>b,c>d'")(
      "forbidden", po::value<std::string>()->default_value(""), "arcs never present, 'a>b,c>d'")(
      "order", po::value<std::string>()->default_value(""),
      "a fixed causal order 'a,b,c,...' of every variable: no search, its minimal I-map")(
      "truth", po::value<std::string>(),
      "true DAG (CSV source,target or from,to, e.g. simulate-dag's truth_edges.csv): print and write metrics.csv")(
      "truth-targets", po::value<std::string>(),
      "true targets (CSV setting,target, e.g. simulate-dag's truth_targets.csv); default: the known targets")(
      "out,o", po::value<std::string>()->default_value("discover_out"), "output folder");
  add_knob_options(options, command);
  add_report_option(options);
  const auto vm = parse_options(world, spec_of("discover"), options, args);
  if (!vm) return 0;
  params.validate();
  const int resamples = command.bootstrap;
  // A signal during the first discovery is honoured after the bootstrap's first round. Without --bootstrap the
  // search has no safe point: SIGTERM (time limit, scancel) ends it at once with exit 75 and nothing written,
  // while USR1/USR2 (the sbatch's early --signal=USR2@300) only set the flag and the run finishes.
  if (resamples == 0) engine::install_stop_handlers(engine::StopMode::kEndOnTerm, "discover");

  const auto started = std::chrono::steady_clock::now();
  const auto data = read_causal_input(world, *vm, "input");
  const double read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  params.required = parse_arcs(data, (*vm)["required"].as<std::string>(), "--required");
  params.forbidden = parse_arcs(data, (*vm)["forbidden"].as<std::string>(), "--forbidden");
  params.fixed_order = parse_order(data, (*vm)["order"].as<std::string>());
  engine::info("discover: ", data.samples.rows(), " rows, ", data.num_variables(), " variables, ",
               data.num_settings() - 1, " interventional settings; ",
               causal::name_table(params.algorithm).name(params.algorithm), ", ", params.restarts, " restarts over ",
               world.size(), " ranks");
  params.progress = true;
  const auto res = causal::discover(world, data, params);
  const std::filesystem::path out = (*vm)["out"].as<std::string>();
  if (world.is_root()) {
    write_outputs(out, data, res);
    std::printf(
        "%s: %ld arcs (tie-break score %ld, restart %d, %lld DAGs visited, shrinkage %g)\nWrote "
        "%s/dag_edges.csv, dag.dot, targets.csv\n",
        causal::name_table(params.algorithm).name(params.algorithm), res.edges, res.penalty, res.restart,
        static_cast<long long>(res.dags_visited), res.shrinkage, out.string().c_str());
    write_search_report(out, res, read_seconds, world.size());
    write_options_file(world, spec_of("discover"), *vm, out / "options.ini");
    if (vm->count("truth")) {
      const auto truth = read_dag_csv((*vm)["truth"].as<std::string>(), data.variables);
      causal::Dag truth_dag(data.num_variables());
      for (const auto& [i, j] : truth.edges) truth_dag.add_edge(i, j);
      const auto true_targets = vm->count("truth-targets")
                                    ? read_targets_csv((*vm)["truth-targets"].as<std::string>(), data)
                                    : data.known_targets;
      write_metrics(out / "metrics.csv", causal::evaluate_discovery(truth_dag, true_targets, res.dag, res.targets));
    }
  }
  world.barrier();
  if (resamples > 0) run_bootstrap(world, data, params, resamples, out);
  write_report_if_asked(world, *vm, out);
  return 0;
}

}  // namespace tessera::jobs
