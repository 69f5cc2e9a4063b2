#include "solvers/imputation/baselines.h"

#include <cmath>

#include "engine/error.h"

namespace tessera::solvers::imputation {

namespace {

// Sums and counts of training signatures per cell type, per drug and overall.
struct TrainingMeans {
  Eigen::MatrixXd cell_sum;   // genes x cells
  Eigen::MatrixXd drug_sum;   // genes x perts
  Eigen::VectorXd total_sum;  // genes
  std::vector<std::int64_t> cell_count, drug_count;
  std::int64_t total_count = 0;

  TrainingMeans(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train)
      : cell_sum(Eigen::MatrixXd::Zero(table.num_genes(), table.num_cells())),
        drug_sum(Eigen::MatrixXd::Zero(table.num_genes(), table.num_perts())),
        total_sum(Eigen::VectorXd::Zero(table.num_genes())),
        cell_count(std::size_t(table.num_cells()), 0),
        drug_count(std::size_t(table.num_perts()), 0) {
    for (std::int64_t e = 0; e < table.num_entries(); ++e) {
      if (!train[std::size_t(e)] || !table.observed[std::size_t(e)]) continue;
      const auto c = table.cell_of(e), p = table.pert_of(e);
      cell_sum.col(c) += table.values.col(e);
      drug_sum.col(p) += table.values.col(e);
      total_sum += table.values.col(e);
      ++cell_count[std::size_t(c)];
      ++drug_count[std::size_t(p)];
      ++total_count;
    }
  }

  Eigen::VectorXd cell_mean(std::int64_t cell) const {
    const auto n = cell_count[std::size_t(cell)];
    return n > 0 ? Eigen::VectorXd(cell_sum.col(cell) / double(n)) : Eigen::VectorXd(total_sum / double(total_count));
  }

  Eigen::VectorXd drug_mean(std::int64_t cell, std::int64_t drug) const {
    const auto n = drug_count[std::size_t(drug)];
    return n > 0 ? Eigen::VectorXd(drug_sum.col(drug) / double(n)) : cell_mean(cell);
  }
};

}  // namespace

void BaselineParams::validate() const {
  TESSERA_CHECK(std::isfinite(two_way_weight) && two_way_weight >= 0.0 && two_way_weight <= 1.0,
                "two_way_weight = ", two_way_weight, " is invalid: use a weight in [0, 1] (1 = drug mean only, ",
                "0 = cell mean only)");
}

MeanBaseline::MeanBaseline(BaselineKind kind, const BaselineParams& params) : kind_(kind), params_(params) {
  params_.validate();
}

std::string MeanBaseline::name() const {
  switch (kind_) {
    case BaselineKind::kCellMean:
      return "cell_mean";
    case BaselineKind::kDrugMean:
      return "drug_mean";
    case BaselineKind::kTwoWayMean:
      return "two_way_mean";
  }
  return "unknown";
}

Eigen::MatrixXd MeanBaseline::impute(const engine::Context& /*ctx*/, const io::PerturbationTable& table,
                                     const std::vector<std::uint8_t>& train,
                                     const std::vector<std::int64_t>& queries) const {
  TESSERA_CHECK(train.size() == std::size_t(table.num_entries()), name(), ": train mask has ", train.size(),
                " flags but the table has ", table.num_entries(), " entries");
  for (const auto e : queries) {
    TESSERA_CHECK(e >= 0 && e < table.num_entries(), name(), ": query entry ", e, " is outside the table's ",
                  table.num_entries(), " entries");
  }
  const TrainingMeans means(table, train);
  TESSERA_CHECK(means.total_count > 0, name(), ": no training entry (the train mask selects no observed entry)");

  Eigen::MatrixXd predicted(table.num_genes(), Eigen::Index(queries.size()));
  const double w = params_.two_way_weight;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const auto c = table.cell_of(queries[q]), p = table.pert_of(queries[q]);
    switch (kind_) {
      case BaselineKind::kCellMean:
        predicted.col(Eigen::Index(q)) = means.cell_mean(c);
        break;
      case BaselineKind::kDrugMean:
        predicted.col(Eigen::Index(q)) = means.drug_mean(c, p);
        break;
      case BaselineKind::kTwoWayMean:
        predicted.col(Eigen::Index(q)) = w * means.drug_mean(c, p) + (1.0 - w) * means.cell_mean(c);
        break;
    }
  }
  return predicted;
}

}  // namespace tessera::solvers::imputation
