#include "jobs/table_input.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "engine/error.h"
#include "engine/log.h"
#include "io/h5ad.h"
#include "jobs/signature_file.h"

namespace tessera::jobs {

namespace {

// The pert_ids of the signatures of each value of the perturbation field (one, unless --pert-field names a field
// other than pert_id), in signature order.
using PertIds = std::unordered_map<std::string, std::vector<std::string>>;
PertIds pert_ids_by_value(const io::MetaTable& cols, const std::string& pert_field) {
  PertIds out;
  const io::MetaColumn* pert = cols.find(pert_field);
  const io::MetaColumn* pert_id = cols.find("pert_id");
  if (pert == nullptr || pert_id == nullptr) return out;  // aggregate names the missing field
  for (std::size_t s = 0; s < cols.size(); ++s) {
    auto& ids = out[pert->as_string(s)];
    std::string id = pert_id->as_string(s);
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
  }
  return out;
}

// Each perturbation's compound fields: the distinct values of its compounds, joined with '|'; -666 when none.
io::MetaTable fields_of_perts(const std::vector<std::string>& perts, const PertIds& pert_ids,
                              const io::MetaTable& compounds) {
  std::unordered_map<std::string_view, std::size_t> row;
  for (std::size_t i = 0; i < compounds.size(); ++i) row.emplace(compounds.ids[i], i);
  io::MetaTable out;
  out.ids = perts;
  for (const auto& field : compounds.fields) {
    std::vector<std::string> joined;
    for (const auto& pert : perts) {
      std::vector<std::string_view> values;
      if (const auto ids = pert_ids.find(pert); ids != pert_ids.end())
        for (const auto& id : ids->second) {
          const auto at = row.find(id);
          if (at == row.end() || field.is_missing(at->second)) continue;
          std::string_view rest = field.text[at->second];
          while (true) {  // compound_fields joined one compound's values with '|'
            const std::size_t bar = rest.find('|');
            if (std::find(values.begin(), values.end(), rest.substr(0, bar)) == values.end())
              values.push_back(rest.substr(0, bar));
            if (bar == std::string_view::npos) break;
            rest.remove_prefix(bar + 1);
          }
        }
      std::string text;
      for (const auto value : values) (text += text.empty() ? "" : "|") += value;
      joined.push_back(text.empty() ? "-666" : text);
    }
    out.set_text(field.name, std::move(joined));
  }
  return out;
}

}  // namespace

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
      "compound-info", po::value<std::string>(),
      "tab-separated compound table keyed by pert_id, several rows per compound (LINCS2020 beta's "
      "compoundinfo_beta.txt; needs --signature-info): --where may name its fields (moa, target, ...), and output "
      "GCTX columns gain cmap_name and moa")(
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
      "pert_itime='24 h'; clauses on one field are alternatives, on different fields all must hold); a field only "
      "--compound-info has keeps the signatures of compounds with a row holding one of its values")(
      "gene-info", po::value<std::string>(),
      "tab-separated gene table keyed by gene_id = the input's row ids (LINCS2020 beta's geneinfo_beta.txt): "
      "selects genes with --genes and names them by gene_symbol")(
      "genes", name_list("genes", io::gene_spaces()),
      "feature_space of the genes to keep (comma list): landmark | best inferred | inferred | all; default all");
  po::options_description single_cell("single-cell (.h5ad) input: cells pseudobulked per (context, perturbation)");
  single_cell.add_options()("preset", enum_value("preset", SingleCellPreset::kNone),
                            "obs column names and control values of a community's files: none | scperturb "
                            "(perturbation, celltype, dose_value, time) | gears (condition, cell_type; ctrl) | cpa "
                            "(condition, cell_type, dose_val)")(
      "obs-context", po::value<std::string>(),
      "obs column naming each cell's context (cell type); for .h5ad input, in place of --cell-field")(
      "obs-perturbation", po::value<std::string>(),
      "obs column naming each cell's perturbation (A, or A+B for a combination); in place of --pert-field")(
      "control-value", po::value<std::vector<std::string>>()->multitoken(),
      "perturbation values marking control cells, each context's baseline (comma list); default: "
      "control, ctrl, non-targeting (or the preset's)")(
      "normalize-total", po::value<double>()->default_value(0.0)->notifier([](double target) {
        if (!(target >= 0.0) || !std::isfinite(target))
          throw po::error("--normalize-total must be a finite total >= 0 (e.g. 10000; 0 keeps the values as stored)");
      }),
      "scale each cell's values to this total before averaging (scanpy's normalize_total, e.g. 10000); 0: as stored")(
      "log1p", po::bool_switch(), "log(1 + x) of each cell's (normalised) values before averaging")(
      "var-genes", po::value<std::string>(),
      "genes kept: a boolean var column (e.g. highly_variable) or a comma list of var ids; default all");
  options.add(single_cell);
}

TableOptions aggregation_options(const po::variables_map& vm) {
  TableOptions options;
  options.dose = vm["dose"].as<std::string>();
  options.time = vm["time"].as<std::string>();
  if (vm.count("control-types")) options.control_types = split_list(vm["control-types"].as<std::vector<std::string>>());
  options.center = io::name_table(io::ControlCentering{}).parse(vm["center"].as<std::string>(), "--center");
  options.cell_field = vm["cell-field"].as<std::string>();
  options.pert_field = vm["pert-field"].as<std::string>();
  forbid_together(vm, "obs-context", "cell-field", "both name the context column; give one");
  forbid_together(vm, "obs-perturbation", "pert-field", "both name the perturbation column; give one");
  apply_preset(name_table(SingleCellPreset{}).parse(vm["preset"].as<std::string>(), "--preset"), options,
               options.single_cell);
  if (vm.count("obs-context")) options.cell_field = vm["obs-context"].as<std::string>();
  if (vm.count("obs-perturbation")) options.pert_field = vm["obs-perturbation"].as<std::string>();
  if (given(vm, "cell-field")) options.cell_field = vm["cell-field"].as<std::string>();
  if (given(vm, "pert-field")) options.pert_field = vm["pert-field"].as<std::string>();
  if (vm.count("control-value"))
    options.single_cell.control_values = split_list(vm["control-value"].as<std::vector<std::string>>());
  options.single_cell.normalize_total = vm["normalize-total"].as<double>();
  options.single_cell.log1p = vm["log1p"].as<bool>();
  if (vm.count("var-genes")) options.single_cell.var_genes = vm["var-genes"].as<std::string>();
  for (const char* name :
       {"preset", "obs-context", "obs-perturbation", "control-value", "normalize-total", "log1p", "var-genes"})
    options.single_cell_given = options.single_cell_given || given(vm, name);
  options.control_types_given = given(vm, "control-types");
  TESSERA_CHECK(!vm.count("where") || vm.count("signature-info"),
                "--where filters the rows of a signature table: give it with --signature-info (e.g. "
                "siginfo_beta.txt), or leave --where out");
  TESSERA_CHECK(!vm.count("genes") || vm.count("gene-info"),
                "--genes selects genes by the feature_space of a gene table: give it with --gene-info (e.g. "
                "geneinfo_beta.txt), or leave --genes out");
  TESSERA_CHECK(!vm.count("compound-info") || vm.count("signature-info"),
                "--compound-info describes the compounds of a signature table's pert_id: give that table with "
                "--signature-info (e.g. siginfo_beta.txt), or leave --compound-info out");
  if (vm.count("signature-info")) options.side.signature_info = vm["signature-info"].as<std::string>();
  if (vm.count("compound-info")) options.side.compound_info = vm["compound-info"].as<std::string>();
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
  TESSERA_CHECK(io::is_h5ad_path(path) || !options.single_cell_given,
                "--preset, --obs-*, --control-value, --normalize-total, --log1p and --var-genes shape the pseudobulk "
                "of an AnnData (.h5ad) file; ",
                path.empty() ? "the built-in simulated screen" : "'" + path + "'",
                " is not one: leave them out (--cell-field, --pert-field and --control-types name a GCTX's fields)");
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
  } else if (io::is_h5ad_path(path)) {
    TESSERA_CHECK(options.side.empty(), "--signature-info, --compound-info and --gene-info describe LINCS files; '",
                  path, "' is an AnnData file, whose obs and var describe its cells and genes: leave them out");
    TESSERA_CHECK(!options.control_types_given, "--control-types lists LINCS pert_type values; the control cells of ",
                  "AnnData file '", path, "' are named by their perturbation: use --control-value (e.g. ctrl)");
    input.source = path;
    SingleCellGroups cells = read_single_cell_groups(ctx, path, options, options.single_cell);
    input.table = io::aggregate(ctx, std::move(cells.groups), cells.aggregation, path);
  } else {
    input.source = path;
    io::MetaTable compounds;
    auto local = read_signature_file(ctx, path, options.side, compounds);
    const auto pert_ids = compounds.ids.empty() ? PertIds{} : pert_ids_by_value(local.cols, options.pert_field);
    input.table = io::aggregate(ctx, std::move(local), options, path);
    if (!compounds.ids.empty()) input.pert_fields = fields_of_perts(input.table.perts, pert_ids, compounds);
  }
  return input;
}

}  // namespace tessera::jobs
