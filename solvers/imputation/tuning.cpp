#include "solvers/imputation/tuning.h"

#include <cmath>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/parameters.h"
#include "solvers/imputation/metrics.h"

namespace tessera::solvers::imputation {

std::string grid_point_label(const TuningGrid& grid, const std::vector<std::size_t>& point) {
  TESSERA_ASSERT(point.size() == grid.size());
  std::string label;
  for (std::size_t i = 0; i < grid.size(); ++i)
    label += (label.empty() ? "" : " ") + grid[i].first + "=" + grid[i].second[point[i]];
  return label.empty() ? "defaults" : label;
}

std::vector<std::vector<std::size_t>> grid_points(const TuningGrid& grid) {
  std::vector<std::size_t> sizes;
  for (const auto& [knob, values] : grid) {
    TESSERA_CHECK(!values.empty(), "tuning grid: knob ", knob, " has no value");
    sizes.push_back(values.size());
  }
  return engine::product_indices(sizes);
}

TunedImputer::TunedImputer(std::string name, std::vector<Candidate> candidates, InnerCvParams inner)
    : name_(std::move(name)), candidates_(std::move(candidates)), inner_(std::move(inner)) {
  TESSERA_CHECK(!candidates_.empty(), "tuning ", name_, ": the grid has no candidate");
  inner_.validate();
}

std::size_t TunedImputer::best_candidate(const std::vector<double>& inner_pearson) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < inner_pearson.size(); ++i)
    if (inner_pearson[i] > inner_pearson[best] || (std::isnan(inner_pearson[best]) && !std::isnan(inner_pearson[i])))
      best = i;
  return best;
}

Eigen::MatrixXd TunedImputer::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                     const std::vector<std::uint8_t>& train,
                                     const std::vector<std::int64_t>& queries) const {
  std::size_t chosen = 0;
  std::vector<double> inner_pearson(candidates_.size(), NAN);
  if (candidates_.size() > 1) {
    const auto metrics = inner_metrics(ctx, candidates_, table, inner_fold_plan(table, train, inner_));
    for (std::size_t i = 0; i < candidates_.size(); ++i) inner_pearson[i] = metrics[i].pearson;
    chosen = best_candidate(inner_pearson);
    engine::info("tune ", name_, ": ", candidates_[chosen].label, " (inner r ", inner_pearson[chosen], " over ",
                 metrics[chosen].num_signatures, " training pairs, ", candidates_.size(), " candidates)");
  }
  const std::int64_t first_query = queries.empty() ? -1 : queries.front();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < candidates_.size(); ++i)
      choices_.push_back({first_query, "all", candidates_[i].label, inner_pearson[i], i == chosen ? 1.0 : 0.0});
  }
  return fit_and_predict(ctx, *candidates_[chosen].imputer, table, train, queries);
}

std::vector<InnerChoice> TunedImputer::choices() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return choices_;
}

}  // namespace tessera::solvers::imputation
