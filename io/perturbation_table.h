// The (cell type x perturbation) table every imputation method works on.
//
// Entry (c, p) is cell type c treated with perturbation p, numbered entry(c, p) = c * num_perts + p. Only the
// measured entries hold a gene vector (a signature): `signatures` is genes x num_observed, Eigen column-major, one
// column per observed entry in entry order, and column_of maps an entry to its column (-1 when not measured). A
// LINCS-sized table (230 cell lines x 30,000 compounds, ~4% measured) would need 54 GB as a dense genes x entries
// matrix of doubles; stored this way it is the size of its measurements.
// Every rank holds the whole table (it is small next to the raw signatures it came from).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/parameters.h"

namespace tessera::io {

struct PerturbationTable {
  std::vector<std::string> genes;         // gene ids (GCTX row ids)
  std::vector<std::string> gene_symbols;  // same length as genes, or empty when the file has none
  std::vector<std::string> cells;         // cell type ids, sorted
  std::vector<std::string> perts;         // perturbation ids, sorted
  std::vector<std::uint8_t> observed;     // cells * perts
  std::vector<std::int64_t> column_of;    // cells * perts: the entry's column of `signatures`, or -1
  Eigen::MatrixXd signatures;             // genes x num_observed, in entry order
  std::vector<int> replicates;            // signatures pooled into each entry (0 when unobserved)
  Eigen::MatrixXd controls;               // genes x cells: mean control profile per cell (zero when none)
  std::vector<int> control_counts;        // cells

  std::int64_t num_genes() const { return std::int64_t(genes.size()); }
  std::int64_t num_cells() const { return std::int64_t(cells.size()); }
  std::int64_t num_perts() const { return std::int64_t(perts.size()); }
  std::int64_t num_entries() const { return num_cells() * num_perts(); }
  std::int64_t entry(std::int64_t cell, std::int64_t pert) const { return cell * num_perts() + pert; }
  std::int64_t cell_of(std::int64_t entry) const { return entry / num_perts(); }
  std::int64_t pert_of(std::int64_t entry) const { return entry % num_perts(); }
  std::int64_t num_observed() const { return std::int64_t(signatures.cols()); }
  // Index of a cell or perturbation id, or -1.
  std::int64_t find_cell(const std::string& id) const;
  std::int64_t find_pert(const std::string& id) const;

  // The measured signature of an observed entry (genes); an Error for an entry that was not measured.
  Eigen::MatrixXd::ConstColXpr signature(std::int64_t entry) const;
  Eigen::MatrixXd::ColXpr signature(std::int64_t entry);

  // Numbers the observed entries (column_of) from `observed` and sizes `signatures` (genes x num_observed, zero).
  void index_observed();
  // index_observed(), then copies the observed columns of a dense genes x num_entries matrix into `signatures`
  // (unobserved columns are ignored). For tables built by hand: tests, benchmarks.
  void set_dense(const Eigen::MatrixXd& dense);
  // The table as a dense genes x num_entries matrix, zero where unobserved, for the methods that work on the
  // dense tensor (FaLRTC, which checks first that it fits). Only gene rows [first_gene, first_gene + count).
  Eigen::MatrixXd dense_rows(std::int64_t first_gene, std::int64_t count) const;
};

// How signatures are scaled before imputation (`tessera impute --normalize`): none keeps them as read; l2 divides
// each by its Euclidean norm, as the published NTK code does before it fits or scores anything.
enum class SignatureScaling { kNone, kL2 };
const engine::NameTable<SignatureScaling>& name_table(SignatureScaling);  // none | l2

// Scales every observed signature of `table` (kL2: to unit norm; kNone: leaves it). Local. Throws tessera::Error
// naming the cell type and perturbation of an all-zero signature, which has no direction to keep.
void scale_signatures(PerturbationTable& table, SignatureScaling scaling);

}  // namespace tessera::io
