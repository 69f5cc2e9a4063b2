#include "jobs/single_cell_input.h"

#include <algorithm>
#include <unordered_map>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/partition.h"
#include "io/combinations.h"
#include "io/h5ad.h"
#include "io/pseudobulk.h"
#include "jobs/command_line.h"

namespace tessera::jobs {

namespace {

constexpr const char* kControlType = "control";
constexpr const char* kTreatmentType = "treatment";

const io::MetaColumn& require_obs(const io::H5adCells& file, const std::string& name, const char* role,
                                  const char* option) {
  const io::MetaColumn* column = file.obs().find(name);
  TESSERA_CHECK(column != nullptr, "h5ad file '", file.path().string(), "', /obs: no column '", name, "' naming each ",
                "cell's ", role, "; its columns are ", file.obs().field_list(), ": name the right one with ", option,
                ", or use --preset scperturb | gears | cpa for those communities' column names");
  return *column;
}

// The var rows --var-genes keeps: a boolean column's true rows, or the listed ids in the order given.
std::vector<std::int64_t> selected_genes(const io::H5adCells& file, const std::string& var_genes) {
  const io::MetaTable& var = file.var();
  std::vector<std::int64_t> rows;
  if (var_genes.empty()) {
    for (std::size_t g = 0; g < var.size(); ++g) rows.push_back(std::int64_t(g));
  } else if (const io::MetaColumn* column = var.find(var_genes)) {
    for (std::size_t g = 0; g < var.size(); ++g) {
      const bool kept = column->type == io::MetaType::kString
                            ? column->text[g] == "True" || column->text[g] == "true" || column->text[g] == "1"
                            : !column->is_missing(g) && column->numbers[g] != 0;
      if (kept) rows.push_back(std::int64_t(g));
    }
    TESSERA_CHECK(!rows.empty(), "h5ad file '", file.path().string(), "', /var/", var_genes,
                  ": no gene is marked (true or nonzero), so --var-genes ", var_genes,
                  " keeps none; mark genes first (e.g. scanpy.pp.highly_variable_genes) or name other genes");
  } else {
    std::unordered_map<std::string, std::int64_t> row_of;
    for (std::size_t g = 0; g < var.size(); ++g) row_of.emplace(var.ids[g], std::int64_t(g));
    for (const auto& id : split_list({var_genes})) {
      const auto at = row_of.find(id);
      TESSERA_CHECK(at != row_of.end(), "--var-genes: '", id, "' is neither a column of /var (", var.field_list(),
                    ") nor a var id of h5ad file '", file.path().string(),
                    "'; give a boolean var column such as highly_variable, or a comma list of var ids");
      TESSERA_CHECK(std::find(rows.begin(), rows.end(), at->second) == rows.end(), "--var-genes: '", id,
                    "' is listed twice; list each gene once");
      rows.push_back(at->second);
    }
  }
  return rows;
}

// var's gene symbol column under one of the names scverse files use, if any.
const io::MetaColumn* symbol_column(const io::MetaTable& var) {
  for (const char* name : {"gene_symbols", "gene_symbol", "gene_name", "feature_name"})
    if (const io::MetaColumn* column = var.find(name); column != nullptr && column->type == io::MetaType::kString)
      return column;
  return nullptr;
}

struct Groups {
  std::vector<std::int64_t> of_cell;  // per cell: its group, or -1
  std::vector<std::string> context, perturbation, dose, time;
  std::vector<bool> control;
  bool by_dose = false, by_time = false;  // obs has the dose / time column: groups are split by its values
  std::int64_t cells_left_out = 0;
};

Groups group_cells(const io::H5adCells& file, const io::AggregationOptions& aggregation,
                   const SingleCellOptions& options) {
  const io::MetaColumn& context = require_obs(file, aggregation.cell_field, "context (cell type)", "--obs-context");
  const io::MetaColumn& perturbation = require_obs(file, aggregation.pert_field, "perturbation", "--obs-perturbation");
  const io::MetaColumn* dose = file.obs().find(aggregation.dose_field);
  const io::MetaColumn* time = file.obs().find(aggregation.time_field);
  TESSERA_CHECK(aggregation.dose.empty() || dose != nullptr, "--dose ", aggregation.dose, ": h5ad file '",
                file.path().string(), "' has no obs column '", aggregation.dose_field,
                "' (its columns: ", file.obs().field_list(), "); leave --dose out or use --preset scperturb / cpa");
  TESSERA_CHECK(aggregation.time.empty() || time != nullptr, "--time ", aggregation.time, ": h5ad file '",
                file.path().string(), "' has no obs column '", aggregation.time_field,
                "' (its columns: ", file.obs().field_list(), "); leave --time out or use --preset scperturb");
  Groups groups;
  groups.by_dose = dose != nullptr, groups.by_time = time != nullptr;
  std::unordered_map<std::string, std::int64_t> index;
  for (std::size_t c = 0; c < file.obs().size(); ++c) {
    if (context.is_missing(c) || perturbation.is_missing(c)) {
      groups.of_cell.push_back(-1);
      ++groups.cells_left_out;
      continue;
    }
    const std::string name = perturbation.as_string(c);
    for (const auto& part : io::combination_parts(name))
      TESSERA_CHECK(!part.empty(), "h5ad file '", file.path().string(), "', /obs/", aggregation.pert_field, ": cell '",
                    file.obs().ids[c], "' has perturbation '", name,
                    "' with an empty part; combinations are written A+B (GEARS: A+ctrl for a single A)");
    std::string canonical = io::canonical_perturbation(name, options.control_values);
    const bool control = canonical.empty();
    if (control) canonical = kControlType;
    // The key joins the values with the ASCII unit separator, which names do not hold (':' may be in a name).
    std::string key = context.as_string(c) + '\x1f' + canonical;
    if (dose) key += '\x1f' + dose->as_string(c);
    if (time) key += '\x1f' + time->as_string(c);
    const auto [at, added] = index.emplace(std::move(key), std::int64_t(groups.context.size()));
    if (added) {
      groups.context.push_back(context.as_string(c));
      groups.perturbation.push_back(std::move(canonical));
      groups.dose.push_back(dose ? dose->as_string(c) : "");
      groups.time.push_back(time ? time->as_string(c) : "");
      groups.control.push_back(control);
    }
    groups.of_cell.push_back(at->second);
  }
  TESSERA_CHECK(!groups.context.empty(), "h5ad file '", file.path().string(), "': every one of its ", file.obs().size(),
                " cells lacks its ", aggregation.cell_field, " or ", aggregation.pert_field,
                " value, so no group is left; check the obs columns (--obs-context, --obs-perturbation)");
  return groups;
}

}  // namespace

const engine::NameTable<SingleCellPreset>& name_table(SingleCellPreset) {
  static const engine::NameTable<SingleCellPreset> table{{SingleCellPreset::kNone, "none"},
                                                         {SingleCellPreset::kScperturb, "scperturb"},
                                                         {SingleCellPreset::kGears, "gears"},
                                                         {SingleCellPreset::kCpa, "cpa"}};
  return table;
}

void apply_preset(SingleCellPreset preset, io::AggregationOptions& aggregation, SingleCellOptions& options) {
  switch (preset) {
    case SingleCellPreset::kNone:
      return;
    case SingleCellPreset::kScperturb:
      aggregation.cell_field = "celltype", aggregation.pert_field = "perturbation";
      aggregation.dose_field = "dose_value", aggregation.time_field = "time";
      options.control_values = {"control"};
      return;
    case SingleCellPreset::kGears:
      aggregation.cell_field = "cell_type", aggregation.pert_field = "condition";
      options.control_values = {"ctrl"};
      return;
    case SingleCellPreset::kCpa:
      aggregation.cell_field = "cell_type", aggregation.pert_field = "condition", aggregation.dose_field = "dose_val";
      options.control_values = {"control", "ctrl"};
      return;
  }
}

SingleCellGroups read_single_cell_groups(const engine::Context& ctx, const std::filesystem::path& path,
                                         const io::AggregationOptions& aggregation, const SingleCellOptions& options) {
  const io::H5adCells file(path, ctx);
  // obs and var are on every rank, so every rank finds the same groups, genes and errors without communicating.
  const Groups groups = group_cells(file, aggregation, options);
  const std::vector<std::int64_t> genes = selected_genes(file, options.var_genes);
  const auto num_groups = std::int64_t(groups.context.size());
  const io::Pseudobulk bulk = io::pseudobulk(ctx, file, groups.of_cell, num_groups, genes,
                                             {.normalize_total = options.normalize_total, .log1p = options.log1p});

  SingleCellGroups result;
  result.aggregation = aggregation;
  result.aggregation.type_field = "pert_type";
  result.aggregation.control_types = {kControlType};
  io::LocalGctx<float>& out = result.groups;
  for (const auto g : genes) out.rows.ids.push_back(file.var().ids[std::size_t(g)]);
  if (const io::MetaColumn* symbols = symbol_column(file.var())) {
    std::vector<std::string> text;
    for (const auto g : genes) text.push_back(symbols->text[std::size_t(g)]);
    out.rows.set_text("pr_gene_symbol", std::move(text));
  }
  std::vector<std::string> types;
  std::vector<double> cells;
  for (std::int64_t g = 0; g < num_groups; ++g) {
    const auto i = std::size_t(g);
    std::string id = groups.context[i] + ':' + groups.perturbation[i];
    if (groups.by_dose) id += ':' + groups.dose[i];
    if (groups.by_time) id += ':' + groups.time[i];
    out.cols.ids.push_back(std::move(id));
    types.push_back(groups.control[i] ? kControlType : kTreatmentType);
    cells.push_back(double(bulk.cells[i]));
  }
  out.cols.set_text(aggregation.cell_field, groups.context);
  out.cols.set_text(aggregation.pert_field, groups.perturbation);
  if (groups.by_dose) out.cols.set_text(aggregation.dose_field, groups.dose);
  if (groups.by_time) out.cols.set_text(aggregation.time_field, groups.time);
  out.cols.set_text(result.aggregation.type_field, std::move(types));
  out.cols.fields.push_back(io::MetaColumn{"n_cells", io::MetaType::kInt64, {}, std::move(cells)});
  out.signatures = engine::block_range(num_groups, ctx.size(), ctx.rank());
  out.values = bulk.means.middleCols(out.signatures.begin, out.signatures.size()).cast<float>();

  const auto controls = std::count(groups.control.begin(), groups.control.end(), true);
  engine::info("pseudobulk ", path.string(), ": ", file.num_cells() - groups.cells_left_out, " of ", file.num_cells(),
               " cells in ", num_groups, " groups (", controls, " of them controls), ", genes.size(), " of ",
               file.num_genes(), " genes",
               options.normalize_total > 0 ? ", each cell normalised to " + std::to_string(options.normalize_total)
                                           : std::string(),
               options.log1p ? ", log1p" : "");
  return result;
}

}  // namespace tessera::jobs
