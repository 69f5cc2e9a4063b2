// `tessera design`: sequential optimal intervention design on a linear SEM (a known DAG, e.g. from
// `tessera discover`, or random ones): the mean distance to the target per round for each acquisition.
#include <cmath>
#include <cstdio>
#include <map>

#include "engine/log.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "solvers/search/design.h"

namespace tessera::jobs {

namespace search = solvers::search;

namespace {

struct DagFile {
  search::Dag dag;
  Eigen::MatrixXd weights;  // NaN where the file gives no weight
  std::vector<std::string> names;
};

// CSV with header source,target[,weight]; nodes are numbered in order of first appearance.
DagFile read_dag_csv(const std::string& path) {
  const auto table = io::read_csv(path);
  const auto source = table.column("source", path), target = table.column("target", path);
  const bool has_weight = std::find(table.header.begin(), table.header.end(), "weight") != table.header.end();
  std::map<std::string, int> index;
  DagFile out;
  auto node = [&](const std::string& name) {
    const auto [it, added] = index.emplace(name, int(out.names.size()));
    if (added) out.names.push_back(name);
    return it->second;
  };
  std::vector<std::pair<int, int>> edges;
  std::vector<double> weights;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    edges.emplace_back(node(table.rows[r][source]), node(table.rows[r][target]));
    double w = NAN;
    if (has_weight && !table.rows[r][table.column("weight", path)].empty()) {
      try {
        w = std::stod(table.rows[r][table.column("weight", path)]);
      } catch (const std::exception&) {
        TESSERA_FAIL("DAG file '", path, "' line ", table.line_numbers[r], ": weight is not a number");
      }
    }
    weights.push_back(w);
  }
  TESSERA_CHECK(!edges.empty(), "DAG file '", path, "' has no edge");
  out.dag = search::Dag::from_edges(int(out.names.size()), edges);
  const Eigen::Index p = Eigen::Index(out.names.size());
  out.weights = Eigen::MatrixXd::Constant(p, p, NAN);
  for (std::size_t e = 0; e < edges.size(); ++e) out.weights(edges[e].second, edges[e].first) = weights[e];
  return out;
}

}  // namespace

int run_design(const engine::Context& world, const std::vector<std::string>& args) {
  search::DesignParams params;
  po::options_description options("design options");
  options.add_options()
      ("dag", po::value<std::string>(), "CSV source,target[,weight] (e.g. from tessera discover); default: random DAGs")
      ("acquisition,a", po::value<std::vector<std::string>>()->multitoken(),
       "greedy, variance, ucb, mi, random (comma list); default all")
      ("seed", po::value<std::uint64_t>()->default_value(1), "seed of instances, data and candidates")
      ("out,o", po::value<std::string>()->default_value("tessera-design.csv"), "CSV of the distance per round");
  add_knob_options(options, params);
  const auto parsed = parse_options(world, spec_of("design"), options, args);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  params.seed = vm["seed"].as<std::uint64_t>();
  params.validate();
  std::vector<search::Acquisition> acquisitions;
  if (vm.count("acquisition"))
    for (const auto& name : split_list(vm["acquisition"].as<std::vector<std::string>>()))
      acquisitions.push_back(search::parse_acquisition(name));
  else
    acquisitions = search::all_acquisitions();

  std::optional<DagFile> dag;
  if (vm.count("dag")) dag = read_dag_csv(vm["dag"].as<std::string>());
  engine::info("design: ", params.instances, " instance(s) of ", dag ? int(dag->names.size()) : params.nodes,
               " nodes, ", params.rounds, " rounds, ", acquisitions.size(), " acquisition(s), ", world.size(),
               " rank(s)");
  const auto curves = search::design_study(world, params, acquisitions, dag ? &dag->dag : nullptr,
                                           dag ? &dag->weights : nullptr);
  if (!world.is_root()) return 0;
  io::CsvTable table;
  table.header = {"round"};
  for (auto a : acquisitions) table.header.push_back(search::acquisition_name(a));
  for (int r = 0; r <= params.rounds; ++r) {
    std::vector<std::string> row{std::to_string(r)};
    for (const auto& curve : curves) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.4f", curve[std::size_t(r)]);
      row.push_back(buffer);
    }
    table.rows.push_back(row);
  }
  std::printf("Mean distance ||E[x | do shift a_rec] - mu*|| over %d instance(s), per round (round 0: after %d "
              "observational samples):\n%s",
              params.instances, params.initial_samples, io::to_csv_text(table).c_str());
  if (!vm["out"].as<std::string>().empty()) io::write_csv(vm["out"].as<std::string>(), table);
  return 0;
}

}  // namespace tessera::jobs
