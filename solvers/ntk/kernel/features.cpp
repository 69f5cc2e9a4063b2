#include "solvers/ntk/kernel/features.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "solvers/imputation/training_set.h"

namespace tessera::solvers::ntk {

using imputation::is_training;

const engine::NameTable<PriorKind>& name_table(PriorKind) {
  static const engine::NameTable<PriorKind> table{{PriorKind::kReference, "reference"},
                                                  {PriorKind::kAllCells, "all_cells"},
                                                  {PriorKind::kSimilarity, "similarity"}};
  return table;
}

PairFeatures::PairFeatures(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                           const FeatureOptions& options)
    : options_(options), genes_(table.num_genes()), num_perts_(table.num_perts()) {
  TESSERA_CHECK(std::isfinite(options.alpha) && options.alpha >= 0.0, "ntk_alpha = ", options.alpha,
                " is invalid: use a finite weight >= 0 for the cell block");
  TESSERA_CHECK(std::isfinite(options.beta) && options.beta >= 0.0, "ntk_beta = ", options.beta,
                " is invalid: use a finite weight >= 0 for the one-hot block");
  TESSERA_CHECK(train.size() == std::size_t(table.num_entries()), "ntk: train mask has ", train.size(),
                " flags but the table has ", table.num_entries(), " entries");
  TESSERA_CHECK(table.signatures.rows() == genes_ && std::int64_t(table.column_of.size()) == table.num_entries(),
                "ntk: table signatures have ", table.signatures.rows(), " genes and ", table.column_of.size(),
                " entry columns, expected ", genes_, " genes and ", table.num_entries(), " entries");

  const auto cells = table.num_cells();
  cell_unit_ = Eigen::MatrixXd::Zero(genes_, cells);
  cell_has_training_.assign(std::size_t(cells), 0);
  for (std::int64_t c = 0; c < cells; ++c) {
    std::int64_t count = 0;
    for (std::int64_t p = 0; p < num_perts_; ++p) {
      const auto e = table.entry(c, p);
      if (!is_training(table, train, e)) continue;
      TESSERA_CHECK(table.signature(e).allFinite(), "ntk: the training signature of cell type '",
                    table.cells[std::size_t(c)], "', perturbation '", table.perts[std::size_t(p)],
                    "' has NaN or infinite values; remove or repair the signature (NTK features need finite inputs)");
      cell_unit_.col(c) += table.signature(e);
      ++count;
    }
    const double norm = cell_unit_.col(c).norm();
    if (count > 0 && norm > 0.0) {
      cell_unit_.col(c) /= norm;
      cell_has_training_[std::size_t(c)] = 1;
    } else {
      cell_unit_.col(c).setZero();
      ++cells_without_training_;
    }
  }
  cell_gram_ = cell_unit_.transpose() * cell_unit_;

  if (options_.prior == PriorKind::kSimilarity) {
    build_similarity_prior(table, train);
  } else {
    build_mean_prior(table, train);
  }
}

double PairFeatures::table_bytes(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                                 const FeatureOptions& options) {
  const double genes = double(table.num_genes()), cells = double(table.num_cells());
  const auto trains = [&](std::int64_t c, std::int64_t p) { return is_training(table, train, table.entry(c, p)); };
  const double cell_tables = genes * cells + cells * cells;
  if (options.prior == PriorKind::kSimilarity) {
    double columns = 0, grams = 0;
    for (std::int64_t a = 0; a < table.num_cells(); ++a) {
      double n = 1;  // the cell type's mean column
      for (std::int64_t p = 0; p < table.num_perts(); ++p) n += trains(a, p) ? 1 : 0;
      columns += n;
      grams += n * n;
    }
    return 8.0 * (cell_tables + genes * columns + grams) + 4.0 * cells * double(table.num_perts());
  }
  std::vector<std::int64_t> sources = options.reference_cells;
  if (options.prior != PriorKind::kReference)
    for (std::int64_t c = 0; c < table.num_cells(); ++c) sources.push_back(c);
  double slots = 1;  // the fallback
  for (std::int64_t p = 0; p < table.num_perts(); ++p)
    slots += std::any_of(sources.begin(), sources.end(), [&](std::int64_t c) { return trains(c, p); }) ? 1 : 0;
  // The build's per-drug sums (genes x drugs) are freed before the Gram table is formed, so the larger of the two.
  return 8.0 * (cell_tables + genes * slots + std::max(slots * slots, genes * double(table.num_perts())));
}

void PairFeatures::build_mean_prior(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train) {
  std::vector<std::int64_t> source_cells;
  if (options_.prior == PriorKind::kReference) {
    TESSERA_CHECK(!options_.reference_cells.empty(), "ntk: the reference prior needs a reference cell type");
    for (const auto c : options_.reference_cells)
      TESSERA_CHECK(c >= 0 && c < table.num_cells(), "ntk: reference cell index ", c, " is outside the table");
    source_cells = options_.reference_cells;
  } else {
    for (std::int64_t c = 0; c < table.num_cells(); ++c) source_cells.push_back(c);
  }

  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(genes_, num_perts_);
  std::vector<std::int64_t> counts(std::size_t(num_perts_), 0);
  for (const auto c : source_cells) {
    for (std::int64_t p = 0; p < num_perts_; ++p) {
      const auto e = table.entry(c, p);
      if (!is_training(table, train, e)) continue;
      sums.col(p) += table.signature(e);
      ++counts[std::size_t(p)];
    }
  }
  std::int32_t num_slots = 0;
  for (const auto n : counts) num_slots += n > 0 ? 1 : 0;
  if (num_slots == 0) {
    std::string names;
    for (const auto c : source_cells) names += (names.empty() ? "" : ", ") + table.cells[std::size_t(c)];
    TESSERA_FAIL("ntk: the ", prior_name(options_.prior), " prior found no training signature in cell type(s) ", names,
                 "; pick another reference cell type (ntk_reference_cell) or another prior (ntk_prior)");
  }

  slot_vectors_.resize(genes_, num_slots + 1);
  drug_slot_.assign(std::size_t(num_perts_), num_slots);
  std::int32_t s = 0;
  for (std::int64_t p = 0; p < num_perts_; ++p) {
    if (counts[std::size_t(p)] == 0) continue;
    slot_vectors_.col(s) = sums.col(p) / double(counts[std::size_t(p)]);
    drug_slot_[std::size_t(p)] = s++;
  }
  sums = Eigen::MatrixXd();  // before the Gram table: the peak table_bytes() counts
  // The fallback is the plain average of the drug priors (each drug once, whatever its count).
  slot_vectors_.col(num_slots) = slot_vectors_.leftCols(num_slots).rowwise().mean();
  slot_gram_ = slot_vectors_.transpose() * slot_vectors_;
}

void PairFeatures::build_similarity_prior(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train) {
  const auto cells = table.num_cells();
  cell_drug_column_.assign(std::size_t(cells), std::vector<std::int32_t>(std::size_t(num_perts_), -1));
  cell_columns_.resize(std::size_t(cells));
  cell_column_gram_.resize(std::size_t(cells));
  for (std::int64_t a = 0; a < cells; ++a) {
    auto& column_of = cell_drug_column_[std::size_t(a)];
    std::int32_t n = 0;
    for (std::int64_t p = 0; p < num_perts_; ++p)
      if (is_training(table, train, table.entry(a, p))) column_of[std::size_t(p)] = n++;
    auto& columns = cell_columns_[std::size_t(a)];
    columns = Eigen::MatrixXd::Zero(genes_, n + 1);
    for (std::int64_t p = 0; p < num_perts_; ++p)
      if (column_of[std::size_t(p)] >= 0) columns.col(column_of[std::size_t(p)]) = table.signature(table.entry(a, p));
    if (n > 0) columns.col(n) = columns.leftCols(n).rowwise().mean();
    cell_column_gram_[std::size_t(a)] = columns.transpose() * columns;
  }
}

PairList PairFeatures::encode(const std::vector<std::int64_t>& entries) const {
  PairList list;
  const auto n = std::size_t(entries.size());
  list.entries = entries;
  list.cell.resize(n);
  list.slot.assign(n, 0);
  list.prior_norm.resize(n);
  list.inv_scale.resize(n);
  if (options_.prior == PriorKind::kSimilarity) list.source_begin.assign(n + 1, 0);
  const auto num_cells = cell_gram_.rows();
  const double alpha_sq = options_.alpha * options_.alpha, beta_sq = options_.beta * options_.beta;

  for (std::size_t i = 0; i < n; ++i) {
    const auto e = entries[i];
    TESSERA_CHECK(e >= 0 && e < num_cells * num_perts_, "ntk: entry ", e, " is outside the table's ",
                  num_cells * num_perts_, " entries");
    const auto c = e / num_perts_, d = e % num_perts_;
    list.cell[i] = std::int32_t(c);
    double prior_sq = 0.0;
    if (options_.prior == PriorKind::kSimilarity) {
      // Sources: the other cell types that measured d; else every other cell type's mean signature.
      bool fallback = true;
      for (std::int64_t a = 0; a < num_cells; ++a)
        if (a != c && cell_drug_column_[std::size_t(a)][std::size_t(d)] >= 0) fallback = false;
      const auto begin = list.sources.size();
      double total = 0.0;
      for (std::int64_t a = 0; a < num_cells; ++a) {
        if (a == c || !cell_has_training_[std::size_t(a)]) continue;
        const auto column = fallback ? std::int32_t(cell_columns_[std::size_t(a)].cols() - 1)
                                     : cell_drug_column_[std::size_t(a)][std::size_t(d)];
        if (column < 0) continue;
        const double w = std::max(0.0, cell_gram_(c, a));
        list.sources.push_back({std::int32_t(a), column, w});
        total += w;
      }
      const auto count = list.sources.size() - begin;
      for (auto k = begin; k < list.sources.size(); ++k) {
        auto& source = list.sources[k];
        source.weight = total > 0.0 ? std::sqrt(source.weight / total) : std::sqrt(1.0 / double(count));
        prior_sq +=
            source.weight * source.weight * cell_column_gram_[std::size_t(source.cell)](source.column, source.column);
      }
      list.source_begin[i + 1] = std::int64_t(list.sources.size());
      if (fallback) ++list.fallback_pairs;
    } else {
      const auto slot = drug_slot_[std::size_t(d)];
      list.slot[i] = slot;
      prior_sq = slot_gram_(slot, slot);
      if (slot == slot_gram_.rows() - 1) ++list.fallback_pairs;
    }
    list.prior_norm[i] = std::sqrt(prior_sq);
    const double self = alpha_sq * prior_sq * cell_gram_(c, c) + prior_sq + beta_sq;
    TESSERA_CHECK(self > 0.0, "ntk: the pair (cell entry ", e, ") has an all-zero feature vector and ntk_beta = 0, ",
                  "so its kernel row is undefined; use ntk_beta > 0");
    list.inv_scale[i] = 1.0 / std::sqrt(self);
  }
  return list;
}

double PairFeatures::drug_dot(const PairList& a, std::int64_t i, const PairList& b, std::int64_t j) const {
  if (options_.prior != PriorKind::kSimilarity) return slot_gram_(a.slot[std::size_t(i)], b.slot[std::size_t(j)]);
  // Both source lists are sorted by cell type: merge them.
  auto p = a.source_begin[std::size_t(i)], p_end = a.source_begin[std::size_t(i) + 1];
  auto q = b.source_begin[std::size_t(j)], q_end = b.source_begin[std::size_t(j) + 1];
  double sum = 0.0;
  while (p < p_end && q < q_end) {
    const auto& x = a.sources[std::size_t(p)];
    const auto& y = b.sources[std::size_t(q)];
    if (x.cell < y.cell) {
      ++p;
    } else if (y.cell < x.cell) {
      ++q;
    } else {
      sum += x.weight * y.weight * cell_column_gram_[std::size_t(x.cell)](x.column, y.column);
      ++p, ++q;
    }
  }
  return sum;
}

double PairFeatures::dot(const PairList& a, std::int64_t i, const PairList& b, std::int64_t j) const {
  const double alpha_sq = options_.alpha * options_.alpha;
  return alpha_sq * a.prior_norm[std::size_t(i)] * b.prior_norm[std::size_t(j)] *
             cell_gram_(a.cell[std::size_t(i)], b.cell[std::size_t(j)]) +
         drug_dot(a, i, b, j);
}

void PairFeatures::rho_tile(const PairList& rows, std::int64_t row0, const PairList& cols, std::int64_t col0,
                            bool same_list, Eigen::Ref<Eigen::MatrixXd> out) const {
  TESSERA_ASSERT(row0 >= 0 && row0 + out.rows() <= rows.size());
  TESSERA_ASSERT(col0 >= 0 && col0 + out.cols() <= cols.size());
  const double alpha = options_.alpha;
  const Eigen::Index m = out.rows();
  if (options_.prior != PriorKind::kSimilarity) {
    for (Eigen::Index c = 0; c < out.cols(); ++c) {
      const auto j = std::size_t(col0 + c);
      const double scale_j = cols.inv_scale[j], cell_j = alpha * cols.prior_norm[j];
      const double* cell_column = cell_gram_.col(cols.cell[j]).data();
      const double* slot_column = slot_gram_.col(cols.slot[j]).data();
      double* target = out.col(c).data();
      for (Eigen::Index r = 0; r < m; ++r) {
        const auto i = std::size_t(row0 + r);
        const double p = alpha * rows.prior_norm[i] * cell_j * cell_column[rows.cell[i]] + slot_column[rows.slot[i]];
        target[r] = p * rows.inv_scale[i] * scale_j;
      }
    }
  } else {
    for (Eigen::Index c = 0; c < out.cols(); ++c)
      for (Eigen::Index r = 0; r < m; ++r)
        out(r, c) = dot(rows, row0 + r, cols, col0 + c) * rows.inv_scale[std::size_t(row0 + r)] *
                    cols.inv_scale[std::size_t(col0 + c)];
  }
  if (same_list) {
    // The one-hot block meets itself only on the diagonal, where the normalised row gives exactly 1.
    const auto first = std::max(row0, col0), last = std::min(row0 + std::int64_t(m), col0 + std::int64_t(out.cols()));
    for (auto k = first; k < last; ++k) out(Eigen::Index(k - row0), Eigen::Index(k - col0)) = 1.0;
  }
}

RhoTables PairFeatures::rho_tables() const {
  RhoTables tables;
  tables.alpha = options_.alpha;
  tables.similarity = options_.prior == PriorKind::kSimilarity;
  tables.cell_gram = cell_gram_.data();
  tables.cells = cell_gram_.rows();
  tables.slot_gram = slot_gram_.data();
  tables.slots = slot_gram_.rows();
  for (const auto& gram : cell_column_gram_) {
    tables.column_grams.push_back(gram.data());
    tables.column_gram_sizes.push_back(gram.rows());
  }
  return tables;
}

Eigen::MatrixXd PairFeatures::explicit_features(const PairList& pairs) const {
  const bool similarity = options_.prior == PriorKind::kSimilarity;
  const auto blocks = similarity ? 1 + cell_gram_.rows() : 2;
  Eigen::MatrixXd features = Eigen::MatrixXd::Zero(genes_ * blocks, pairs.size());
  for (std::int64_t i = 0; i < pairs.size(); ++i) {
    const auto k = std::size_t(i);
    features.col(i).head(genes_) = options_.alpha * pairs.prior_norm[k] * cell_unit_.col(pairs.cell[k]);
    if (!similarity) {
      features.col(i).segment(genes_, genes_) = slot_vectors_.col(pairs.slot[k]);
      continue;
    }
    for (auto s = pairs.source_begin[k]; s < pairs.source_begin[k + 1]; ++s) {
      const auto& source = pairs.sources[std::size_t(s)];
      features.col(i).segment(genes_ * (1 + source.cell), genes_) =
          source.weight * cell_columns_[std::size_t(source.cell)].col(source.column);
    }
  }
  return features;
}

}  // namespace tessera::solvers::ntk
