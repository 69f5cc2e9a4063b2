#include "solvers/imputation/additive.h"

#include <unordered_map>

#include "engine/error.h"
#include "io/combinations.h"
#include "solvers/imputation/training_set.h"

namespace tessera::solvers::imputation {

namespace {

// The table indices of the parts of perturbation `pert` (-1 for a part that is not a perturbation of the table),
// in name order.
std::vector<std::int64_t> part_indices(const io::PerturbationTable& table, std::int64_t pert) {
  const std::string& id = table.perts[std::size_t(pert)];
  std::vector<std::int64_t> indices;
  for (const auto& part : io::combination_parts(id)) {
    TESSERA_CHECK(!part.empty(), "additive: perturbation '", id,
                  "' has an empty part: name a combination by its parts joined by single '+' signs (\"A+B\")");
    indices.push_back(table.find_pert(part));
  }
  return indices;
}

}  // namespace

std::string AdditiveCombination::name() const { return "additive"; }

Eigen::MatrixXd AdditiveCombination::impute(const engine::Context& /*ctx*/, const io::PerturbationTable& table,
                                            const std::vector<std::uint8_t>& train,
                                            const std::vector<std::int64_t>& queries) const {
  check_impute_arguments(name(), table, train, queries);
  const TrainingMeans means(table, train);
  TESSERA_CHECK(means.total_count > 0, name(), ": no training entry (the train mask selects no observed entry)");

  // Parsed once per queried perturbation: a table has far fewer perturbations than queries.
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> parts_of;
  Eigen::MatrixXd predicted = Eigen::MatrixXd::Zero(table.num_genes(), Eigen::Index(queries.size()));
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const auto c = table.cell_of(queries[q]), p = table.pert_of(queries[q]);
    auto found = parts_of.find(p);
    if (found == parts_of.end()) found = parts_of.emplace(p, part_indices(table, p)).first;
    auto column = predicted.col(Eigen::Index(q));
    for (const auto part : found->second) {
      if (part < 0) continue;  // not measured alone in this table: no known effect
      const auto own = table.entry(c, part);
      if (is_training(table, train, own)) {
        column += table.signature(own);
      } else if (const auto n = means.drug_count[std::size_t(part)]; n > 0) {
        // (c, part) is not among the sums, so this is the mean over the other cell types.
        column += means.drug_sum.col(part) / double(n);
      }
    }
  }
  return predicted;
}

}  // namespace tessera::solvers::imputation
