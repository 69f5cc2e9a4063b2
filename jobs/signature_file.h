// Reading a signature file by its name: .gctx (HDF5), .gct (text) or .h5ad (AnnData: obs = signatures, var = genes).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "io/gctx.h"
#include "io/side_table.h"

namespace tessera::jobs {

// Collective: every rank ends with all metadata and its own block of signatures. A GCT file is text, so every
// rank parses it whole and keeps its block; a GCTX file is read slab by slab.
io::LocalGctx<float> read_signature_file(const engine::Context& ctx, const std::filesystem::path& path);

// Side tables that describe and select a released file's signatures and genes (io/side_table.h), as LINCS2020
// beta ships them: --signature-info siginfo_beta.txt [--where ...], --gene-info geneinfo_beta.txt --genes ....
struct SideTableOptions {
  std::filesystem::path signature_info;  // keyed by sig_id = the file's column ids; empty: none
  std::vector<io::WhereClause> where;    // applied to signature_info's rows
  std::filesystem::path compound_info;   // keyed by pert_id, several rows each (compoundinfo_beta.txt); needs
                                         // signature_info; --where may name its fields (io::filter_signatures)
  std::filesystem::path gene_info;       // keyed by gene_id = the file's row ids; empty: none
  std::vector<std::string> genes;        // feature_space values (io::gene_spaces()), or "all"
  bool empty() const { return signature_info.empty() && compound_info.empty() && gene_info.empty(); }
};

// The compound_info fields that describe a perturbation in outputs (io::compound_fields: values joined with '|').
const std::vector<std::string>& compound_output_fields();  // cmap_name, moa

// Collective: as above, restricted to the signatures the signature table keeps (their metadata: the file's own
// fields, then the table's) and the genes of the chosen feature spaces (gene_symbol as pr_gene_symbol). Each rank
// holds engine::block_range over the SELECTED signatures and reads only those values (GctxReader::read_selection).
// With side.compound_info, `compounds` (on every rank) receives io::compound_fields of the selected signatures'
// pert_ids (ids: each distinct pert_id once, in signature order) for compound_output_fields(); else it is empty.
io::LocalGctx<float> read_signature_file(const engine::Context& ctx, const std::filesystem::path& path,
                                         const SideTableOptions& side, io::MetaTable& compounds);

}  // namespace tessera::jobs

namespace tessera::jobs {

// Collective: every rank reads the whole file (for small files such as predictions).
io::GeneMatrix read_whole_signature_file(const engine::Context& ctx, const std::filesystem::path& path);

// Local: keeps this rank's block of signatures of a matrix every rank holds whole.
io::LocalGctx<float> local_block(const engine::Context& ctx, io::GeneMatrix whole);

}  // namespace tessera::jobs
