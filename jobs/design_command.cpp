// `tessera design`: sequential optimal intervention design on a linear SEM (a known DAG, e.g. from
// `tessera discover`, or random ones): the mean distance to the target per round for each acquisition.
// Candidates are random shifts in a ball, or a finite pool: a CSV of named shifts (--pool), or the real
// perturbations of an interventional data set (--pool-data), whose shifts and SEM are fitted on the DAG.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "engine/log.h"
#include "io/csv.h"
#include "jobs/causal_input.h"
#include "jobs/commands.h"
#include "jobs/dag_file.h"
#include "jobs/report/report.h"
#include "jobs/run_record.h"
#include "solvers/search/design.h"
#include "solvers/search/shift_pool.h"

namespace tessera::jobs {

namespace search = solvers::search;

namespace {

// CSV with header perturbation,<node>,... : one named shift per row, one column per DAG node (0: not shifted).
// A node without a column is an Error: silently leaving it unshifted let a misspelt or forgotten column pass.
search::ShiftPool read_pool_csv(const std::string& path, const std::vector<std::string>& nodes) {
  const auto table = io::read_csv(path);
  const auto name = table.column("perturbation", path);
  std::vector<std::pair<std::size_t, Eigen::Index>> columns;  // (CSV column, node)
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    if (c == name) continue;
    const auto node = std::find(nodes.begin(), nodes.end(), table.header[c]);
    TESSERA_CHECK(node != nodes.end(), "pool file '", path, "': column '", table.header[c],
                  "' is not a node of the DAG; name columns after the DAG's nodes");
    columns.emplace_back(c, Eigen::Index(node - nodes.begin()));
  }
  std::vector<bool> has_column(nodes.size(), false);
  for (const auto& column : columns) has_column[std::size_t(column.second)] = true;
  std::string missing;
  std::size_t num_missing = 0;
  for (std::size_t n = 0; n < nodes.size(); ++n)
    if (!has_column[n]) missing += (num_missing++ ? ", '" : "'") + nodes[n] + "'";
  TESSERA_CHECK(num_missing == 0, "pool file '", path, "' has no column for DAG node", num_missing > 1 ? "s " : " ",
                missing, ": add one column per node of --dag (0 where a perturbation does not shift it)");
  TESSERA_CHECK(!table.rows.empty(), "pool file '", path, "' has no perturbation");
  search::ShiftPool pool;
  pool.shifts = Eigen::MatrixXd::Zero(Eigen::Index(nodes.size()), Eigen::Index(table.rows.size()));
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    pool.names.push_back(table.rows[r][name]);
    for (const auto& [c, node] : columns) {
      const auto& text = table.rows[r][c];
      double value = NAN;
      std::size_t used = 0;
      try {
        value = std::stod(text, &used);
      } catch (const std::exception&) {
      }
      TESSERA_CHECK(used == text.size() && std::isfinite(value), "pool file '", path, "' line ", table.line_numbers[r],
                    ", column '", table.header[c], "': '", text, "' is not a finite number");
      pool.shifts(node, Eigen::Index(r)) = value;
    }
  }
  return pool;
}

void write_pool_csv(const std::string& path, const search::ShiftPool& pool, const std::vector<std::string>& nodes) {
  io::CsvTable table;
  table.header = {"perturbation"};
  table.header.insert(table.header.end(), nodes.begin(), nodes.end());
  for (int k = 0; k < pool.size(); ++k) {
    std::vector<std::string> row{pool.names[std::size_t(k)]};
    for (Eigen::Index i = 0; i < pool.shifts.rows(); ++i) {
      char text[32];
      std::snprintf(text, sizeof text, "%.6g", pool.shifts(i, k));
      row.push_back(text);
    }
    table.rows.push_back(row);
  }
  io::write_csv(path, table);
}

}  // namespace

int run_design(const engine::Context& world, const std::vector<std::string>& args) {
  search::DesignParams params;
  po::options_description options("design options");
  options.add_options()("dag", po::value<std::string>(),
                        "CSV source,target[,weight] or from,to (tessera discover's dag_edges.csv); "
                        "default: random DAGs")(
      "pool", po::value<std::string>(), "CSV perturbation,<node>,...: a finite pool of named shifts (needs --dag)")(
      "acquisition,a", enum_list<search::Acquisition>("acquisition"),
      ("comma list of " + search::name_table(search::Acquisition{}).choices() + "; default all").c_str())(
      "out,o", po::value<std::string>()->default_value("tessera-design.csv"), "CSV of the distance per round");
  add_causal_input_options(options, "pool-data",
                           "interventional data (as for tessera discover): fit the SEM on --dag from its observational "
                           "rows and make one candidate per interventional setting; writes <out>.pool.csv");
  add_knob_options(options, params);
  add_report_option(options);
  const auto parsed = parse_options(world, spec_of("design"), options, args);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  params.validate();
  const auto acquisitions =
      vm.count("acquisition") ? enum_values<search::Acquisition>(vm, "acquisition") : search::all_acquisitions();
  const std::string out = vm["out"].as<std::string>();

  TESSERA_CHECK(!(vm.count("pool") && vm.count("pool-data")), "give --pool or --pool-data, not both");
  TESSERA_CHECK(vm.count("dag") || !(vm.count("pool") || vm.count("pool-data")),
                "--pool and --pool-data need --dag: the pool's shifts are named by the DAG's nodes");
  std::optional<DagFile> dag_file;
  std::optional<search::Dag> dag;
  if (vm.count("dag")) {
    dag_file = read_dag_csv(vm["dag"].as<std::string>());
    TESSERA_CHECK(!dag_file->edges.empty(), "DAG file '", vm["dag"].as<std::string>(), "' has no edge");
    dag = search::Dag::from_edges(int(dag_file->names.size()), dag_file->edges);
  }
  search::DesignSetup setup;
  std::optional<search::ShiftPool> pool;
  std::optional<search::FittedSem> fitted;
  if (vm.count("pool")) pool = read_pool_csv(vm["pool"].as<std::string>(), dag_file->names);
  if (vm.count("pool-data")) {
    const auto data = read_causal_input(world, vm, "pool-data");
    fitted = search::fit_sem(*dag, dag_file->names, data);
    pool = search::shift_pool_from_settings(fitted->sem, dag_file->names, data);
    // The fitted model is the truth the instances simulate, unless the user set the noise level.
    if (vm["noise-sd"].defaulted()) params.noise_sd = fitted->noise_sd;
    setup.weights = &fitted->sem.weights;
    setup.intercepts = &fitted->sem.intercepts;
    engine::info("design: fitted the SEM on ", dag_file->names.size(), " nodes from ",
                 std::count(data.setting.begin(), data.setting.end(), 0), " observational rows (noise sd ",
                 fitted->noise_sd, "); pool of ", pool->size(), " perturbations");
    if (world.is_root() && !out.empty()) write_pool_csv(out + ".pool.csv", *pool, dag_file->names);
  }
  if (dag) {
    setup.dag = &*dag;
    if (!fitted) setup.weights = &dag_file->weights;
  }
  if (pool) setup.pool = &*pool;
  engine::info("design: ", params.instances, " instance(s) of ", dag ? int(dag_file->names.size()) : params.nodes,
               " nodes, ", params.rounds, " rounds, ", acquisitions.size(), " acquisition(s), ",
               pool ? std::to_string(pool->size()) + " pooled candidates, " : std::string(), world.size(), " rank(s)");
  const auto study = search::design_study(world, params, acquisitions, setup);
  const auto& curves = study.distance;
  if (!world.is_root()) return 0;
  io::CsvTable table;
  table.header = {"round"};
  for (auto a : acquisitions) table.header.push_back(search::name_table(a).name(a));
  for (int r = 0; r <= params.rounds; ++r) {
    std::vector<std::string> row{std::to_string(r)};
    for (const auto& curve : curves) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.4f", curve[std::size_t(r)]);
      row.push_back(buffer);
    }
    table.rows.push_back(row);
  }
  std::printf(
      "Mean distance ||E[x | do shift a_rec] - mu*|| over %d instance(s), per round (round 0: after %d "
      "observational samples):\n%s",
      params.instances, params.initial_samples, io::to_csv_text(table).c_str());
  if (pool) {
    std::printf("Final recommendation = the perturbation behind the target in:");
    for (std::size_t a = 0; a < acquisitions.size(); ++a)
      std::printf(" %s %.0f%%", search::name_table(acquisitions[a]).name(acquisitions[a]), 100 * study.found[a]);
    std::printf(" of %d instances (%d perturbations in the pool)\n", params.instances, pool->size());
  }
  if (!out.empty()) {
    io::write_csv(out, table);
    write_options_file(world, spec_of("design"), vm, report::side_file(out, "options.ini"));
    write_report_if_asked(world, vm, out);
  }
  return 0;
}

}  // namespace tessera::jobs
