// Side tables of a released data set, and how they select and describe the GCTX's signatures and genes.
//
// LINCS2020 (beta) ships its GCTX files with only `id` in the row and column metadata; each signature's metadata
// lives in siginfo_beta.txt (keyed by sig_id, the GCTX column ids), each gene's in geneinfo_beta.txt (keyed by
// gene_id, the GCTX row ids), each compound's in compoundinfo_beta.txt (pert_id, several rows per compound).
// They are tab-separated text with a header line; a UTF-8 byte-order mark, CRLF line ends and a trailing empty
// line are accepted; there is no quoting (the released files need none). Every value is kept as text
// (MetaType::kString), so "-666" and "" read as missing (io/meta_table.h).
//
// The functions here are local (one process); jobs/signature_file.cpp decides which rank runs them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/meta_table.h"

namespace tessera::io {

struct SideTable {
  std::filesystem::path path;       // for messages
  std::string id_column;            // the column whose values are the ids (sig_id, gene_id, pert_id)
  MetaTable table;                  // ids = that column, fields = every other column in file order, all text
  std::vector<std::int64_t> lines;  // 1-based line of each row in the file, for messages
};

// Reads the file. Errors name the file, the line and the field: the id column missing from the header, a row with
// more or fewer cells than the header, an empty or duplicate id (with both lines), a duplicate column name.
// `unique_ids` = false accepts repeated ids (compoundinfo_beta.txt has several rows per pert_id).
SideTable read_side_table(const std::filesystem::path& path, const std::string& id_column, bool unique_ids = true);
// The same from text already in memory; `path` only names it in messages.
SideTable parse_side_table(std::string_view text, const std::filesystem::path& path, const std::string& id_column,
                           bool unique_ids = true);
// The table as the tab-separated text parse_side_table reads (id column first), e.g. to send it to other ranks.
std::string side_table_text(const MetaTable& table, const std::string& id_column);

// --where: `field=value` clauses separated by commas; a value may be put in single or double quotes to hold
// commas, spaces or '=' (no escapes inside: the other kind of quote is literal). Clauses on the same field are
// alternatives (pert_itime='6 h',pert_itime='24 h' keeps both times); clauses on different fields must all hold.
struct WhereClause {
  std::string field;
  std::string value;
};
// Syntax only (no file is needed): an Error naming --where, the clause and the fix.
std::vector<WhereClause> parse_where(std::string_view text);

// The rows (indices into side.table, in file order) that every field's clauses keep. Errors name the file: a field
// it does not have (with the fields it has), or a filter that keeps nothing (with how many rows each clause kept).
std::vector<std::int64_t> filter_rows(const SideTable& side, std::span<const WhereClause> where);

// --where over a signature table (siginfo, one row per sig_id) and a compound table (compoundinfo, keyed by pert_id,
// several rows per compound: one per target). Each clause goes to the signature table when it has the field (sig_id
// or another column; a field both tables have, such as cmap_name, filters by the signature table) and otherwise to
// the compound table. The signature clauses select rows as filter_rows does. The compound clauses select compounds:
// a compound is kept when, for every field they name, the set of values its rows hold on that field contains one
// of that field's clause values (moa='HDAC inhibitor',target=HDAC1 keeps a compound that has a row with that moa
// and a row with that target, not necessarily the same row). A signature row is kept when the signature clauses
// keep it and, if any compound clause applies, its pert_id is a kept compound: signatures of compounds the
// compound table lacks (controls, shRNAs, ...) are dropped then, and kept when no compound clause applies.
struct SignatureFilter {
  std::vector<std::int64_t> rows;          // kept signature-table rows, in file order
  std::int64_t rows_without_compound = 0;  // rows the signature clauses keep whose pert_id the compound table lacks
  bool compound_clauses = false;           // whether a clause applied to the compound table (then those rows went)
};
// `compounds` may be null (no compound table: filter_rows, or every row when `where` is empty). Errors name the
// files and the field: a field neither table has (with the fields of each), the signature table without pert_id,
// signature or compound clauses that keep nothing (with what each clause keeps), or kept compounds none of the kept
// signatures is of.
SignatureFilter filter_signatures(const SideTable& signatures, const SideTable* compounds,
                                  std::span<const WhereClause> where);

// What the compound table says of each pert_id in `pert_ids`: a table with ids = pert_ids and one text field per
// name in `fields`, holding the distinct non-missing values of that field over the compound's rows, in file order,
// joined with '|' ("-666", missing, when the table lacks the compound or every value is missing). Error: a field
// the compound table does not have (naming the file).
MetaTable compound_fields(const SideTable& compounds, std::span<const std::string> pert_ids,
                          std::span<const std::string> fields);

// Signatures of the GCTX selected by the side table: the GCTX columns whose sig_id is among side rows `kept`, in
// GCTX order, with their metadata = the GCTX's own fields followed by the side table's other fields.
struct SignatureSelection {
  std::vector<std::int64_t> indices;       // GCTX column indices, increasing
  MetaTable cols;                          // metadata of those signatures
  std::int64_t side_rows_not_in_gctx = 0;  // kept side rows with no GCTX column (logged, not an error)
};
// Errors: GCTX signatures the side table does not know (count and an example: the wrong siginfo file), a field
// both carry with a different value (both files, the field and the first sig_id), nothing kept in the GCTX.
SignatureSelection join_signatures(const MetaTable& gctx_cols, const std::filesystem::path& gctx_path,
                                   const SideTable& side, std::span<const std::int64_t> kept);

// feature_space values of geneinfo_beta.txt; "all" selects every gene.
const std::vector<std::string>& gene_spaces();
// Genes (GCTX rows, matched by gene_id = row id) whose feature_space is one of `spaces` (or all rows for "all"),
// in GCTX order; gene_symbol becomes the rows' pr_gene_symbol field (what outputs print). Errors: GCTX gene ids
// the gene table does not know, a feature_space value not in gene_spaces(), a selection that keeps nothing.
struct GeneSelection {
  std::vector<std::int64_t> indices;  // GCTX row indices, increasing
  MetaTable rows;
};
GeneSelection select_genes(const MetaTable& gctx_rows, const std::filesystem::path& gctx_path,
                           const SideTable& gene_info, std::span<const std::string> spaces);

}  // namespace tessera::io
