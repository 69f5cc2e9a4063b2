#include "solvers/imputation/stacking.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "engine/error.h"
#include "engine/log.h"
#include "solvers/imputation/metrics.h"

namespace tessera::solvers::imputation {

Eigen::VectorXd project_to_simplex(const Eigen::VectorXd& v) {
  // Duchi et al. (2008): the projection subtracts one threshold theta and clips at zero; theta is found from the
  // values sorted in decreasing order.
  std::vector<double> sorted(v.data(), v.data() + v.size());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double sum = 0, theta = 0;
  for (std::size_t j = 0; j < sorted.size(); ++j) {
    sum += sorted[j];
    const double candidate = (sum - 1.0) / double(j + 1);
    if (sorted[j] - candidate > 0) theta = candidate;
  }
  return (v.array() - theta).cwiseMax(0.0).matrix();
}

Eigen::VectorXd simplex_least_squares(const Eigen::MatrixXd& gram, const Eigen::VectorXd& cross) {
  const Eigen::Index n = gram.rows();
  TESSERA_CHECK(n > 0 && gram.cols() == n && cross.size() == n, "simplex_least_squares: G is ", gram.rows(), " x ",
                gram.cols(), " and c has ", cross.size(), " entries");
  Eigen::VectorXd w = Eigen::VectorXd::Constant(n, 1.0 / double(n));
  // The gradient 2(Gw - c) is Lipschitz with constant 2 lambda_max(G); the largest eigenvalue of a small symmetric
  // matrix is cheap to take exactly.
  const double lipschitz = 2.0 * Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(gram).eigenvalues().maxCoeff();
  if (!(lipschitz > 0)) return w;  // every base predicts zero: any weights fit equally
  // Stop on the Frank-Wolfe gap w'g - min_i g_i (g the half-gradient Gw - c), which bounds how far the objective
  // is above its minimum; it reaches zero at the minimiser even when G is singular and the weights drift along a
  // flat direction, where a test on how far the weights move would not stop.
  const double scale = std::max(gram.diagonal().maxCoeff(), cross.cwiseAbs().maxCoeff());
  const auto converged = [&](const Eigen::VectorXd& x) {
    const Eigen::VectorXd g = gram * x - cross;
    return x.dot(g) - g.minCoeff() <= 1e-13 * scale;
  };
  const auto objective = [&](const Eigen::VectorXd& x) { return x.dot(gram * x) - 2 * cross.dot(x); };
  Eigen::VectorXd momentum = w;
  double t = 1;
  for (int iteration = 0; iteration < 100000 && !converged(w); ++iteration) {
    const Eigen::VectorXd next = project_to_simplex(momentum - (2.0 / lipschitz) * (gram * momentum - cross));
    // FISTA with a restart whenever the objective would rise (O'Donoghue and Candes), so it never oscillates. A plain
    // projected step from w itself cannot raise it but by rounding: then w is the minimiser to rounding.
    if (objective(next) > objective(w)) {
      if (t == 1) break;
      momentum = w, t = 1;
      continue;
    }
    const double t_next = (1 + std::sqrt(1 + 4 * t * t)) / 2;
    momentum = next + ((t - 1) / t_next) * (next - w);
    w = next, t = t_next;
  }
  return w;
}

StackedImputer::StackedImputer(std::vector<Candidate> bases, InnerCvParams inner, StackParams params)
    : bases_(std::move(bases)), inner_(std::move(inner)), params_(std::move(params)) {
  TESSERA_CHECK(!bases_.empty(), "stack: no base method (--stack-methods)");
  inner_.validate();
  params_.validate();
}

namespace {

// The weights that fit `columns` of the inner predictions (one matrix per base) to the truth.
Eigen::VectorXd fit_weights(const std::vector<CvPredictions>& inner, const Eigen::MatrixXd& truth,
                            const std::vector<Eigen::Index>& columns) {
  const auto b = Eigen::Index(inner.size());
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(b, b);
  Eigen::VectorXd cross = Eigen::VectorXd::Zero(b);
  for (const Eigen::Index j : columns)
    for (Eigen::Index i = 0; i < b; ++i) {
      const auto pi = inner[std::size_t(i)].predicted.col(j);
      cross(i) += pi.dot(truth.col(j));
      for (Eigen::Index k = 0; k <= i; ++k) gram(i, k) += pi.dot(inner[std::size_t(k)].predicted.col(j));
    }
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  return simplex_least_squares(gram, cross);
}

Metrics metrics_of(const CvPredictions& predictions, const Eigen::MatrixXd& truth,
                   const std::vector<Eigen::Index>& columns) {
  return compute_metrics(truth(Eigen::all, columns), predictions.predicted(Eigen::all, columns));
}

}  // namespace

Eigen::MatrixXd StackedImputer::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                       const std::vector<std::uint8_t>& train,
                                       const std::vector<std::int64_t>& queries) const {
  const FoldPlan plan = inner_fold_plan(table, train, inner_);
  const auto inner = inner_predictions(ctx, bases_, table, plan);
  const auto& entries = inner.front().entries;
  Eigen::MatrixXd truth(table.num_genes(), Eigen::Index(entries.size()));
  std::map<std::int64_t, std::vector<Eigen::Index>> columns_of_cell;
  std::vector<Eigen::Index> all_columns;
  for (std::size_t j = 0; j < entries.size(); ++j) {
    truth.col(Eigen::Index(j)) = table.signature(entries[j]);
    columns_of_cell[table.cell_of(entries[j])].push_back(Eigen::Index(j));
    all_columns.push_back(Eigen::Index(j));
  }

  // Weights: one global set, and one per cell type with enough inner pairs.
  const std::int64_t first_query = queries.empty() ? -1 : queries.front();
  std::vector<InnerChoice> made;
  const auto record = [&](const std::string& cell, const std::vector<Eigen::Index>& columns,
                          const Eigen::VectorXd& weights) {
    for (std::size_t b = 0; b < bases_.size(); ++b)
      made.push_back(
          {first_query, cell, bases_[b].label, metrics_of(inner[b], truth, columns).pearson, weights(Eigen::Index(b))});
  };
  const Eigen::VectorXd global = fit_weights(inner, truth, all_columns);
  record("all", all_columns, global);
  std::map<std::int64_t, Eigen::VectorXd> cell_weights;
  for (const auto& [cell, columns] : columns_of_cell)
    if (std::int64_t(columns.size()) >= params_.min_cell_pairs) {
      cell_weights[cell] = fit_weights(inner, truth, columns);
      record(table.cells[std::size_t(cell)], columns, cell_weights[cell]);
    }
  std::string summary;
  for (std::size_t b = 0; b < bases_.size(); ++b) {
    char weight[32];
    std::snprintf(weight, sizeof weight, " %.3f", global(Eigen::Index(b)));
    summary += (b ? ", " : "") + bases_[b].label + weight;
  }
  engine::info("stack: global weights ", summary, "; ", cell_weights.size(), " of ", columns_of_cell.size(),
               " cell types with weights of their own");

  const auto weight_of = [&](std::int64_t query, std::size_t b) {
    const auto own = cell_weights.find(table.cell_of(query));
    return (own != cell_weights.end() ? own->second : global)(Eigen::Index(b));
  };
  Eigen::MatrixXd combined = Eigen::MatrixXd::Zero(table.num_genes(), Eigen::Index(queries.size()));
  for (std::size_t b = 0; b < bases_.size(); ++b) {
    // A base with no weight for any query's cell type is not fitted (the same decision on every rank).
    if (std::none_of(queries.begin(), queries.end(), [&](std::int64_t q) { return weight_of(q, b) != 0; })) continue;
    const Eigen::MatrixXd predicted = fit_and_predict(ctx, *bases_[b].imputer, table, train, queries);
    for (std::size_t q = 0; q < queries.size(); ++q) {
      const double weight = weight_of(queries[q], b);
      if (weight != 0) combined.col(Eigen::Index(q)) += weight * predicted.col(Eigen::Index(q));
    }
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  choices_.insert(choices_.end(), made.begin(), made.end());
  return combined;
}

std::vector<InnerChoice> StackedImputer::choices() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return choices_;
}

}  // namespace tessera::solvers::imputation
