// `tessera discover`: causal discovery (GSP, IGSP, UT-IGSP) from a CSV of observational and interventional
// samples. Writes the DAG as an edge list (dag_edges.csv) and Graphviz (dag.dot), and the targets per setting
// (targets.csv: learned by utigsp, the given ones for igsp) into --out. Restarts run spread over the ranks.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/log.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "jobs/commands.h"
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
      ("out,o", po::value<std::string>()->default_value("discover_out"), "output folder");
  const auto vm = parse_options(world, spec_of("discover"), options, args);
  if (!vm) return 0;
  params.check();

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
  if (world.is_root()) {
    const std::filesystem::path out = (*vm)["out"].as<std::string>();
    write_outputs(out, data, res);
    std::printf("%s: %ld arcs (tie-break score %ld, restart %d, %lld DAGs visited)\nWrote %s/dag_edges.csv, "
                "dag.dot, targets.csv\n",
                params.algorithm.c_str(), res.edges, res.penalty, res.restart,
                static_cast<long long>(res.dags_visited), out.string().c_str());
  }
  world.barrier();
  return 0;
}

}  // namespace tessera::jobs
