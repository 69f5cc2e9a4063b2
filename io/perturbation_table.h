// The (cell type x perturbation) table every imputation method works on.
//
// Entry (c, p) is cell type c treated with perturbation p; its value is a gene vector (a signature) when the
// pair was measured. values is genes x (num_cells * num_perts), Eigen column-major, column entry(c, p) =
// c * num_perts + p; columns of unobserved entries are zero and observed[entry] is 0 for them.
// Every rank holds the whole table (it is small next to the raw signatures it came from).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io {

struct PerturbationTable {
  std::vector<std::string> genes;         // gene ids (GCTX row ids)
  std::vector<std::string> gene_symbols;  // same length as genes, or empty when the file has none
  std::vector<std::string> cells;         // cell type ids, sorted
  std::vector<std::string> perts;         // perturbation ids, sorted
  Eigen::MatrixXd values;                 // genes x (cells * perts)
  std::vector<std::uint8_t> observed;     // cells * perts
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
  std::int64_t num_observed() const;
  // Index of a cell or perturbation id, or -1.
  std::int64_t find_cell(const std::string& id) const;
  std::int64_t find_pert(const std::string& id) const;
};

}  // namespace tessera::io
