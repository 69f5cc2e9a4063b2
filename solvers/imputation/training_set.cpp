#include "solvers/imputation/training_set.h"

#include <bit>

#include "engine/error.h"

namespace tessera::solvers::imputation {

void check_impute_arguments(const std::string& method, const io::PerturbationTable& table,
                            const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& queries) {
  TESSERA_CHECK(train.size() == std::size_t(table.num_entries()), method, ": train mask has ", train.size(),
                " flags but the table has ", table.num_entries(), " entries");
  for (const auto e : queries) {
    TESSERA_CHECK(e >= 0 && e < table.num_entries(), method, ": query entry ", e, " is outside the table's ",
                  table.num_entries(), " entries");
  }
}

TrainingLayout::TrainingLayout(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train)
    : num_drugs(table.num_perts()),
      words((table.num_cells() + 63) / 64),
      drugs_of_cell(std::size_t(table.num_cells())),
      cells_of_drug(std::size_t(table.num_perts() * words), 0) {
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!train[std::size_t(e)] || !table.observed[std::size_t(e)]) continue;
    const auto c = table.cell_of(e), d = table.pert_of(e);
    drugs_of_cell[std::size_t(c)].push_back(d);
    cells_of_drug[std::size_t(d * words + c / 64)] |= std::uint64_t(1) << (c % 64);
    ++num_training;
  }
}

int TrainingLayout::shared_cells(std::int64_t a, std::int64_t b) const {
  int count = 0;
  for (std::int64_t w = 0; w < words; ++w) count += std::popcount(cells(a)[w] & cells(b)[w]);
  return count;
}

TrainingMeans::TrainingMeans(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train)
    : cell_sum(Eigen::MatrixXd::Zero(table.num_genes(), table.num_cells())),
      drug_sum(Eigen::MatrixXd::Zero(table.num_genes(), table.num_perts())),
      total_sum(Eigen::VectorXd::Zero(table.num_genes())),
      cell_count(std::size_t(table.num_cells()), 0),
      drug_count(std::size_t(table.num_perts()), 0) {
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!train[std::size_t(e)] || !table.observed[std::size_t(e)]) continue;
    const auto c = table.cell_of(e), p = table.pert_of(e);
    cell_sum.col(c) += table.signature(e);
    drug_sum.col(p) += table.signature(e);
    total_sum += table.signature(e);
    ++cell_count[std::size_t(c)];
    ++drug_count[std::size_t(p)];
    ++total_count;
  }
}

Eigen::VectorXd TrainingMeans::cell_mean(std::int64_t cell) const {
  const auto n = cell_count[std::size_t(cell)];
  return n > 0 ? Eigen::VectorXd(cell_sum.col(cell) / double(n)) : Eigen::VectorXd(total_sum / double(total_count));
}

Eigen::VectorXd TrainingMeans::drug_mean(std::int64_t cell, std::int64_t drug) const {
  const auto n = drug_count[std::size_t(drug)];
  return n > 0 ? Eigen::VectorXd(drug_sum.col(drug) / double(n)) : cell_mean(cell);
}

namespace {

// The unweighted average of the columns sums / count that have a count.
Eigen::VectorXd average_of_means(const Eigen::MatrixXd& sums, const std::vector<std::int64_t>& counts) {
  Eigen::VectorXd average = Eigen::VectorXd::Zero(sums.rows());
  std::int64_t columns = 0;
  for (std::size_t j = 0; j < counts.size(); ++j)
    if (counts[j] > 0) average += sums.col(Eigen::Index(j)) / double(counts[j]), ++columns;
  return columns > 0 ? Eigen::VectorXd(average / double(columns)) : average;
}

}  // namespace

Eigen::VectorXd TrainingMeans::average_cell_mean() const { return average_of_means(cell_sum, cell_count); }
Eigen::VectorXd TrainingMeans::average_drug_mean() const { return average_of_means(drug_sum, drug_count); }

}  // namespace tessera::solvers::imputation
