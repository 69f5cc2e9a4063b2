#include "jobs/signature_file.h"

#include <fstream>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "io/gct.h"
#include "io/h5ad.h"

namespace tessera::jobs {

namespace {
bool starts_with_hdf5_signature(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in.gcount() == 8 && std::string(magic, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

enum class Format { kGct, kGctx, kH5ad };

// The file's format by its name (or, for an unknown extension, its HDF5 signature: GCTX); an Error for anything else.
Format format_of(const std::filesystem::path& path) {
  TESSERA_CHECK(std::filesystem::exists(path), "input file '", path.string(),
                "' does not exist: check the path (a GCTX, GCT or .h5ad file is expected)");
  const std::string extension = path.extension().string();
  if (extension == ".gct") return Format::kGct;
  if (io::is_h5ad_path(path)) return Format::kH5ad;
  TESSERA_CHECK(extension == ".gctx" || extension == ".h5" || extension == ".hdf5" || starts_with_hdf5_signature(path),
                "input file '", path.string(), "' is neither GCTX (.gctx, HDF5), GCT (.gct, text) nor AnnData ",
                "(.h5ad): convert it, or rename it if the extension is wrong");
  return Format::kGctx;
}

// What the side tables select, on every rank: indices into the file's signatures and genes (increasing) and the
// metadata of the selected ones.
struct Selection {
  std::vector<std::int64_t> signatures;
  std::vector<std::int64_t> genes;
  io::MetaTable cols;
  io::MetaTable rows;
  io::MetaTable compounds;  // io::compound_fields of the selected pert_ids; empty without compound_info
};

std::vector<std::int64_t> all_indices(std::size_t n) {
  std::vector<std::int64_t> indices(n);
  std::iota(indices.begin(), indices.end(), std::int64_t(0));
  return indices;
}

Selection select_on_root(const std::filesystem::path& path, const io::MetaTable& cols, const io::MetaTable& rows,
                         const SideTableOptions& side) {
  Selection selection;
  if (side.signature_info.empty()) {
    selection.signatures = all_indices(cols.size());
    selection.cols = cols;
  } else {
    const io::SideTable info = io::read_side_table(side.signature_info, "sig_id");
    std::optional<io::SideTable> compounds;
    if (!side.compound_info.empty()) compounds = io::read_side_table(side.compound_info, "pert_id", false);
    const io::SignatureFilter filter = io::filter_signatures(info, compounds ? &*compounds : nullptr, side.where);
    if (filter.rows_without_compound > 0 && filter.compound_clauses)
      engine::warn("compound table '", side.compound_info.string(), "' lacks the pert_id of ",
                   filter.rows_without_compound, " signatures of '", side.signature_info.string(),
                   "' that --where would keep otherwise (controls, shRNAs, ...): dropped, as --where names a field "
                   "of the compound table");
    else if (filter.rows_without_compound > 0)
      engine::info("compound table '", side.compound_info.string(), "' lacks the pert_id of ",
                   filter.rows_without_compound, " of the signatures kept (their cmap_name and moa are -666)");
    const auto& kept = filter.rows;
    io::SignatureSelection joined = io::join_signatures(cols, path, info, kept);
    if (joined.side_rows_not_in_gctx > 0)
      engine::info("side table '", side.signature_info.string(), "': ", joined.side_rows_not_in_gctx, " of the ",
                   kept.size(), " signatures it keeps are not in '", path.string(), "' (ignored)");
    selection.signatures = std::move(joined.indices);
    selection.cols = std::move(joined.cols);
    if (compounds) {
      const io::MetaColumn& pert_id =
          selection.cols.require("pert_id", "side table '" + side.signature_info.string() + "'");
      std::vector<std::string> pert_ids;
      std::unordered_set<std::string> seen;
      for (std::size_t s = 0; s < selection.cols.size(); ++s)
        if (seen.insert(pert_id.as_string(s)).second) pert_ids.push_back(pert_id.as_string(s));
      selection.compounds = io::compound_fields(*compounds, pert_ids, compound_output_fields());
    }
  }
  if (side.gene_info.empty()) {
    selection.genes = all_indices(rows.size());
    selection.rows = rows;
  } else {
    io::GeneSelection genes = io::select_genes(rows, path, io::read_side_table(side.gene_info, "gene_id"), side.genes);
    selection.genes = std::move(genes.indices);
    selection.rows = std::move(genes.rows);
  }
  engine::info("side tables select ", selection.signatures.size(), " of ", cols.size(), " signatures and ",
               selection.genes.size(), " of ", rows.size(), " genes of '", path.string(), "'");
  return selection;
}

void broadcast_indices(const engine::Context& ctx, std::vector<std::int64_t>& indices) {
  std::int64_t size = std::int64_t(indices.size());
  engine::broadcast(ctx, std::span<std::int64_t>(&size, 1));
  indices.resize(std::size_t(size));
  engine::broadcast(ctx, std::span<std::int64_t>(indices));
}

// Collective. Rank 0 alone reads the side tables and the others receive what it selected. siginfo_beta.txt is
// ~400 MB of text and ~1.7 GB once split into strings: every rank parsing it would take no less time (each parses
// the same bytes) and multiply that memory by the ranks on a node, while what the ranks need -- the selected
// indices and the side-table fields of the selected signatures -- is a fraction of it. The fields the file itself
// carries stay as every rank read them (in their own types); only the side tables' text fields travel, as one
// tab-separated text. An error on rank 0 travels as its message, so every rank throws the same Error together.
Selection select_by_side_tables(const engine::Context& ctx, const std::filesystem::path& path,
                                const io::MetaTable& cols, const io::MetaTable& rows, const SideTableOptions& side) {
  Selection selection;
  std::string error, added_cols, symbols, compounds;
  if (ctx.is_root()) {
    try {
      selection = select_on_root(path, cols, rows, side);
      io::MetaTable added{selection.cols.ids, {}};
      added.fields.assign(selection.cols.fields.begin() + std::ptrdiff_t(cols.fields.size()),
                          selection.cols.fields.end());
      added_cols = io::side_table_text(added, "sig_id");
      if (const io::MetaColumn* symbol = side.gene_info.empty() ? nullptr : selection.rows.find("pr_gene_symbol"))
        symbols = io::side_table_text(io::MetaTable{selection.rows.ids, {*symbol}}, "gene_id");
      if (!side.compound_info.empty()) compounds = io::side_table_text(selection.compounds, "pert_id");
    } catch (const Error& failure) {
      error = failure.what();
    } catch (const std::exception& failure) {  // e.g. out of memory: the other ranks must not wait for rank 0
      error = std::string("reading the side tables failed on rank 0: ") + failure.what();
    }
  }
  engine::broadcast(ctx, error);
  if (!error.empty()) throw Error(error);
  broadcast_indices(ctx, selection.signatures);
  broadcast_indices(ctx, selection.genes);
  engine::broadcast(ctx, added_cols);
  engine::broadcast(ctx, symbols);
  engine::broadcast(ctx, compounds);
  if (!ctx.is_root()) {
    const std::filesystem::path from_root = "(side-table fields from rank 0)";
    selection.cols = cols.subset(selection.signatures);
    for (auto& field : io::parse_side_table(added_cols, from_root, "sig_id").table.fields)
      selection.cols.fields.push_back(std::move(field));
    selection.rows = rows.subset(selection.genes);
    if (!symbols.empty())
      selection.rows.set_text("pr_gene_symbol",
                              std::move(io::parse_side_table(symbols, from_root, "gene_id").table.fields.at(0).text));
    if (!compounds.empty()) selection.compounds = io::parse_side_table(compounds, from_root, "pert_id").table;
  }
  return selection;
}

}  // namespace

io::LocalGctx<float> local_block(const engine::Context& ctx, io::GeneMatrix whole) {
  io::LocalGctx<float> local;
  local.signatures = engine::block_range(whole.num_signatures(), ctx.size(), ctx.rank());
  local.values = whole.values.middleCols(local.signatures.begin, local.signatures.size());
  local.rows = std::move(whole.rows);
  local.cols = std::move(whole.cols);
  return local;
}

io::GeneMatrix read_whole_signature_file(const engine::Context& ctx, const std::filesystem::path& path) {
  switch (format_of(path)) {
    case Format::kGct:
      return io::read_gct<float>(path);
    case Format::kH5ad: {
      // Every rank reads every cell: alone, so no rank waits for another's I/O.
      io::LocalGctx<float> whole = io::read_h5ad_local<float>(path, ctx.alone());
      return io::GeneMatrix{std::move(whole.values), std::move(whole.rows), std::move(whole.cols)};
    }
    case Format::kGctx:
      break;
  }
  return io::read_gctx<float>(path, ctx);
}

io::LocalGctx<float> read_signature_file(const engine::Context& ctx, const std::filesystem::path& path) {
  switch (format_of(path)) {
    case Format::kGct:
      return local_block(ctx, io::read_gct<float>(path));
    case Format::kH5ad:
      return io::read_h5ad_local<float>(path, ctx);
    case Format::kGctx:
      break;
  }
  return io::read_gctx_local<float>(path, ctx);
}

const std::vector<std::string>& compound_output_fields() {
  static const std::vector<std::string> fields{"cmap_name", "moa"};
  return fields;
}

io::LocalGctx<float> read_signature_file(const engine::Context& ctx, const std::filesystem::path& path,
                                         const SideTableOptions& side, io::MetaTable& compounds) {
  compounds = {};
  if (side.empty()) return read_signature_file(ctx, path);
  TESSERA_CHECK(format_of(path) != Format::kH5ad, "--signature-info, --compound-info and --gene-info describe LINCS ",
                "files; '", path.string(), "' is an AnnData file, whose obs and var describe it: leave them out");
  if (format_of(path) == Format::kGct) {
    // Text is parsed whole on every rank anyway; the selection is plain indexing.
    io::GeneMatrix whole = io::read_gct<float>(path);
    Selection selection = select_by_side_tables(ctx, path, whole.cols, whole.rows, side);
    compounds = std::move(selection.compounds);
    io::GeneMatrix selected{whole.values(selection.genes, selection.signatures), std::move(selection.rows),
                            std::move(selection.cols)};
    return local_block(ctx, std::move(selected));
  }
  const io::GctxReader reader(path, ctx);
  Selection selection = select_by_side_tables(ctx, path, reader.cols(), reader.rows(), side);
  compounds = std::move(selection.compounds);
  io::LocalGctx<float> local;
  local.signatures = engine::block_range(std::int64_t(selection.signatures.size()), ctx.size(), ctx.rank());
  local.values = reader.read_selection<float>(
      std::span<const std::int64_t>(selection.signatures)
          .subspan(std::size_t(local.signatures.begin), std::size_t(local.signatures.size())),
      selection.genes);
  local.rows = std::move(selection.rows);
  local.cols = std::move(selection.cols);
  return local;
}

}  // namespace tessera::jobs
