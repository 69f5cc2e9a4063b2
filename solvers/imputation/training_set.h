// What an imputer may learn from, in the forms the methods share: argument checks, which drugs train in which
// cell types, and the mean signatures with their fallbacks. Training entries are those flagged in `train` that
// the table also marks observed. All local (no MPI).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "io/perturbation_table.h"

namespace tessera::solvers::imputation {

// True when entry e trains: flagged in `train` and observed in the table.
inline bool is_training(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train, std::int64_t e) {
  return train[std::size_t(e)] && table.observed[std::size_t(e)];
}

// tessera::Error naming `method` for a train mask of the wrong size or a query outside the table.
void check_impute_arguments(const std::string& method, const io::PerturbationTable& table,
                            const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& queries);

// Per cell type its training drugs (ascending); per drug a bitset of the cell types where it trains.
struct TrainingLayout {
  std::int64_t num_drugs = 0;
  std::int64_t words = 0;  // 64-bit words per bitset
  std::vector<std::vector<std::int64_t>> drugs_of_cell;
  std::vector<std::uint64_t> cells_of_drug;  // drug d: words [d * words, (d + 1) * words)
  std::int64_t num_training = 0;

  TrainingLayout(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train);

  const std::uint64_t* cells(std::int64_t drug) const { return cells_of_drug.data() + drug * words; }
  // The number of cell types where both drugs train.
  int shared_cells(std::int64_t a, std::int64_t b) const;
};

// Sums and counts of training signatures per cell type, per drug and overall, and the means built from them.
struct TrainingMeans {
  Eigen::MatrixXd cell_sum;   // genes x cells
  Eigen::MatrixXd drug_sum;   // genes x perts
  Eigen::VectorXd total_sum;  // genes
  std::vector<std::int64_t> cell_count, drug_count;
  std::int64_t total_count = 0;

  TrainingMeans(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train);

  // The cell type's mean; the mean of all training signatures when the cell type has none.
  Eigen::VectorXd cell_mean(std::int64_t cell) const;
  // The drug's mean over cell types; cell_mean(cell) when the drug has none.
  Eigen::VectorXd drug_mean(std::int64_t cell, std::int64_t drug) const;

  // The unweighted averages of the cell means and of the drug means, over the cell types and drugs with training
  // signatures: the published mean baseline's fallbacks (two_way_mean, baselines.h).
  Eigen::VectorXd average_cell_mean() const;
  Eigen::VectorXd average_drug_mean() const;
};

}  // namespace tessera::solvers::imputation
