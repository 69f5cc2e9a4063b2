#include "solvers/search/shift_pool.h"

#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::search {

namespace {

// Data column of each DAG node.
std::vector<int> node_columns(const std::vector<std::string>& nodes, const causal::InterventionalData& data) {
  std::vector<int> columns;
  for (const auto& name : nodes) {
    const int c = data.variable_index(name);
    TESSERA_CHECK(c >= 0, "DAG node '", name,
                  "' is not a column of the perturbation data; name the DAG's nodes "
                  "after the data's variables");
    columns.push_back(c);
  }
  return columns;
}

// Mean over the rows of `setting`, in DAG node order.
Eigen::VectorXd setting_mean(const causal::InterventionalData& data, const std::vector<int>& columns, int setting) {
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(Eigen::Index(columns.size()));
  double rows = 0;
  for (Eigen::Index r = 0; r < data.samples.rows(); ++r) {
    if (data.setting[std::size_t(r)] != setting) continue;
    for (std::size_t i = 0; i < columns.size(); ++i) sum(Eigen::Index(i)) += data.samples(r, columns[i]);
    ++rows;
  }
  TESSERA_CHECK(rows > 0, "setting '", data.setting_names[std::size_t(setting)], "' has no rows");
  return sum / rows;
}

}  // namespace

FittedSem fit_sem(const Dag& dag, const std::vector<std::string>& nodes, const causal::InterventionalData& data) {
  TESSERA_CHECK(int(nodes.size()) == dag.num_nodes(), "fit_sem: ", nodes.size(), " names for ", dag.num_nodes(),
                " nodes");
  const auto columns = node_columns(nodes, data);
  std::vector<Eigen::Index> observational;
  for (Eigen::Index r = 0; r < data.samples.rows(); ++r)
    if (data.setting[std::size_t(r)] == 0) observational.push_back(r);
  const int p = dag.num_nodes();
  FittedSem fit;
  fit.sem.weights = Eigen::MatrixXd::Zero(p, p);
  fit.sem.intercepts = Eigen::VectorXd::Zero(p);
  double residual_variance = 0;
  for (int i = 0; i < p; ++i) {
    const auto& parents = dag.parents(i);
    const Eigen::Index q = Eigen::Index(parents.size()) + 1, n = Eigen::Index(observational.size());
    TESSERA_CHECK(n > q, "node '", nodes[std::size_t(i)], "' has ", parents.size(), " parents but only ", n,
                  " observational rows: too few to fit its equation");
    Eigen::MatrixXd z(n, q);
    Eigen::VectorXd y(n);
    for (Eigen::Index r = 0; r < n; ++r) {
      for (std::size_t k = 0; k < parents.size(); ++k)
        z(r, Eigen::Index(k)) = data.samples(observational[std::size_t(r)], columns[std::size_t(parents[k])]);
      z(r, q - 1) = 1;
      y(r) = data.samples(observational[std::size_t(r)], columns[std::size_t(i)]);
    }
    // QR, not the normal equations: parents of real data can be strongly correlated.
    const Eigen::VectorXd theta = z.colPivHouseholderQr().solve(y);
    for (std::size_t k = 0; k < parents.size(); ++k) fit.sem.weights(i, parents[k]) = theta(Eigen::Index(k));
    fit.sem.intercepts(i) = theta(q - 1);
    residual_variance += (y - z * theta).squaredNorm() / double(n - q);
  }
  fit.noise_sd = std::sqrt(residual_variance / p);
  return fit;
}

ShiftPool shift_pool_from_settings(const SemParams& sem, const std::vector<std::string>& nodes,
                                   const causal::InterventionalData& data) {
  TESSERA_CHECK(data.num_settings() > 1, "the perturbation data has no interventional setting to build a pool from");
  const auto columns = node_columns(nodes, data);
  const Eigen::Index p = sem.weights.rows();
  const Eigen::MatrixXd i_minus_b = Eigen::MatrixXd::Identity(p, p) - sem.weights;
  ShiftPool pool;
  pool.shifts.resize(p, data.num_settings() - 1);
  for (int k = 1; k < data.num_settings(); ++k) {
    pool.names.push_back(data.setting_names[std::size_t(k)]);
    pool.shifts.col(k - 1) = i_minus_b * setting_mean(data, columns, k) - sem.intercepts;
  }
  return pool;
}

}  // namespace tessera::solvers::search
