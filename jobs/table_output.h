// Writing entries of a (cell type x perturbation) table as a GCTX file that CMap tools read: one column per
// entry, id "<cell>:<perturbation>", with cell_id and pert_id column fields, the perturbation's own text fields when
// given (cmap_name and moa from --compound-info), and one integer field (fold, imputed), genes as rows. Or, for a
// path ending in .h5ad, as an AnnData file (io/h5ad_writer.h): obs = the entries with the same columns as
// categoricals (the integer field as its text: "0", "1"), var = genes (pr_gene_symbol as a column), X = values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"
#include "io/meta_table.h"
#include "io/perturbation_table.h"

namespace tessera::jobs {

// The format of the tables a command writes (--out-format): auto follows the input (an .h5ad input gives .h5ad
// outputs, anything else .gctx).
enum class TableFormat { kAuto, kGctx, kH5ad };
const engine::NameTable<TableFormat>& name_table(TableFormat);  // auto | gctx | h5ad
// ".gctx" or ".h5ad".
std::string table_extension(TableFormat format, const std::string& input_path);

// Collective: values (genes x entries.size(), in the order of `entries`, the same on every rank) go to `path`
// through io::GctxSlabWriter (or io::H5adSlabWriter), each rank writing its block of columns a slab at a time, so no
// rank builds the file in memory (a completed LINCS table is GBs). `field` names the integer column field,
// `field_values` its values. `pert_fields` (ids = table.perts, in order; no fields: none) gives each column the fields
// of its perturbation.
void write_entries(const engine::Context& ctx, const std::filesystem::path& path, const io::PerturbationTable& table,
                   const std::vector<std::int64_t>& entries, const Eigen::MatrixXd& values, const std::string& field,
                   const std::vector<int>& field_values, const io::MetaTable& pert_fields = {});

}  // namespace tessera::jobs
