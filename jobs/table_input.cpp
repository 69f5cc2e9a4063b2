#include "jobs/table_input.h"

#include "engine/error.h"
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
      "cell-field", po::value<std::string>()->default_value("cell_id"),
      "column field naming the cell type (cell_id; when there is none, LINCS2020 beta's cell_iname)")(
      "pert-field", po::value<std::string>()->default_value("pert_id"), "column field naming the perturbation")(
      "signature-info", po::value<std::string>(),
      "tab-separated signature table keyed by sig_id (LINCS2020 beta's siginfo_beta.txt): the signatures' metadata "
      "when the input's columns carry only ids")(
      "where", po::value<std::vector<std::string>>()->notifier([](const std::vector<std::string>& values) {
        for (const auto& value : values) {
          try {
            io::parse_where(value);
          } catch (const Error& error) {  // the option parser's message, without the source location
            const std::string message = error.what();
            throw po::error(message.substr(0, message.rfind(" [")));
          }
        }
      }),
      "keep the --signature-info rows with these values: field=value,... (quote values holding commas or spaces: "
      "pert_itime='24 h'; clauses on one field are alternatives, on different fields all must hold)")(
      "gene-info", po::value<std::string>(),
      "tab-separated gene table keyed by gene_id = the input's row ids (LINCS2020 beta's geneinfo_beta.txt): "
      "selects genes with --genes and names them by gene_symbol")(
      "genes", name_list("genes", io::gene_spaces()),
      "feature_space of the genes to keep (comma list): landmark | best inferred | inferred | all; default all");
}

TableOptions aggregation_options(const po::variables_map& vm) {
  TableOptions options;
  options.dose = vm["dose"].as<std::string>();
  options.time = vm["time"].as<std::string>();
  if (vm.count("control-types")) options.control_types = split_list(vm["control-types"].as<std::vector<std::string>>());
  options.center = io::name_table(io::ControlCentering{}).parse(vm["center"].as<std::string>(), "--center");
  options.cell_field = vm["cell-field"].as<std::string>();
  options.pert_field = vm["pert-field"].as<std::string>();
  TESSERA_CHECK(!vm.count("where") || vm.count("signature-info"),
                "--where filters the rows of a signature table: give it with --signature-info (e.g. "
                "siginfo_beta.txt), or leave --where out");
  TESSERA_CHECK(!vm.count("genes") || vm.count("gene-info"),
                "--genes selects genes by the feature_space of a gene table: give it with --gene-info (e.g. "
                "geneinfo_beta.txt), or leave --genes out");
  if (vm.count("signature-info")) options.side.signature_info = vm["signature-info"].as<std::string>();
  if (vm.count("where"))
    for (const auto& text : vm["where"].as<std::vector<std::string>>())
      for (auto& clause : io::parse_where(text)) options.side.where.push_back(std::move(clause));
  if (vm.count("gene-info")) {
    options.side.gene_info = vm["gene-info"].as<std::string>();
    options.side.genes =
        vm.count("genes") ? split_list(vm["genes"].as<std::vector<std::string>>()) : std::vector<std::string>{"all"};
  }
  return options;
}

TableInput load_table(const engine::Context& ctx, const std::string& path, const TableOptions& options,
                      std::uint64_t seed) {
  TableInput input;
  if (path.empty()) {
    TESSERA_CHECK(options.side.empty(),
                  "--signature-info and --gene-info describe an input file, but none was given "
                  "(the built-in simulated screen has its own metadata); give the input file");
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
    input.table = io::aggregate(ctx, read_signature_file(ctx, path, options.side), options, path);
  }
  return input;
}

}  // namespace tessera::jobs
