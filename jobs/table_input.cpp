#include "jobs/table_input.h"

#include "engine/log.h"
#include "jobs/signature_file.h"

namespace tessera::jobs {

void add_aggregation_options(po::options_description& options) {
  options.add_options()(
      "dose", po::value<std::string>()->default_value(""),
      "keep only signatures with this pert_idose (e.g. '10 uM'); default: pool all doses by their mean")(
      "time", po::value<std::string>()->default_value(""),
      "keep only signatures with this pert_itime (e.g. '24 h'); default: pool all times by their mean")(
      "control-types", po::value<std::vector<std::string>>()->multitoken(),
      "pert_type values that mark controls (comma list); default ctl_vehicle,ctl_untrt,ctl_vehicle.cns,ctl_untrt.cns")(
      "center", enum_value("center", io::AggregationOptions{}.center),
      "subtract each cell type's control mean: auto (when it has controls) | none | required")(
      "cell-field", po::value<std::string>()->default_value("cell_id"), "column field naming the cell type")(
      "pert-field", po::value<std::string>()->default_value("pert_id"), "column field naming the perturbation");
}

io::AggregationOptions aggregation_options(const po::variables_map& vm) {
  io::AggregationOptions options;
  options.dose = vm["dose"].as<std::string>();
  options.time = vm["time"].as<std::string>();
  if (vm.count("control-types")) options.control_types = split_list(vm["control-types"].as<std::vector<std::string>>());
  options.center = io::name_table(io::ControlCentering{}).parse(vm["center"].as<std::string>(), "--center");
  options.cell_field = vm["cell-field"].as<std::string>();
  options.pert_field = vm["pert-field"].as<std::string>();
  return options;
}

TableInput load_table(const engine::Context& ctx, const std::string& path, const io::AggregationOptions& options,
                      std::uint64_t seed) {
  TableInput input;
  if (path.empty()) {
    solvers::simulation::SimulationParams params;
    params.seed = seed;
    engine::info("no --input: using the built-in simulated screen (", params.describe(), ")");
    // Every rank simulates the same screen (it is deterministic) and keeps its own block of samples.
    auto screen = solvers::simulation::simulate_screen(params);
    input.source = "built-in simulated screen (seed " + std::to_string(seed) + ")";
    input.table = io::aggregate(ctx, local_block(ctx, std::move(screen.samples)), options, input.source);
    input.truth = std::move(screen.truth);
  } else {
    input.source = path;
    input.table = io::aggregate(ctx, read_signature_file(ctx, path), options, path);
  }
  return input;
}

}  // namespace tessera::jobs
