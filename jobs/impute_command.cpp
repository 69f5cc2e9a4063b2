// `tessera impute`: cross-validate imputation methods on a (cell type x perturbation) table, print and write
// the metrics table, and write each method's completed table.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/log.h"
#include "engine/signals.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "jobs/completion_choice.h"
#include "jobs/metrics_table.h"
#include "jobs/run_record.h"
#include "jobs/table_input.h"
#include "jobs/table_output.h"
#include "jobs/tuning_grid.h"
#include "solvers/imputation/cross_validation.h"
#include "solvers/imputation/protocol.h"
#include "solvers/registry.h"

namespace tessera::jobs {

namespace fs = std::filesystem;
using solvers::imputation::FoldPlan;

namespace {

// The names --method accepts: "all", every registered method (solvers/registry.h), then "stack" (which "all"
// leaves out: it runs its base methods again).
std::vector<std::string> method_names() {
  std::vector<std::string> names{"all"};
  for (const auto& name : solvers::imputation_methods()) names.push_back(name);
  names.emplace_back(solvers::kStackMethod);
  return names;
}

std::string method_choices() {
  std::string list;
  for (const auto& name : method_names()) list += (list.empty() ? "" : " | ") + name;
  return list;
}

po::options_description impute_options(solvers::imputation::ProtocolOptions& protocol, solvers::MethodParams& params) {
  po::options_description options("impute options");
  options.add_options()("input,i", po::value<std::string>()->default_value(""),
                        "GCTX or GCT file of signatures; default: the built-in simulated screen")(
      "method,m", name_list("method", method_names()),
      ("methods to run (comma list of " + method_choices() + "); default all").c_str())(
      "reference-cell", po::value<std::vector<std::string>>()->multitoken(),
      "cell types used for training only, never scored (comma list), e.g. MCF7")(
      "fold-file", po::value<std::string>(),
      "CSV cell_id,pert_id,fold (fold number or 'train'): use these folds instead of drawing them")(
      "out,o", po::value<std::string>()->default_value("tessera-impute"), "output folder")(
      "out-format", enum_value("out-format", TableFormat::kAuto),
      "format of the heldout_/completed_ tables: auto (h5ad for an .h5ad input, else gctx) | gctx | h5ad")(
      "per-cell", po::bool_switch(), "also print the metrics of each cell type")(
      "normalize", enum_value("normalize", io::SignatureScaling::kNone),
      "scale the signatures before any method sees them: none | l2 (each to unit norm, as the published NTK code "
      "does); metrics and the written tables are on that scale")(
      "autotune", po::bool_switch(),
      "choose each method's knobs per outer fold by inner cross-validation on its training pairs (default grids; "
      "README, Tuning and stacking; not --tune, which Open MPI's mpirun takes for itself)")(
      "autotune-grid", po::value<std::string>(),
      "INI file of the knob values --autotune tries, one [method] section each");
  add_report_option(options);
  add_knob_options(options, protocol);
  add_aggregation_options(options);
  add_completion_options(options);
  po::options_description method_options("method parameters");
  add_knob_options(method_options, params);
  options.add(method_options);
  return options;
}

std::vector<std::string> chosen_methods(const po::variables_map& vm) {
  std::vector<std::string> names =
      vm.count("method") ? split_list(vm["method"].as<std::vector<std::string>>()) : std::vector<std::string>{"all"};
  TESSERA_CHECK(!names.empty(),
                "--method names no method, so there is nothing to run: give a comma list such as "
                "--method two_way_mean,dnpp, or --method all");
  if (names.size() == 1 && names[0] == "all") return solvers::imputation_methods();
  return names;
}

// "a, b and c" ("none" when empty).
std::string join_names(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string text = names[0];
  for (std::size_t i = 1; i < names.size(); ++i) text += (i + 1 == names.size() ? " and " : ", ") + names[i];
  return text;
}

// The log line of a run stopped by a signal: where it stopped, which outputs in `out` are complete, which are not
// written, and what to do. Every file impute writes is written whole or not at all (io/atomic_file.h).
engine::StopRequested stopped_during(const std::string& where, const std::vector<std::string>& methods,
                                     std::size_t done, const fs::path& out) {
  const std::vector<std::string> finished(methods.begin(), methods.begin() + std::ptrdiff_t(done));
  const std::vector<std::string> left(methods.begin() + std::ptrdiff_t(done), methods.end());
  return engine::StopRequested(
      "impute " + where + "; complete in " + out.string() + ": folds.csv" +
      (finished.empty() ? "" : " and the heldout_/completed_ tables of " + join_names(finished)) +
      "; not written: metrics.csv and the tables of " + join_names(left) + "; run the same command again to redo it");
}

double fold_spread(const std::vector<solvers::imputation::Metrics>& per_fold) {
  if (per_fold.size() < 2) return NAN;
  double sum = 0, sum2 = 0;
  for (const auto& m : per_fold) sum += m.pearson, sum2 += m.pearson * m.pearson;
  const double n = double(per_fold.size()), mean = sum / n;
  return std::sqrt(std::max(0.0, (sum2 - n * mean * mean) / (n - 1)));
}

// Scores the imputed (never-measured) entries of a completed table (column j for entries[j]) against the
// simulator's true signatures.
solvers::imputation::Metrics score_against_truth(const io::PerturbationTable& table,
                                                 const std::vector<std::int64_t>& entries,
                                                 const Eigen::MatrixXd& completed,
                                                 const solvers::simulation::GroundTruth& truth) {
  std::vector<Eigen::Index> columns, truth_columns;
  for (std::size_t j = 0; j < entries.size(); ++j) {
    const std::int64_t e = entries[j];
    if (table.observed[std::size_t(e)]) continue;
    const auto cell = std::find(truth.cells.begin(), truth.cells.end(), table.cells[std::size_t(table.cell_of(e))]);
    const auto drug = std::find(truth.drugs.begin(), truth.drugs.end(), table.perts[std::size_t(table.pert_of(e))]);
    if (cell == truth.cells.end() || drug == truth.drugs.end()) continue;
    columns.push_back(Eigen::Index(j));
    truth_columns.push_back(
        Eigen::Index((cell - truth.cells.begin()) * truth.drugs.size() + (drug - truth.drugs.begin())));
  }
  return solvers::imputation::compute_metrics(truth.signatures(Eigen::all, truth_columns),
                                              completed(Eigen::all, columns));
}

// The cell types that only train under `plan` (the reference cell types): some entry trains, none is held out.
std::vector<std::string> train_only_cells(const io::PerturbationTable& table, const FoldPlan& plan) {
  std::vector<std::string> cells;
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    bool trains = false, held_out = false;
    for (std::int64_t p = 0; p < table.num_perts(); ++p) {
      const int label = plan.fold[std::size_t(table.entry(c, p))];
      trains = trains || label == solvers::imputation::kTrainOnly;
      held_out = held_out || label >= 0;
    }
    if (trains && !held_out) cells.push_back(table.cells[std::size_t(c)]);
  }
  return cells;
}

// inner_cv_<method>.csv: what --autotune or stack decided in each outer fold ("completion": the fit of every
// observed pair that completes the table), with each candidate's inner r and its weight in the predictions.
io::CsvTable inner_choices_csv(const io::PerturbationTable& table, const FoldPlan& plan,
                               const std::vector<solvers::imputation::InnerChoice>& choices) {
  io::CsvTable csv;
  csv.header = {"fold", "cell_id", "candidate", "inner_pearson_r", "weight"};
  for (const auto& choice : choices) {
    const int label = choice.first_query >= 0 && choice.first_query < table.num_entries()
                          ? plan.fold[std::size_t(choice.first_query)]
                          : solvers::imputation::kUnused;
    csv.rows.push_back({label >= 0 ? std::to_string(label) : "completion", choice.cell, choice.label,
                        io::shortest_text(choice.inner_pearson), io::shortest_text(choice.weight)});
  }
  return csv;
}

}  // namespace

int run_impute(const engine::Context& world, const std::vector<std::string>& args) {
  solvers::imputation::ProtocolOptions protocol;
  solvers::MethodParams params;
  const auto parsed = parse_options(world, spec_of("impute"), impute_options(protocol, params), args);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  for (const char* name : {"protocol", "folds", "sparse-train-drugs", "reference-cell", "min-drugs",
                           "train-singles-fraction", "train-seen2-fraction"})
    forbid_together(vm, "fold-file", name, "a fold file fixes the folds, the protocol options draw them");
  check_completion_options(vm);
  if (vm.count("autotune-grid"))
    TESSERA_CHECK(vm["autotune"].as<bool>(), "--autotune-grid gives the values --autotune tries: add --autotune");

  // Check every option before reading any data, so a typo fails in a second, not after the load.
  if (vm.count("reference-cell"))
    protocol.reference_cells = split_list(vm["reference-cell"].as<std::vector<std::string>>());
  protocol.validate();
  params.validate();
  const auto methods = chosen_methods(vm);
  std::optional<solvers::TuningGrids> tuning;
  if (vm["autotune"].as<bool>())
    tuning = vm.count("autotune-grid") ? read_tuning_grid(vm["autotune-grid"].as<std::string>(), params)
                                       : solvers::TuningGrids{};
  for (const auto& name : methods) solvers::make_method(name, params, tuning ? &*tuning : nullptr);
  const fs::path out = vm["out"].as<std::string>();
  const std::string extension =
      table_extension(name_table(TableFormat{}).parse(vm["out-format"].as<std::string>(), "--out-format"),
                      vm["input"].as<std::string>());

  auto input = load_table(world, vm["input"].as<std::string>(), aggregation_options(vm), protocol.seed);
  const auto scaling = name_table(io::SignatureScaling{}).parse(vm["normalize"].as<std::string>(), "--normalize");
  io::scale_signatures(input.table, scaling);
  if (input.truth && scaling == io::SignatureScaling::kL2)  // the truth is scored on the same scale
    for (Eigen::Index j = 0; j < input.truth->signatures.cols(); ++j)
      if (const double norm = input.truth->signatures.col(j).norm(); norm > 0) input.truth->signatures.col(j) /= norm;
  const auto& table = input.table;
  for (const auto& cell : protocol.reference_cells)
    TESSERA_CHECK(table.find_cell(cell) >= 0, "--reference-cell '", cell, "' is not a cell type of ", input.source);
  const FoldPlan plan = vm.count("fold-file")
                            ? solvers::imputation::read_fold_file(vm["fold-file"].as<std::string>(), table)
                            : solvers::imputation::make_folds(table, protocol);
  // Stop signals (engine/signals.h) are honoured here, between methods, between folds and inside the methods'
  // iterations; the run then exits 75 with a log line saying what is complete (stopped_during).
  const std::vector<std::int64_t> to_complete = entries_to_complete(vm, table, plan);
  // Inner cross-validation (--autotune, stack) keeps the outer protocol's train-only cell types train-only and draws
  // with its seed.
  params.inner.train_only_cells = train_only_cells(table, plan);
  params.inner.seed = protocol.seed;
  engine::stop_point(world, "impute stopped after reading ", input.source, "; nothing written");
  if (world.is_root()) solvers::imputation::write_fold_file(out / "folds.csv", table, plan);

  std::vector<MetricsRow> rows, truth_rows;
  for (std::size_t m = 0; m < methods.size(); ++m) {
    const std::string& name = methods[m];
    const auto imputer = solvers::make_method(name, params, tuning ? &*tuning : nullptr);
    const auto start = std::chrono::steady_clock::now();
    solvers::imputation::CvPredictions predictions;
    Eigen::MatrixXd completed;
    try {
      engine::stop_point(world);
      engine::info("method ", name, ": cross-validating over ", plan.num_folds, " fold(s)");
      predictions = solvers::imputation::cross_validate(world, *imputer, table, plan);
      completed = solvers::imputation::complete_table(world, *imputer, table, plan, to_complete);
    } catch (const engine::StopRequested& stop) {
      const std::string inner = stop.what();
      throw stopped_during(inner.empty() ? "stopped before method " + name : "method " + name + ": " + inner, methods,
                           m, out);
    }
    const auto report = solvers::imputation::evaluate(table, predictions);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    rows.push_back({name, "all", report.overall, fold_spread(report.per_fold), seconds});
    for (const auto& [cell, metrics] : report.per_cell) rows.push_back({name, cell, metrics, NAN, NAN});
    if (input.truth)
      truth_rows.push_back(
          {name, "all", score_against_truth(table, to_complete, completed, *input.truth), NAN, seconds});

    if (const auto* explains = dynamic_cast<const solvers::imputation::ExplainsChoices*>(imputer.get());
        explains && world.is_root())
      io::write_csv(out / ("inner_cv_" + name + ".csv"), inner_choices_csv(table, plan, explains->choices()));
    write_entries(world, out / ("heldout_" + name + extension), table, predictions.entries, predictions.predicted,
                  "fold", predictions.folds, input.pert_fields);
    std::vector<int> imputed;
    for (const auto e : to_complete) imputed.push_back(table.observed[std::size_t(e)] ? 0 : 1);
    write_entries(world, out / ("completed_" + name + extension), table, to_complete, completed, "imputed", imputed,
                  input.pert_fields);
  }

  if (world.is_root()) {
    io::write_csv(out / "metrics.csv", metrics_csv(rows));
    const std::string protocol_name =
        vm.count("fold-file") ? "fold file " + vm["fold-file"].as<std::string>()
                              : std::string(name_table(protocol.protocol).name(protocol.protocol)) + " protocol";
    std::printf("\n%s", format_metrics_table(
                            rows, "Held-out signatures of " + input.source + ", " + protocol_name + " (" +
                                      std::to_string(plan.num_folds) + " folds" +
                                      (scaling == io::SignatureScaling::kL2 ? ", unit-norm signatures" : "") + "):")
                            .c_str());
    if (!truth_rows.empty()) {
      io::write_csv(out / "metrics_vs_truth.csv", metrics_csv(truth_rows));
      std::printf(
          "\n%s",
          format_metrics_table(truth_rows, "Never-measured pairs against the simulator's true signatures:").c_str());
    }
    write_options_file(world, spec_of("impute"), vm, out / "options.ini");
    if (vm["per-cell"].as<bool>()) std::printf("\n%s", io::to_csv_text(metrics_csv(rows)).c_str());
    std::printf(
        "\nWrote %s/{metrics.csv, folds.csv, heldout_<method>%s, completed_<method>%s%s}\n", out.c_str(),
        extension.c_str(), extension.c_str(),
        tuning || std::count(methods.begin(), methods.end(), solvers::kStackMethod) ? ", inner_cv_<method>.csv" : "");
    std::fflush(stdout);
  }
  write_report_if_asked(world, vm, out);
  return 0;
}

}  // namespace tessera::jobs
