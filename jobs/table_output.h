// Writing entries of a (cell type x perturbation) table as a GCTX file that CMap tools read: one column per
// entry, id "<cell>:<perturbation>", with cell_id and pert_id column fields, genes as rows.
#pragma once

#include <cstdint>
#include <vector>

#include "io/gene_matrix.h"
#include "io/perturbation_table.h"

namespace tessera::jobs {

// values: genes x entries.size(), in the order of `entries`.
io::GeneMatrix entries_as_gene_matrix(const io::PerturbationTable& table, const std::vector<std::int64_t>& entries,
                                      const Eigen::MatrixXd& values);

// Adds an integer column field (e.g. imputed = 0/1, fold).
void add_int_field(io::MetaTable& meta, const std::string& name, const std::vector<int>& values);

}  // namespace tessera::jobs
