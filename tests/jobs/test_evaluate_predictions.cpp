// `tessera evaluate` on other tools' predictions (GEARS, CPA): one predicted profile per condition, named
// "A+ctrl" or "B+A", without a context when the screen has one, as expression (--predictions-are expression) or
// as changes. A hand-built truth and predictions whose differences are known give the metrics: they must equal
// compute_metrics of the hand-made change matrices (solvers/imputation/metrics.h, itself tested by hand), on 1
// and 2 ranks alike. The AnnData case writes its files with Debian's /usr/bin/python3 and anndata
// (tests/jobs/h5ad_from_table.py) and skips without them.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "io/csv.h"
#include "io/gctx.h"
#include "solvers/imputation/metrics.h"
#include "tests/support/python_fixture.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::mpirun;
using tessera::testing::quote;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

fs::path scratch(const std::string& name) { return tessera::testing::scratch_dir("tessera_evaluate", name); }

// The truth: genes g1..g4 of context K562. Two control profiles whose mean is kControl, and A, B and A+B, each the
// control mean plus its change.
const std::vector<std::string> kTruthGenes = {"g1", "g2", "g3", "g4"};
Eigen::Vector4d control_mean() { return {11, 21, 29, 39}; }
Eigen::Vector4d control_profile(int which) {  // mean of the two: control_mean()
  return which == 0 ? Eigen::Vector4d(10, 20, 30, 40) : Eigen::Vector4d(12, 22, 28, 38);
}
const std::map<std::string, Eigen::Vector4d>& truth_changes() {
  static const std::map<std::string, Eigen::Vector4d> changes = {
      {"A", {1, -2, 0.5, 3}}, {"B", {-1, 0, 2, 1}}, {"A+B", {0, -3, 4, 2}}};
  return changes;
}

// The predictions' genes: g4, g2, g1 (matched to the truth's by id; g3 not predicted) and gX, which the truth
// lacks. The prediction of each perturbation is its true change plus an error on those three genes:
const std::vector<std::string> kPredictedGenes = {"g4", "g2", "g1", "gX"};
const std::vector<int> kTruthRowOf = {3, 1, 0};  // truth row of predicted rows 0-2
const std::map<std::string, Eigen::Vector3d>& prediction_errors() {
  static const std::map<std::string, Eigen::Vector3d> errors = {
      {"A", {0, 0, 0.5}}, {"B", {0.25, 0, 0}}, {"A+B", {0, -1, 0}}};
  return errors;
}
// Sum of the squared errors (0.25 + 0.0625 + 1) over 3 perturbations x 3 matched genes.
constexpr double kExpectedMse = 1.3125 / 9;

// The conditions as GEARS names them (a single perturbation padded with ctrl, either side; a combination in any
// order), the perturbation each is, and a control and an unknown perturbation that must not be scored.
struct Condition {
  std::string name, perturbation;
};
const std::vector<Condition>& conditions() {
  static const std::vector<Condition> all = {
      {"A+ctrl", "A"}, {"ctrl", ""}, {"ctrl+B", "B"}, {"C+ctrl", "C"}, {"B+A", "A+B"}};
  return all;
}

// The predicted profile (kPredictedGenes) of a condition, as a change or as expression (plus the control mean).
Eigen::Vector4d predicted_profile(const std::string& perturbation, bool expression) {
  Eigen::Vector4d profile;
  for (int r = 0; r < 3; ++r) {
    const int g = kTruthRowOf[std::size_t(r)];
    const auto change = truth_changes().find(perturbation);
    profile(r) = (change != truth_changes().end() ? change->second(g) + prediction_errors().at(perturbation)(r) : 7.0) +
                 (expression ? control_mean()(g) : 0.0);
  }
  profile(3) = 100;  // gX: not in the truth, never scored
  return profile;
}

// The metrics evaluate must report: compute_metrics of the true and predicted changes on the matched genes.
tessera::solvers::imputation::Metrics expected_metrics() {
  Eigen::MatrixXd truth(3, 3), predicted(3, 3);
  int column = 0;
  for (const auto& [perturbation, change] : truth_changes()) {
    for (int r = 0; r < 3; ++r) truth(r, column) = change(kTruthRowOf[std::size_t(r)]);
    predicted.col(column) = predicted_profile(perturbation, false).head(3);
    ++column;
  }
  return tessera::solvers::imputation::compute_metrics(truth, predicted);
}

// Truth GCTX: fields condition, cell_id and pert_type (ctl_vehicle marks the controls), for each of `contexts`.
void write_truth_gctx(const fs::path& path, bool with_controls, const std::vector<std::string>& contexts = {"K562"}) {
  std::vector<Eigen::Vector4d> profiles;
  std::vector<std::string> condition, cell, type;
  for (const auto& context : contexts) {
    if (with_controls)
      for (int which : {0, 1}) {
        profiles.push_back(control_profile(which));
        condition.push_back("ctrl"), cell.push_back(context), type.push_back("ctl_vehicle");
      }
    for (const auto& [perturbation, change] : truth_changes()) {
      profiles.push_back(control_mean() + change);
      condition.push_back(perturbation), cell.push_back(context), type.push_back("trt_sh");
    }
  }
  tessera::io::GeneMatrix m;
  m.values.resize(4, Eigen::Index(profiles.size()));
  for (std::size_t j = 0; j < profiles.size(); ++j) {
    m.values.col(Eigen::Index(j)) = profiles[j].cast<float>();
    m.cols.ids.push_back(std::string("sig").append(std::to_string(j)));
  }
  m.rows.ids = kTruthGenes;
  m.cols.set_text("condition", condition);
  m.cols.set_text("cell_id", cell);
  m.cols.set_text("pert_type", type);
  tessera::io::write_gctx(path, m);
}

// Predictions GCTX: a `field` naming the condition and no context, one column per condition name given.
void write_predictions_gctx(const fs::path& path, const std::vector<Condition>& which, bool expression,
                            const std::string& field = "condition") {
  tessera::io::GeneMatrix m;
  m.values.resize(4, Eigen::Index(which.size()));
  std::vector<std::string> names;
  for (std::size_t j = 0; j < which.size(); ++j) {
    m.values.col(Eigen::Index(j)) = predicted_profile(which[j].perturbation, expression).cast<float>();
    m.cols.ids.push_back(std::string("p").append(std::to_string(j)));
    names.push_back(which[j].name);
  }
  m.rows.ids = kPredictedGenes;
  m.cols.set_text(field, names);
  tessera::io::write_gctx(path, m);
}

// The "all" row of evaluate's CSV against expected_metrics(), by column name.
void expect_expected_metrics(const fs::path& csv_path, const std::string& what) {
  const auto csv = tessera::io::read_csv(csv_path);
  ASSERT_GE(csv.rows.size(), 1u) << what;
  const auto& row = csv.rows[0];
  const auto value = [&](const std::string& name) { return std::stod(row[csv.column(name, csv_path.string())]); };
  EXPECT_EQ(row[csv.column("scope", "")], "all") << what;
  const auto m = expected_metrics();
  EXPECT_NEAR(value("pearson_r"), m.pearson, 1e-6) << what;
  EXPECT_NEAR(value("mean_r2"), m.mean_r2, 1e-6) << what;
  EXPECT_NEAR(value("mean_cosine"), m.mean_cosine, 1e-6) << what;
  EXPECT_NEAR(value("mse"), kExpectedMse, 1e-6) << what;
  EXPECT_NEAR(m.mse, kExpectedMse, 1e-12);
  EXPECT_NEAR(value("mean_pearson_de20"), m.mean_pearson_de, 1e-6) << what;
  EXPECT_EQ(value("signatures"), 3) << what;  // A, B, A+B: not the control, not C
  EXPECT_EQ(value("values"), 9) << what;      // 3 matched genes each
}

std::string evaluate(int ranks, const fs::path& predictions, const fs::path& truth, const std::string& options) {
  return mpirun(ranks) + " " + kTessera + " evaluate --predictions " + quote(predictions.string()) + " --truth " +
         quote(truth.string()) + " " + options;
}

TEST(EvaluatePredictions, GearsStyleExpressionAndChangesScoreAsComputedByHand) {
  const auto dir = scratch("gctx");
  write_truth_gctx(dir / "truth.gctx", true);
  write_predictions_gctx(dir / "expression.gctx", conditions(), true);
  write_predictions_gctx(dir / "change.gctx", conditions(), false);
  std::string first_csv;
  for (int ranks : {1, 2}) {
    const std::string suffix = "_np" + std::to_string(ranks);
    // The pert field names the truth's and the predictions' condition column; the predictions name no context.
    auto result = run_command(evaluate(ranks, dir / "expression.gctx", dir / "truth.gctx",
                                       "--pert-field condition --predictions-are expression "
                                       "--out " +
                                           quote((dir / ("expression" + suffix + ".csv")).string())));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_expected_metrics(dir / ("expression" + suffix + ".csv"), "expression, " + suffix);
    // The printed table has the new columns, after mean_cosine.
    EXPECT_NE(result.output.find("mean_cosine        mse pearson_de20  signatures"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("     0.1458 "), std::string::npos) << "mse, 4 significant digits\n" << result.output;
    // "ctrl" is the control, not a perturbation; C is not in the truth.
    EXPECT_NE(result.output.find("scoring 3 predicted pairs; left out: 1 control conditions, 1 pairs not in the "
                                 "reference"),
              std::string::npos)
        << result.output;
    result =
        run_command(evaluate(ranks, dir / "change.gctx", dir / "truth.gctx",
                             "--pert-field condition --out " + quote((dir / ("change" + suffix + ".csv")).string())));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_expected_metrics(dir / ("change" + suffix + ".csv"), "change, " + suffix);

    // Every rank reads the whole (small) predictions file: the CSV is the same, to the byte, on 1 and 2 ranks.
    std::ifstream in(dir / ("expression" + suffix + ".csv"));
    const std::string csv((std::istreambuf_iterator<char>(in)), {});
    if (ranks == 1) first_csv = csv;
    EXPECT_EQ(csv, first_csv) << ranks << " ranks";
  }
}

TEST(EvaluatePredictions, BadPredictionsEndWithAClearError) {
  const auto dir = scratch("errors");
  write_truth_gctx(dir / "truth.gctx", true);
  write_truth_gctx(dir / "no_controls.gctx", false);
  write_truth_gctx(dir / "two_contexts.gctx", true, {"HEPG2", "K562"});
  write_predictions_gctx(dir / "expression.gctx", conditions(), true);
  // "B+A" and "A+B" are one perturbation.
  write_predictions_gctx(dir / "twice.gctx", {{"A+B", "A+B"}, {"B+A", "A+B"}}, false);
  write_predictions_gctx(dir / "renamed.gctx", conditions(), false, "perturbation");
  const std::string fields = " --pert-field condition";
  struct Case {
    fs::path predictions, truth;
    std::string options, message;
  };
  const std::vector<Case> cases = {
      {dir / "expression.gctx", dir / "no_controls.gctx", fields + " --predictions-are expression",
       (dir / "expression.gctx").string() +
           ": --predictions-are expression subtracts the control mean of cell type K562, but the truth " +
           (dir / "no_controls.gctx").string() +
           " has no control cells or control signatures there; give predictions of changes (--predictions-are "
           "change) or a truth with that cell type's controls"},
      {dir / "expression.gctx", dir / "truth.gctx", fields + " --predictions-are expression --center none",
       "--predictions-are expression compares changes from the control, but --center none keeps the truth as "
       "expression"},
      {dir / "expression.gctx", dir / "truth.gctx", fields + " --predictions-are counts",
       "--predictions-are 'counts' is not one of change | expression"},
      {dir / "expression.gctx", dir / "two_contexts.gctx", fields,
       (dir / "expression.gctx").string() +
           ": no column field (obs column) names the cell type: looked for 'cell_id' (--cell-field, --obs-context); "
           "its fields are condition; the reference " +
           (dir / "two_contexts.gctx").string() +
           " has 2 cell types, so each prediction must say which: name the field with --cell-field"},
      {dir / "twice.gctx", dir / "truth.gctx", fields,
       (dir / "twice.gctx").string() +
           ": pair (K562, A+B) appears in more than one column (names made canonical: 'B+A' is 'A+B'); keep one "
           "prediction per pair"},
      {dir / "renamed.gctx", dir / "truth.gctx", fields,
       (dir / "renamed.gctx").string() +
           ": no column field (obs column) names the perturbation: looked for 'condition' and 'pert_id' "
           "(--pert-field, --obs-perturbation); its fields are perturbation; name the right one with --pert-field"},
  };
  for (const auto& c : cases) {
    const auto result = run_command(evaluate(1, c.predictions, c.truth, c.options));
    EXPECT_EQ(result.exit_code, 1) << c.options << "\n" << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << "expected: " << c.message << "\n" << result.output;
  }
}

// Tab-separated table for h5ad_from_table.py: obs index, obs columns, then the genes.
void write_table(const fs::path& path, const std::vector<std::string>& obs_names,
                 const std::map<std::string, std::vector<std::string>>& obs, const std::vector<std::string>& genes,
                 const std::vector<Eigen::Vector4d>& rows) {
  std::ofstream out(path);
  out << "index";
  for (const auto& [name, values] : obs) out << "\tobs:" << name;
  for (const auto& gene : genes) out << "\t" << gene;
  out << "\n";
  for (std::size_t i = 0; i < obs_names.size(); ++i) {
    out << obs_names[i];
    for (const auto& [name, values] : obs) out << "\t" << values[i];
    for (int g = 0; g < 4; ++g) out << "\t" << rows[i](g);
    out << "\n";
  }
}

TEST(EvaluatePredictions, GearsAnnDataPredictionsAgainstASingleCellScreen) {
  const auto dir = scratch("h5ad");
  // The screen's cells (K562): the two control profiles, two A cells around A's profile (their mean is it), and
  // one cell each of B (named "ctrl+B") and A+B (named "B+A"); GEARS's obs columns condition and cell_type.
  std::vector<Eigen::Vector4d> cells = {control_profile(0), control_profile(1)};
  const Eigen::Vector4d spread(0.5, -0.5, 1, 0);
  cells.push_back(control_mean() + truth_changes().at("A") + spread);
  cells.push_back(control_mean() + truth_changes().at("A") - spread);
  cells.push_back(control_mean() + truth_changes().at("B"));
  cells.push_back(control_mean() + truth_changes().at("A+B"));
  write_table(dir / "truth.tsv", {"c0", "c1", "c2", "c3", "c4", "c5"},
              {{"condition", {"ctrl", "ctrl", "A+ctrl", "ctrl+A", "ctrl+B", "B+A"}},
               {"cell_type", std::vector<std::string>(6, "K562")}},
              kTruthGenes, cells);
  std::vector<std::string> names, obs_names;
  std::vector<Eigen::Vector4d> predicted;
  for (const auto& c : conditions()) {
    obs_names.push_back(std::string("p").append(std::to_string(names.size())));
    names.push_back(c.name);
    predicted.push_back(predicted_profile(c.perturbation, true));
  }
  write_table(dir / "predictions.tsv", obs_names, {{"condition", names}}, kPredictedGenes, predicted);
  for (const char* name : {"truth", "predictions"}) {
    TESSERA_PYTHON_FIXTURE_OR_SKIP(TESSERA_H5AD_FROM_TABLE, quote((dir / (std::string(name) + ".tsv")).string()) + " " +
                                                                quote((dir / (std::string(name) + ".h5ad")).string()));
  }
  for (int ranks : {1, 2}) {
    const auto csv = dir / ("eval_np" + std::to_string(ranks) + ".csv");
    const auto result =
        run_command(evaluate(ranks, dir / "predictions.h5ad", dir / "truth.h5ad",
                             "--preset gears --predictions-are expression --out " + quote(csv.string())));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_expected_metrics(csv, "AnnData, " + std::to_string(ranks) + " ranks");
  }
}

}  // namespace
