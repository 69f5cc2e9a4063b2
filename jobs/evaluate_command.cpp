// `tessera evaluate`: score predicted signatures (Tessera's own, or another tool's) against measured
// signatures or the simulator's true ones, with the same metrics as `impute`.
//
// Other tools' predictions: GEARS and CPA write one predicted mean expression profile per condition, which an
// AnnData file holds as obs = conditions (a column naming the perturbation, "A+ctrl" or "A+B", and maybe the
// context), var = genes. Their perturbation names are made canonical (io/combinations.h) as the truth's are, the
// context falls back to the truth's only one when the file names none, and --predictions-are expression turns
// predicted expression into the change from the context's control mean that Tessera's tables hold.
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "engine/log.h"
#include "engine/signals.h"
#include "io/combinations.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "jobs/metrics_table.h"
#include "jobs/signature_file.h"
#include "jobs/table_input.h"
#include "solvers/imputation/protocol.h"

namespace tessera::jobs {

namespace {

// What the predicted values are: changes from the context's control (Tessera's tables, signatures) or expression
// (GEARS, CPA), from which the truth's control mean is subtracted first.
enum class PredictionScale { kChange, kExpression };
const engine::NameTable<PredictionScale>& name_table(PredictionScale) {
  static const engine::NameTable<PredictionScale> table{{PredictionScale::kChange, "change"},
                                                        {PredictionScale::kExpression, "expression"}};
  return table;
}

po::options_description evaluate_options() {
  po::options_description options("evaluate options");
  options.add_options()(
      "predictions,p", po::value<std::string>()->required(),
      "GCTX/GCT/.h5ad of predicted signatures (GEARS, CPA: obs = conditions), placed by the column fields "
      "--pert-field and --cell-field name (else pert_id, cell_id; no cell field: the truth's only "
      "cell type)")(
      "predictions-are", enum_value("predictions-are", PredictionScale::kChange),
      "change (from the control, as Tessera writes) | expression (GEARS, CPA): the truth's control mean of the "
      "cell type is subtracted first")("truth,t", po::value<std::string>(),
                                       "GCTX/GCT/.h5ad of measured signatures (aggregated as in impute)")(
      "ground-truth", po::value<std::string>(), "HDF5 ground truth written by `tessera simulate`")(
      "fold-file", po::value<std::string>(), "with --truth: score only the pairs held out (fold >= 0) in this file")(
      "only-imputed", po::bool_switch(), "score only columns whose 'imputed' field is 1 (completed tables)")(
      "name", po::value<std::string>()->default_value(""),
      "label of the predictions in the table (default: file name)")(
      "out,o", po::value<std::string>()->default_value(""), "write the metrics table to this CSV file");
  add_aggregation_options(options);
  return options;
}

// Reference signatures by (cell, perturbation), the gene ids of their rows, every cell type, and the control mean
// of each cell type that has controls (measured truth only).
struct Reference {
  std::vector<std::string> genes;
  std::map<std::pair<std::string, std::string>, Eigen::VectorXd> signatures;
  std::vector<std::string> cells;
  std::map<std::string, Eigen::VectorXd> controls;
};

Reference reference_from_table(const io::PerturbationTable& table, const std::vector<std::uint8_t>& keep) {
  Reference ref{table.genes, {}, table.cells, {}};
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!keep[std::size_t(e)]) continue;
    ref.signatures[{table.cells[std::size_t(table.cell_of(e))], table.perts[std::size_t(table.pert_of(e))]}] =
        table.signature(e);
  }
  for (std::size_t c = 0; c < table.cells.size(); ++c)
    if (table.control_counts[c] > 0) ref.controls[table.cells[c]] = table.controls.col(Eigen::Index(c));
  return ref;
}

Reference reference_from_truth(const solvers::simulation::GroundTruth& truth) {
  Reference ref{truth.genes, {}, truth.cells, {}};
  for (std::size_t c = 0; c < truth.cells.size(); ++c)
    for (std::size_t d = 0; d < truth.drugs.size(); ++d)
      ref.signatures[{truth.cells[c], truth.drugs[d]}] = truth.signatures.col(Eigen::Index(c * truth.drugs.size() + d));
  return ref;
}

// The column field of the predictions named `wanted` (the aggregation option) or, when the file has none, the
// `fallback` Tessera writes (cell_id, pert_id); nullptr when it has neither.
const io::MetaColumn* prediction_field(const io::MetaTable& cols, const std::string& wanted,
                                       const std::string& fallback) {
  const io::MetaColumn* field = cols.find(wanted);
  return field != nullptr ? field : cols.find(fallback);
}

// What prediction_field looked for, for error messages: "'a'" or "'a' and 'b'".
std::string looked_for(const std::string& wanted, const std::string& fallback) {
  return "'" + wanted + "'" + (wanted == fallback ? "" : " and '" + fallback + "'");
}

}  // namespace

int run_evaluate(const engine::Context& world, const std::vector<std::string>& args) {
  const auto parsed = parse_options(world, spec_of("evaluate"), evaluate_options(), args);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  TESSERA_CHECK(
      given(vm, "truth") != given(vm, "ground-truth"),
      "tessera evaluate: give exactly one of --truth (measured signatures) and --ground-truth (simulator HDF5)");
  forbid_together(vm, "ground-truth", "fold-file", "a fold file selects measured pairs; the ground truth has them all");
  const std::string predictions_path = vm["predictions"].as<std::string>();
  const auto scale = name_table(PredictionScale{}).parse(vm["predictions-are"].as<std::string>(), "--predictions-are");
  const TableOptions options = aggregation_options(vm);
  TESSERA_CHECK(scale == PredictionScale::kChange || given(vm, "truth"),
                "tessera evaluate: --predictions-are expression subtracts the measured control mean of each cell type; "
                "the simulator's ground truth has none: give the measured screen with --truth, or predictions of "
                "changes");
  TESSERA_CHECK(scale == PredictionScale::kChange || options.center != io::ControlCentering::kNone,
                "tessera evaluate: --predictions-are expression compares changes from the control, but --center none "
                "keeps the truth as expression: leave --center at auto (or required), or give --predictions-are "
                "change to compare expression with expression");

  Reference ref;
  if (given(vm, "truth")) {
    const auto input = load_table(world, vm["truth"].as<std::string>(), options, 1);
    std::vector<std::uint8_t> keep = input.table.observed;
    if (given(vm, "fold-file")) {
      const auto plan = solvers::imputation::read_fold_file(vm["fold-file"].as<std::string>(), input.table);
      for (std::size_t e = 0; e < keep.size(); ++e) keep[e] = plan.fold[e] >= 0;
    }
    ref = reference_from_table(input.table, keep);
  } else {
    ref = reference_from_truth(solvers::simulation::read_ground_truth(vm["ground-truth"].as<std::string>()));
  }
  // Safe points (engine/signals.h) after each read, the long parts: a stop signal ends the run there with exit 75.
  engine::stop_point(world,
                     "evaluate stopped after reading the reference; nothing written; run the same command "
                     "again");

  const auto predicted = read_whole_signature_file(world, predictions_path);
  engine::stop_point(world, "evaluate stopped after reading ", predictions_path,
                     "; nothing written; run the same "
                     "command again");
  const std::string reference =
      given(vm, "truth") ? vm["truth"].as<std::string>() : vm["ground-truth"].as<std::string>();
  const auto* perts = prediction_field(predicted.cols, options.pert_field, "pert_id");
  TESSERA_CHECK(perts != nullptr, predictions_path,
                ": no column field (obs column) names the perturbation: looked for ",
                looked_for(options.pert_field, "pert_id"), " (--pert-field, --obs-perturbation); its fields are ",
                predicted.cols.field_list(), "; name the right one with --pert-field");
  const auto* cells = prediction_field(predicted.cols, options.cell_field, "cell_id");
  // Predictions of a one-context screen (GEARS on one cell line) need not name it.
  TESSERA_CHECK(cells != nullptr || ref.cells.size() == 1, predictions_path,
                ": no column field (obs column) names the cell type: looked for ",
                looked_for(options.cell_field, "cell_id"), " (--cell-field, --obs-context); its fields are ",
                predicted.cols.field_list(), "; the reference ", reference, " has ", ref.cells.size(),
                " cell types, so each prediction must say which: name the field with --cell-field");
  const auto* imputed_field = predicted.cols.find("imputed");
  TESSERA_CHECK(!vm["only-imputed"].as<bool>() || imputed_field, predictions_path,
                ": --only-imputed needs an 'imputed' column field (as in Tessera's completed_* tables)");
  const std::vector<double> imputed =
      imputed_field ? imputed_field->as_numbers(predictions_path) : std::vector<double>{};

  // Genes: predictions' rows matched to the reference's by id.
  std::unordered_map<std::string, Eigen::Index> gene_row;
  for (std::size_t g = 0; g < ref.genes.size(); ++g) gene_row[ref.genes[g]] = Eigen::Index(g);
  std::vector<Eigen::Index> predicted_rows, reference_rows;
  for (std::size_t g = 0; g < predicted.rows.ids.size(); ++g) {
    const auto it = gene_row.find(predicted.rows.ids[g]);
    if (it != gene_row.end()) predicted_rows.push_back(Eigen::Index(g)), reference_rows.push_back(it->second);
  }
  TESSERA_CHECK(!predicted_rows.empty(), predictions_path, ": none of its ", predicted.rows.ids.size(),
                " gene ids (row ids) is among the reference's genes; both files must use the same gene ids");
  engine::info("matched ", predicted_rows.size(), " of ", predicted.rows.ids.size(),
               " predicted genes to the reference");

  // Pairs present in both, grouped by cell type. Perturbation names are made canonical as the truth's are
  // ("B+A" and "A+ctrl" as "A+B" and "A"), and predictions for the controls themselves are not scored.
  std::map<std::string, std::vector<std::pair<Eigen::Index, const Eigen::VectorXd*>>> by_cell;
  std::set<std::pair<std::string, std::string>> seen;
  std::int64_t considered = 0, controls = 0, matched = 0;
  for (Eigen::Index j = 0; j < predicted.num_signatures(); ++j) {
    if (vm["only-imputed"].as<bool>() && imputed[std::size_t(j)] != 1) continue;
    const std::string pert_name = perts->as_string(std::size_t(j));
    const std::string pert = io::canonical_perturbation(pert_name, options.single_cell.control_values);
    if (pert.empty()) {
      ++controls;
      continue;
    }
    ++considered;
    const std::pair<std::string, std::string> key{cells ? cells->as_string(std::size_t(j)) : ref.cells.front(), pert};
    TESSERA_CHECK(seen.insert(key).second, predictions_path, ": pair (", key.first, ", ", key.second,
                  ") appears in more than one column",
                  pert != pert_name ? " (names made canonical: '" + pert_name + "' is '" + pert + "')" : std::string(),
                  "; keep one prediction per pair");
    const auto it = ref.signatures.find(key);
    if (it != ref.signatures.end()) by_cell[key.first].push_back({j, &it->second}), ++matched;
  }
  TESSERA_CHECK(considered > 0 || !vm["only-imputed"].as<bool>(), predictions_path,
                ": --only-imputed leaves nothing "
                "to score: no column has imputed = 1 (every pair of this table was measured); drop --only-imputed to "
                "score them all");
  engine::info("scoring ", matched, " predicted pairs; left out: ", controls, " control conditions, ",
               considered - matched, " pairs not in the reference");
  TESSERA_CHECK(!by_cell.empty(), predictions_path, ": none of its ", considered, " (cell_id, pert_id) pairs is in ",
                "the reference ", reference,
                given(vm, "fold-file") ? " (only the pairs held out in --fold-file count)" : "",
                ": both must name cell types and perturbations with the same ids (see --cell-field, --pert-field)");
  // Expression predictions become changes from the truth's control mean of their cell type (matched genes).
  if (scale == PredictionScale::kExpression)
    for (const auto& entry : by_cell)
      TESSERA_CHECK(ref.controls.count(entry.first), predictions_path,
                    ": --predictions-are expression subtracts the control mean of cell type ", entry.first,
                    ", but the truth ", reference, " has no control cells or control signatures there; give ",
                    "predictions of changes (--predictions-are change) or a truth with that cell type's controls");

  const std::string name = vm["name"].as<std::string>().empty()
                               ? std::filesystem::path(predictions_path).stem().string()
                               : vm["name"].as<std::string>();
  // Matched columns, grouped by cell type so each cell's block is contiguous.
  std::size_t total = 0;
  for (const auto& [cell, pairs] : by_cell) total += pairs.size();
  const auto genes = Eigen::Index(predicted_rows.size());
  Eigen::MatrixXd all_truth(genes, Eigen::Index(total)), all_pred(genes, Eigen::Index(total));
  std::vector<MetricsRow> rows;
  Eigen::Index next = 0;
  for (const auto& [cell, pairs] : by_cell) {
    const Eigen::Index first = next;
    for (const auto& [column, truth_signature] : pairs) {
      all_truth.col(next) = (*truth_signature)(reference_rows);
      all_pred.col(next) = predicted.values.col(column)(predicted_rows).cast<double>();
      if (scale == PredictionScale::kExpression) all_pred.col(next) -= ref.controls.at(cell)(reference_rows);
      ++next;
    }
    rows.push_back({name, cell,
                    solvers::imputation::compute_metrics(all_truth.middleCols(first, next - first),
                                                         all_pred.middleCols(first, next - first)),
                    NAN, NAN});
  }
  rows.insert(rows.begin(), {name, "all", solvers::imputation::compute_metrics(all_truth, all_pred), NAN, NAN});

  if (world.is_root()) {
    std::printf("%s",
                format_metrics_table(rows, "Predictions " + predictions_path + " against " + reference + ":").c_str());
    std::printf("%s", io::to_csv_text(metrics_csv(rows)).c_str());
    if (!vm["out"].as<std::string>().empty()) io::write_csv(vm["out"].as<std::string>(), metrics_csv(rows));
  }
  return 0;
}

}  // namespace tessera::jobs
