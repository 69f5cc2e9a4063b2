#include "solvers/imputation/synthetic_interventions.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "engine/error.h"
#include "solvers/imputation/query_blocks.h"
#include "solvers/imputation/training_set.h"

namespace tessera::solvers::imputation {

namespace {

// The greedy donor choice of the header: T starts as cells(a) minus c; each step adds the candidate keeping most
// of T (lowest index on ties) until num_donors or until the best would empty T.
SiDesign choose_donors(const TrainingLayout& layout, std::int64_t cell, std::int64_t drug, int num_donors) {
  const auto words = std::size_t(layout.words);
  std::vector<std::uint64_t> current(layout.cells(drug), layout.cells(drug) + words);
  current[std::size_t(cell / 64)] &= ~(std::uint64_t(1) << (cell % 64));
  SiDesign design;
  const auto& candidates = layout.drugs_of_cell[std::size_t(cell)];
  std::vector<std::uint8_t> taken(candidates.size(), 0);
  while (int(design.donors.size()) < num_donors) {
    std::size_t best = candidates.size();
    int best_count = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (taken[i] || candidates[i] == drug) continue;
      const std::uint64_t* bits = layout.cells(candidates[i]);
      int count = 0;
      for (std::size_t w = 0; w < words; ++w) count += std::popcount(current[w] & bits[w]);
      if (count > best_count) {
        best = i;
        best_count = count;
      }
    }
    if (best == candidates.size()) break;  // no candidate keeps a training cell type
    taken[best] = 1;
    design.donors.push_back(candidates[best]);
    const std::uint64_t* bits = layout.cells(candidates[best]);
    for (std::size_t w = 0; w < words; ++w) current[w] &= bits[w];
  }
  std::sort(design.donors.begin(), design.donors.end());
  if (design.donors.empty()) return design;
  for (std::size_t w = 0; w < words; ++w)
    for (std::uint64_t bits = current[w]; bits != 0; bits &= bits - 1)
      design.training_cells.push_back(std::int64_t(w * 64) + std::countr_zero(bits));
  return design;
}

// Least squares on the augmented matrix [X y] (rows x (cols + 1)), overwritten: its Householder QR gives
// R = [R11 r], where R11 (q x cols, q = min(rows, cols)) has X's singular values and r = (Q^T y)'s first q values,
// so the SVD works on R11 instead of X: min |X b - y| = min |R11 b - r| + a constant.
Eigen::VectorXd solve_augmented(Eigen::MatrixXd& xy, double sv_threshold, int rank) {
  const Eigen::Index rows = xy.rows(), cols = xy.cols() - 1;
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(cols);
  if (cols == 0 || rows == 0) return beta;
  const Eigen::HouseholderQR<Eigen::Ref<Eigen::MatrixXd>> qr(xy);  // in place
  const Eigen::Index q = std::min(rows, cols);
  const Eigen::MatrixXd r11 = xy.topLeftCorner(q, cols).triangularView<Eigen::Upper>();
  const Eigen::VectorXd rhs = xy.col(cols).head(q);
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(r11, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd& s = svd.singularValues();
  if (s.size() == 0 || !(s(0) > 0.0)) return beta;
  const double floor = s(0) * double(std::max(rows, cols)) * std::numeric_limits<double>::epsilon();
  const double cut = std::max(sv_threshold * s(0), floor);
  for (Eigen::Index i = 0; i < s.size(); ++i) {
    if (!(s(i) > cut) || (rank > 0 && i >= rank)) break;  // singular values are sorted, largest first
    beta += svd.matrixV().col(i) * (svd.matrixU().col(i).dot(rhs) / s(i));
  }
  return beta;
}

}  // namespace

SyntheticInterventions::SyntheticInterventions(const SiParams& params) : params_(params) { params_.validate(); }

SiDesign si_design(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train, std::int64_t cell,
                   std::int64_t drug, int num_donors) {
  TESSERA_CHECK(cell >= 0 && cell < table.num_cells() && drug >= 0 && drug < table.num_perts(), "si_design: (cell ",
                cell, ", drug ", drug, ") is outside the table's ", table.num_cells(), " x ", table.num_perts(),
                " entries");
  check_impute_arguments("synthetic_interventions", table, train, {table.entry(cell, drug)});
  return choose_donors(TrainingLayout(table, train), cell, drug, num_donors);
}

Eigen::VectorXd truncated_least_squares(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double sv_threshold,
                                        int rank) {
  TESSERA_CHECK(x.rows() == y.size(), "truncated_least_squares: x has ", x.rows(), " rows but y has ", y.size());
  Eigen::MatrixXd xy(x.rows(), x.cols() + 1);
  xy << x, y;
  return solve_augmented(xy, sv_threshold, rank);
}

Eigen::MatrixXd SyntheticInterventions::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                               const std::vector<std::uint8_t>& train,
                                               const std::vector<std::int64_t>& queries) const {
  check_impute_arguments("synthetic_interventions", table, train, queries);
  const TrainingLayout layout(table, train);
  TESSERA_CHECK(layout.num_training > 0,
                "synthetic_interventions: no training entry (the train mask selects no observed entry)");
  const TrainingMeans means(table, train);
  const Eigen::Index genes = table.num_genes();

  // A target costs up to ~0.1 s (a QR of |T| genes x donors), so the ranks agree on stopping every 16 targets.
  return predict_in_blocks(
      ctx, "synthetic_interventions", genes, std::int64_t(queries.size()), 16,
      [&](std::int64_t first, std::int64_t last, Eigen::Ref<Eigen::MatrixXd> out) {
        Eigen::MatrixXd xy;
        for (std::int64_t q = first; q < last; ++q) {
          const auto c = table.cell_of(queries[std::size_t(q)]), a = table.pert_of(queries[std::size_t(q)]);
          auto prediction = out.col(Eigen::Index(q - first));
          const SiDesign design = choose_donors(layout, c, a, params_.num_donors);
          if (design.donors.empty()) {
            prediction = means.drug_mean(c, a);
            continue;
          }
          const auto m = Eigen::Index(design.donors.size());
          xy.resize(genes * Eigen::Index(design.training_cells.size()), m + 1);
          for (std::size_t t = 0; t < design.training_cells.size(); ++t) {
            const auto u = design.training_cells[t];
            const Eigen::Index row = Eigen::Index(t) * genes;
            for (Eigen::Index k = 0; k < m; ++k)
              xy.col(k).segment(row, genes) = table.signature(table.entry(u, design.donors[std::size_t(k)]));
            xy.col(m).segment(row, genes) = table.signature(table.entry(u, a));
          }
          Eigen::RowVectorXd column_means = Eigen::RowVectorXd::Zero(m + 1);
          if (params_.intercept) {
            column_means = xy.colwise().mean();
            xy.rowwise() -= column_means;
          }
          const Eigen::VectorXd beta = solve_augmented(xy, params_.sv_threshold, params_.rank);
          prediction.setConstant(column_means(m) - column_means.head(m).dot(beta));
          for (Eigen::Index k = 0; k < m; ++k)
            prediction += beta(k) * table.signature(table.entry(c, design.donors[std::size_t(k)]));
        }
      });
}

}  // namespace tessera::solvers::imputation
