// `tessera simulate-dag`: a simulated causal-discovery data set (solvers/causal/dag_simulation.h) in the layout
// `tessera discover` reads (CSV or DCDI), with its truth: the weighted DAG as an edge list `tessera design`
// reads, and every setting's true targets.
#include <cstdio>
#include <filesystem>

#include "engine/log.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "solvers/causal/dag_simulation.h"
#include "solvers/causal/dcdi.h"

namespace tessera::jobs {

namespace causal = solvers::causal;
namespace fs = std::filesystem;

namespace {

void write_data_csv(const fs::path& path, const causal::InterventionalData& data) {
  io::CsvTable table;
  table.header = data.variables;
  table.header.push_back("setting");
  for (Eigen::Index r = 0; r < data.samples.rows(); ++r) {
    std::vector<std::string> row;
    for (Eigen::Index j = 0; j < data.samples.cols(); ++j) row.push_back(io::shortest_text(data.samples(r, j)));
    const int setting = data.setting[std::size_t(r)];
    row.push_back(setting == 0 ? "obs" : data.setting_names[std::size_t(setting)]);
    table.rows.push_back(std::move(row));
  }
  io::write_csv(path, table);
}

// The listed targets as discover's --targets value, e.g. "1:X3,2:X7;X9".
std::string targets_spec(const causal::InterventionalData& data) {
  std::string spec;
  for (int k = 1; k < data.num_settings(); ++k) {
    if (data.known_targets[std::size_t(k)].empty()) continue;
    spec.append(spec.empty() ? "" : ",").append(data.setting_names[std::size_t(k)]).append(":");
    for (std::size_t t = 0; t < data.known_targets[std::size_t(k)].size(); ++t)
      spec.append(t ? ";" : "").append(data.variables[std::size_t(data.known_targets[std::size_t(k)][t])]);
  }
  return spec;
}

void write_truth(const fs::path& out, const causal::SimulatedDagData& sim) {
  const auto& names = sim.data.variables;
  io::CsvTable edges;
  edges.header = {"source", "target", "weight"};
  for (const auto& [i, j] : sim.sem.dag.edges())
    edges.rows.push_back({names[std::size_t(i)], names[std::size_t(j)], io::shortest_text(sim.sem.weights(i, j))});
  io::write_csv(out / "truth_edges.csv", edges);
  io::CsvTable targets;
  targets.header = {"setting", "target", "listed"};
  for (int k = 1; k < sim.data.num_settings(); ++k) {
    const auto& listed = sim.data.known_targets[std::size_t(k)];
    for (int t : sim.true_targets[std::size_t(k)])
      targets.rows.push_back({sim.data.setting_names[std::size_t(k)], names[std::size_t(t)],
                              std::find(listed.begin(), listed.end(), t) != listed.end() ? "yes" : "no"});
  }
  io::write_csv(out / "truth_targets.csv", targets);
}

}  // namespace

int run_simulate_dag(const engine::Context& world, const std::vector<std::string>& args) {
  causal::DagSimulationParams params;
  po::options_description options("simulate-dag options");
  options.add_options()("out,o", po::value<std::string>()->default_value("simulated_dag"), "output folder")(
      "format", po::value<std::string>()->default_value("csv"),
      "csv (data.csv with a setting column, targets.txt) or dcdi (data_interv1.npy, intervention1.csv, "
      "regime1.csv, DAG1.npy)");
  add_knob_options(options, params);
  const auto vm = parse_options(world, spec_of("simulate-dag"), options, args);
  if (!vm) return 0;
  params.validate();
  const std::string format = (*vm)["format"].as<std::string>();
  TESSERA_CHECK(format == "csv" || format == "dcdi", "--format '", format, "' is not csv or dcdi");

  // Deterministic: one rank simulates and writes.
  if (world.is_root()) {
    const auto sim = causal::simulate_dag_data(params);
    const fs::path out = (*vm)["out"].as<std::string>();
    io::make_output_folder(out, "--out");
    if (format == "csv") {
      write_data_csv(out / "data.csv", sim.data);
      io::write_bytes_atomically(out / "targets.txt", targets_spec(sim.data) + '\n');
    } else {
      causal::write_dcdi(out, 1, sim.data, &sim.sem.dag);
    }
    write_truth(out, sim);
    std::printf(
        "Simulated a %s DAG on %d nodes with %d arcs; %lld rows (%d observational, %d settings x %d); "
        "wrote %s data, truth_edges.csv and truth_targets.csv to %s\n",
        name_table(params.graph).name(params.graph), params.nodes, sim.sem.dag.num_edges(),
        static_cast<long long>(sim.data.samples.rows()), params.observational_samples, params.settings,
        params.samples_per_setting, format.c_str(), out.string().c_str());
    if (format == "csv")
      std::printf("Run: tessera discover -i %s/data.csv --targets \"$(cat %s/targets.txt)\" --algorithm igsp\n",
                  out.string().c_str(), out.string().c_str());
  }
  world.barrier();
  return 0;
}

}  // namespace tessera::jobs
