// The features of (cell type, drug) pairs that the NTK imputer compares, and their normalised inner products rho,
// computed from small Gram tables instead of from the feature vectors (Radhakrishnan et al., PNAS 2022).
//
// The pair (c, d) has the feature vector, before normalisation,
//   p(c, d) = [ alpha |m| cbar_c ,  m ,  beta e_(c,d) ]
// where
//   cbar_c   the mean of cell type c's training signatures, scaled to unit norm (zero when c has none);
//   m        the drug's prior signature, from one of three priors (below);
//   e_(c,d)  a one-hot coordinate of its own for every row of the regression (train rows, then query rows), so
//            it only ever meets itself: in rho it contributes beta^2 to the diagonal of the training kernel and
//            nothing else (a query row never shares a coordinate with a training row, even for the same pair).
// The row is then scaled to unit norm, so with P_ij = p_i . p_j (the first two blocks only)
//   rho_ij = (P_ij + beta^2 delta_ij) / sqrt((P_ii + beta^2)(P_jj + beta^2)),  delta_ij = [same regression row].
// P_ij = alpha^2 |m_i| |m_j| (cbar_ci . cbar_cj) + m_i . m_j comes from a (cell x cell) table of cbar dot
// products and a table of prior dot products, so a kernel entry costs O(1) (O(cell types) for the similarity
// prior), never O(genes), and the one-hot block is never stored.
//
// Priors of the drug block m (training entries = train flag set and observed):
//   reference   m_d = drug d's training signature in the reference cell type(s) (the mean over them when there
//               are several); a drug with no training signature there gets the mean of the m_d of all drugs that
//               have one (the published "only_train_cell_average" prior; alpha 0.75, beta 1.5 there).
//   all_cells   m_d = the mean of drug d's training signatures over all cell types; same fallback. A training
//               pair's own signature is part of its drug's mean.
//   similarity  m_(c,d) = [ sqrt(w_ca / Z) y_(a,d) ]_a stacked over the other cell types a != c that measured d,
//               with w_ca = max(0, cbar_c . cbar_a) (uniform when all are 0) and Z = sum_a w_ca. So
//               m_i . m_j = sum_a sqrt(w_ci,a w_cj,a / (Z_i Z_j)) y_(a,di) . y_(a,dj): a similarity-weighted
//               average, over the cell types both pairs draw on, of how alike the two drugs act there. A drug no
//               other cell type measured uses each cell type's mean signature instead of y_(a,d). It depends on
//               no single reference cell type and a pair never sees its own signature. Its kernel entries cost
//               O(cell types) and its tables are one (drugs of a + 1)^2 Gram per cell type a.
//
// All functions are local (no MPI) and deterministic: every rank builds the same tables from the replicated
// table. Const member functions are thread-safe.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "io/perturbation_table.h"

namespace tessera::solvers::ntk {

enum class PriorKind { kReference, kAllCells, kSimilarity };

const engine::NameTable<PriorKind>& name_table(PriorKind);  // reference | all_cells | similarity
inline std::string prior_name(PriorKind prior) { return name_table(prior).name(prior); }

struct FeatureOptions {
  double alpha = 0.75;  // weight of the cell block relative to the drug block
  double beta = 1.5;    // weight of the one-hot block (0 = none: duplicate pairs then make the kernel singular)
  PriorKind prior = PriorKind::kReference;
  std::vector<std::int64_t> reference_cells;  // table cell indices, for PriorKind::kReference (non-empty)
};

// Pairs encoded for the kernel: everything rho needs about each pair, in the order given to encode().
struct PairList {
  struct Source {  // one block of a similarity prior: cell type, column of its Gram table, weight sqrt(w / Z)
    std::int32_t cell;
    std::int32_t column;
    double weight;
  };
  std::vector<std::int64_t> entries;       // table entries
  std::vector<std::int32_t> cell;          // cell type of each pair
  std::vector<std::int32_t> slot;          // mean priors: row of the prior Gram table
  std::vector<double> prior_norm;          // |m|
  std::vector<double> inv_scale;           // 1 / sqrt(|p|^2 + beta^2)
  std::vector<std::int64_t> source_begin;  // similarity prior: sources of pair i are [source_begin[i], [i + 1])
  std::vector<Source> sources;
  std::int64_t fallback_pairs = 0;  // pairs whose drug had no prior of its own (the mean prior stood in)

  std::int64_t size() const { return std::int64_t(entries.size()); }
};

// The tables rho is computed from, as column-major views into a PairFeatures (valid while it lives): what a GPU
// backend copies to its device to evaluate kernel tiles itself, in rho_tile's formulation.
struct RhoTables {
  double alpha = 0;
  bool similarity = false;
  const double* cell_gram = nullptr;  // cells x cells: cbar_c . cbar_c'
  std::int64_t cells = 0;
  const double* slot_gram = nullptr;  // mean priors: slots x slots, indexed by PairList::slot
  std::int64_t slots = 0;
  std::vector<const double*> column_grams;      // similarity prior, per cell type a: its (n_a + 1)^2 Gram,
  std::vector<std::int64_t> column_gram_sizes;  // indexed by PairList::Source::column; n_a + 1 (0: none)
};

class PairFeatures {
 public:
  // Learns cbar and the priors from the training entries of `table` (train[e] && observed[e]). Throws
  // tessera::Error for a train mask of the wrong size, non-finite training values, invalid options, or a
  // reference prior whose reference cell types have no training entry.
  PairFeatures(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
               const FeatureOptions& options);

  // Bytes of the tables the constructor builds, from the table and mask alone: c-bar and its Gram, and the
  // prior's vectors and Gram tables (mean priors: (drugs with a prior + 1)^2; similarity: (n_a + 1)^2 per cell
  // type a with n_a training drugs), plus the build's largest temporary. What the imputer checks against its
  // memory budget before building them: at LINCS size these Gram tables, not the solve, can be the largest
  // allocation (all_cells over 30,000 compounds: 7.2 GB). Local.
  static double table_bytes(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                            const FeatureOptions& options);

  const FeatureOptions& options() const { return options_; }
  std::int64_t num_genes() const { return genes_; }

  // Encodes table entries (any, observed or not). Throws tessera::Error for an entry outside the table, or for
  // an all-zero feature vector when beta = 0 (rho is then undefined).
  PairList encode(const std::vector<std::int64_t>& entries) const;

  // P_ij = p_i . p_j over the cell and drug blocks (no one-hot block).
  double dot(const PairList& a, std::int64_t i, const PairList& b, std::int64_t j) const;

  // out(r, c) = rho between pair rows[row0 + r] and pair cols[col0 + c]. With same_list (rows and cols are the
  // same regression rows) the one-hot term beta^2 enters where row0 + r == col0 + c; otherwise never.
  void rho_tile(const PairList& rows, std::int64_t row0, const PairList& cols, std::int64_t col0, bool same_list,
                Eigen::Ref<Eigen::MatrixXd> out) const;

  // Views of the tables rho_tile reads.
  RhoTables rho_tables() const;

  // The explicit feature vectors [alpha |m| cbar_c, m] (no one-hot block), one column per pair: 2 x genes rows
  // for the mean priors, genes x (1 + cells) for the similarity prior. For tests and brute-force checks.
  Eigen::MatrixXd explicit_features(const PairList& pairs) const;

  // Cell types without training entries (their cbar is zero).
  std::int64_t cells_without_training() const { return cells_without_training_; }

 private:
  void build_mean_prior(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train);
  void build_similarity_prior(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train);
  double drug_dot(const PairList& a, std::int64_t i, const PairList& b, std::int64_t j) const;

  FeatureOptions options_;
  std::int64_t genes_ = 0;
  std::int64_t num_perts_ = 0;
  Eigen::MatrixXd cell_unit_;  // genes x cells: cbar_c (zero columns for cell types without training entries)
  Eigen::MatrixXd cell_gram_;  // cells x cells: cbar_c . cbar_c'

  // Mean priors: slot s < num_slots is a drug with a prior; slot num_slots is the fallback (mean of the others).
  std::vector<std::int32_t> drug_slot_;  // per perturbation: its slot, or the fallback slot
  Eigen::MatrixXd slot_vectors_;         // genes x (num_slots + 1)
  Eigen::MatrixXd slot_gram_;            // (num_slots + 1)^2

  // Similarity prior, per cell type a: the trained drugs' signatures and a last column with the cell's mean.
  std::vector<std::vector<std::int32_t>> cell_drug_column_;  // [a][drug] -> column or -1
  std::vector<Eigen::MatrixXd> cell_columns_;                // [a]: genes x (drugs of a + 1)
  std::vector<Eigen::MatrixXd> cell_column_gram_;            // [a]: their Gram
  std::vector<std::uint8_t> cell_has_training_;
  std::int64_t cells_without_training_ = 0;
};

}  // namespace tessera::solvers::ntk
