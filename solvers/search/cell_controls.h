// Per-cell-type control (baseline) expression profiles matched to a library, for the latent-space pairs of
// `tessera rank --pairs --pair-space latent` (solvers/autoencoder/latent_pairs.h). Torch-free, local.
//
// File: CSV, one row per cell type: the first column is the cell name (any header, e.g. cell_iname), the other
// columns are genes, named by the same identifiers as the library's rows (Entrez ids, i.e. the row id, or gene
// symbols), e.g. LINCS 2020's basal_DMSO_modz_level3_by_cell.csv. The header's gene names are looked up in each
// identifier field of the library's rows (id, pr_gene_symbol, pr_gene_id, gene_symbol, gene_id; the field with
// the most matches wins, as for the query); extra columns are ignored.
// Errors (tessera::Error naming the file): a library gene without a column, a library cell type (cell_id) without
// a row, a cell listed twice, a value that is empty or not finite. A cell type without controls is an error rather
// than silently leaving its signatures out of the latent pairs: restrict the library with --cell instead.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "io/csv.h"
#include "io/meta_table.h"
#include "solvers/search/library.h"

namespace tessera::solvers::search {

struct CellControls {
  std::vector<std::string> cells;     // the library's cell types, in order of first appearance
  Eigen::MatrixXf values;             // library genes (row order) x cells
  std::vector<std::int64_t> cell_of;  // per library signature: its column of `values`
  std::string field;                  // the library row field the gene names matched
};

CellControls match_cell_controls(const io::CsvTable& table, const std::string& where, const Library& library);
CellControls read_cell_controls(const std::filesystem::path& path, const Library& library);

}  // namespace tessera::solvers::search
