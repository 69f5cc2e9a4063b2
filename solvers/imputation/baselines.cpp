#include "solvers/imputation/baselines.h"

#include <cmath>

#include "engine/error.h"
#include "solvers/imputation/training_set.h"

namespace tessera::solvers::imputation {

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
  check_impute_arguments(name(), table, train, queries);
  const TrainingMeans means(table, train);
  TESSERA_CHECK(means.total_count > 0, name(), ": no training entry (the train mask selects no observed entry)");

  Eigen::MatrixXd predicted(table.num_genes(), Eigen::Index(queries.size()));
  const double w = params_.two_way_weight;
  // two_way_mean's fallbacks are the published baseline's (baselines.h), computed once, not per query.
  Eigen::VectorXd average_cell, average_drug;
  if (kind_ == BaselineKind::kTwoWayMean)
    average_cell = means.average_cell_mean(), average_drug = means.average_drug_mean();
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
        predicted.col(Eigen::Index(q)) =
            w * (means.drug_count[std::size_t(p)] > 0 ? means.drug_mean(c, p) : average_drug) +
            (1.0 - w) * (means.cell_count[std::size_t(c)] > 0 ? means.cell_mean(c) : average_cell);
        break;
    }
  }
  return predicted;
}

}  // namespace tessera::solvers::imputation
