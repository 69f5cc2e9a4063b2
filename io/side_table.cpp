// Side tables (io/side_table.h): a one-pass tab-separated parser sized for siginfo_beta.txt (1.2 million rows x
// ~35 fields), and the filter and joins that turn them into a selection of GCTX signatures and genes.
//
// The parser reads the whole file into one buffer and splits it with memchr: there is no quoting to track, so
// lines and cells are found by their separators alone. Cells go straight into per-column vectors (one string
// each, most short enough for the small-string buffer), which are then moved into the MetaTable.
#include "io/side_table.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <unordered_map>
#include <utility>

#include "engine/error.h"

namespace tessera::io {

namespace {

namespace fs = std::filesystem;

// The whole file in one buffer, left uninitialised before the read (zero-filling 400 MB first costs ~5%).
struct FileText {
  std::unique_ptr<char[]> bytes;
  std::size_t size = 0;
  std::string_view view() const { return {bytes.get(), size}; }
};

FileText read_whole_file(const fs::path& path) {
  TESSERA_CHECK(fs::exists(path), "side table '", path.string(), "' does not exist; check the path");
  TESSERA_CHECK(!fs::is_directory(path), "side table '", path.string(),
                "' is a folder; give the tab-separated file itself (e.g. siginfo_beta.txt)");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  TESSERA_CHECK(file != nullptr, "cannot open side table '", path.string(), "': ", std::strerror(errno),
                "; check that the file is readable");
  FileText text{std::unique_ptr<char[]>(new char[std::max<std::uintmax_t>(fs::file_size(path), 1)]),
                std::size_t(fs::file_size(path))};
  const std::size_t got = text.size == 0 ? 0 : std::fread(text.bytes.get(), 1, text.size, file);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  TESSERA_CHECK(!failed && got == text.size, "cannot read side table '", path.string(), "': read ", got, " of ",
                text.size, " bytes; copy the file again");
  return text;
}

// Splits one line (without its end) at tabs.
void split_tabs(std::string_view line, std::vector<std::string_view>& cells) {
  cells.clear();
  while (true) {
    const auto* tab = static_cast<const char*>(std::memchr(line.data(), '\t', line.size()));
    if (tab == nullptr) {
      cells.push_back(line);
      return;
    }
    cells.push_back(line.substr(0, std::size_t(tab - line.data())));
    line.remove_prefix(std::size_t(tab - line.data()) + 1);
  }
}

// Cuts the next line off `text`, without "\n" or "\r\n".
std::string_view next_line(std::string_view& text) {
  const auto* end = static_cast<const char*>(std::memchr(text.data(), '\n', text.size()));
  const std::size_t length = end == nullptr ? text.size() : std::size_t(end - text.data());
  std::string_view line = text.substr(0, length);
  text.remove_prefix(end == nullptr ? length : length + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out;
}

std::vector<std::string> field_names(const SideTable& side) {
  std::vector<std::string> names{side.id_column};
  for (const auto& field : side.table.fields) names.push_back(field.name);
  return names;
}

void check_unique(const SideTable& side) {
  const auto& ids = side.table.ids;
  const auto duplicate = first_duplicate(ids);
  if (!duplicate) return;
  const std::size_t first = duplicate->first, second = duplicate->second;
  TESSERA_FAIL("side table '", side.path.string(), "', line ", side.lines[second], ", field '", side.id_column,
               "': duplicate id '", ids[second], "' (first on line ", side.lines[first],
               "); each id may appear once: remove the repeated row");
}

// An index from id to position (ids are unique in the tables this is used on).
std::unordered_map<std::string_view, std::int64_t> index_of(const std::vector<std::string>& ids) {
  std::unordered_map<std::string_view, std::int64_t> index;
  index.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], std::int64_t(i));
  return index;
}

// Does a side-table text value say the same as the GCTX's value? Numbers are compared as the GCTX stores them
// (a float32 field holds 0.1 as 0.100000001), missing equals missing.
bool same_value(const MetaColumn& gctx, std::size_t i, const MetaColumn& side, std::size_t j) {
  if (gctx.is_missing(i) || side.is_missing(j)) return gctx.is_missing(i) && side.is_missing(j);
  if (gctx.type == MetaType::kString) return gctx.text[i] == side.text[j];
  const std::string& text = side.text[j];
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return false;
  if (gctx.type == MetaType::kFloat32) return float(value) == float(gctx.numbers[i]);
  return value == gctx.numbers[i];
}

}  // namespace

SideTable parse_side_table(std::string_view text, const fs::path& path, const std::string& id_column, bool unique_ids) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // byte-order mark
  SideTable side{path, id_column, {}, {}};
  const std::string where = "side table '" + path.string() + "'";
  TESSERA_CHECK(!text.empty(), where, " is empty; it needs a header line naming its fields, '", id_column,
                "' among them");
  std::vector<std::string_view> cells;
  split_tabs(next_line(text), cells);
  const std::vector<std::string> header(cells.begin(), cells.end());
  std::size_t id_at = header.size();
  for (std::size_t c = 0; c < header.size(); ++c) {
    TESSERA_CHECK(!header[c].empty(), where, ", line 1: field ", c + 1,
                  " has no name; name every tab-separated column of the header");
    for (std::size_t d = 0; d < c; ++d)
      TESSERA_CHECK(header[d] != header[c], where, ", line 1: field '", header[c], "' is named twice (columns ", d + 1,
                    " and ", c + 1, "); rename one");
    if (header[c] == id_column) id_at = c;
  }
  TESSERA_CHECK(id_at < header.size(), where, ", line 1: no field '", id_column,
                "' in the header (fields: ", quoted_list(header), "); give the ", id_column,
                " table here, tab-separated with its header line (is this the right file?)");

  // One pass to size the columns: counting '\n' is far cheaper than growing 35 vectors by doubling.
  const std::size_t expected_rows = std::size_t(std::count(text.begin(), text.end(), '\n')) + 1;
  std::vector<std::vector<std::string>> columns(header.size());
  for (auto& column : columns) column.reserve(expected_rows);
  side.lines.reserve(expected_rows);
  std::int64_t line_number = 1;
  while (!text.empty()) {
    const std::string_view line = next_line(text);
    ++line_number;
    if (line.empty()) {
      // Only trailing empty lines are allowed: an empty line inside the table is a cut or damaged file.
      TESSERA_CHECK(text.find_first_not_of("\r\n") == std::string_view::npos, where, ", line ", line_number,
                    ": empty line inside the table; remove it (only empty lines at the end are ignored)");
      break;
    }
    split_tabs(line, cells);
    if (cells.size() != header.size()) {
      const std::string field = cells.size() < header.size() ? "'" + header[cells.size()] + "' is missing"
                                                             : "extra cells after '" + header.back() + "'";
      TESSERA_FAIL(where, ", line ", line_number, ": ", cells.size(), " tab-separated cells but the header has ",
                   header.size(), " fields (", field,
                   "); every row needs one cell per field: fix the row or copy the file again");
    }
    TESSERA_CHECK(!cells[id_at].empty(), where, ", line ", line_number, ", field '", id_column,
                  "': the id is empty; every row needs its ", id_column);
    for (std::size_t c = 0; c < cells.size(); ++c) columns[c].emplace_back(cells[c]);
    side.lines.push_back(line_number);
  }
  side.table.ids = std::move(columns[id_at]);
  for (std::size_t c = 0; c < header.size(); ++c)
    if (c != id_at) side.table.fields.push_back(MetaColumn{header[c], MetaType::kString, std::move(columns[c]), {}});
  if (unique_ids) check_unique(side);
  return side;
}

SideTable read_side_table(const fs::path& path, const std::string& id_column, bool unique_ids) {
  return parse_side_table(read_whole_file(path).view(), path, id_column, unique_ids);
}

std::string side_table_text(const MetaTable& table, const std::string& id_column) {
  std::string text = id_column;
  for (const auto& field : table.fields) text += "\t" + field.name;
  text += '\n';
  for (std::size_t i = 0; i < table.size(); ++i) {
    text += table.ids[i];
    for (const auto& field : table.fields) {
      text += '\t';
      text += field.as_string(i);
    }
    text += '\n';
  }
  return text;
}

std::vector<WhereClause> parse_where(std::string_view text) {
  std::vector<WhereClause> clauses;
  const std::string all(text);
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  while (true) {
    skip_spaces();
    const std::size_t equals = text.find('=', i);
    const std::size_t comma = text.find(',', i);
    TESSERA_CHECK(equals != std::string_view::npos && (comma == std::string_view::npos || equals < comma), "--where '",
                  all, "': clause '", std::string(text.substr(i, comma - i)),
                  "' is not field=value; write e.g. --where is_gold=1,pert_type=trt_cp,pert_itime='24 h'");
    std::string_view field = text.substr(i, equals - i);
    while (!field.empty() && is_space(field.back())) field.remove_suffix(1);
    TESSERA_CHECK(!field.empty(), "--where '", all, "': a clause has no field name before '='; write field=value");
    i = equals + 1;
    skip_spaces();
    std::string value;
    if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
      const char quote = text[i];
      const std::size_t close = text.find(quote, i + 1);
      TESSERA_CHECK(close != std::string_view::npos, "--where '", all, "': the value of '", std::string(field),
                    "' opens a ", quote, " quote that is never closed; close it");
      value = std::string(text.substr(i + 1, close - i - 1));
      i = close + 1;
      skip_spaces();
      TESSERA_CHECK(i == text.size() || text[i] == ',', "--where '", all,
                    "': unexpected text after the quoted value of '", std::string(field),
                    "'; separate clauses with ','");
    } else {
      const std::size_t end = std::min(text.find(',', i), text.size());
      std::string_view bare = text.substr(i, end - i);
      while (!bare.empty() && is_space(bare.back())) bare.remove_suffix(1);
      value = std::string(bare);
      i = end;
    }
    clauses.push_back(WhereClause{std::string(field), std::move(value)});
    if (i >= text.size()) break;
    ++i;  // the comma
  }
  return clauses;
}

std::vector<std::int64_t> filter_rows(const SideTable& side, std::span<const WhereClause> where) {
  const std::string file = "side table '" + side.path.string() + "'";
  const std::size_t n = side.table.size();
  // Clauses grouped by field, in the order fields first appear: one field's clauses are alternatives.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& clause : where) {
    if (clause.field != side.id_column && side.table.find(clause.field) == nullptr)
      TESSERA_FAIL(file, ": --where names field '", clause.field,
                   "', which the file does not have (fields: ", quoted_list(field_names(side)),
                   "); fix the field name or give the right file");
    if (!values.count(clause.field)) order.push_back(clause.field);
    values[clause.field].push_back(clause.value);
  }
  std::vector<char> keep(n, 1);
  std::vector<std::int64_t> kept_by_clause;
  for (const auto& name : order) {
    const MetaColumn* column = side.table.find(name);
    const auto& text = column != nullptr ? column->text : side.table.ids;
    for (const auto& value : values[name]) {
      std::int64_t count = 0;
      for (std::size_t i = 0; i < n; ++i) count += text[i] == value;
      kept_by_clause.push_back(count);
    }
    const auto& wanted = values[name];
    for (std::size_t i = 0; i < n; ++i)
      if (keep[i]) keep[i] = std::find(wanted.begin(), wanted.end(), text[i]) != wanted.end();
  }
  std::vector<std::int64_t> rows;
  for (std::size_t i = 0; i < n; ++i)
    if (keep[i]) rows.push_back(std::int64_t(i));
  if (rows.empty()) {
    std::string counts;
    std::size_t c = 0;
    for (const auto& name : order)
      for (const auto& value : values[name])
        counts += (counts.empty() ? "" : ", ") + name + "='" + value + "' keeps " + std::to_string(kept_by_clause[c++]);
    TESSERA_FAIL(file, ": --where keeps none of its ", n, " rows (", counts, " of ", n,
                 " rows; clauses on different fields must all hold, values are compared as exact text); "
                 "loosen the filter or check the values in the file");
  }
  return rows;
}

namespace {

// "field='value' keeps N" for each clause, in the order given, from counts in the same order.
std::string clause_counts(std::span<const WhereClause> clauses, const std::vector<std::int64_t>& counts) {
  std::string text;
  for (std::size_t c = 0; c < clauses.size(); ++c)
    text += (text.empty() ? "" : ", ") + clauses[c].field + "='" + clauses[c].value + "' keeps " +
            std::to_string(counts[c]);
  return text;
}

// The compounds (distinct pert_ids, numbered in order of first row) and each row's compound.
struct Compounds {
  std::unordered_map<std::string_view, std::int64_t> index;
  std::vector<std::int64_t> of_row;
  std::vector<std::string_view> ids;
};

Compounds number_compounds(const SideTable& compounds) {
  Compounds out;
  const auto& ids = compounds.table.ids;
  out.of_row.reserve(ids.size());
  for (const auto& id : ids) {
    const auto [at, added] = out.index.emplace(id, std::int64_t(out.ids.size()));
    if (added) out.ids.push_back(id);
    out.of_row.push_back(at->second);
  }
  return out;
}

// How many rows of the table hold each clause's value (a clause alone, as filter_rows counts).
std::vector<std::int64_t> rows_per_clause(const SideTable& side, std::span<const WhereClause> clauses) {
  std::vector<std::int64_t> counts;
  for (const auto& clause : clauses) {
    const MetaColumn* column = side.table.find(clause.field);
    const auto& text = column != nullptr ? column->text : side.table.ids;
    counts.push_back(std::count(text.begin(), text.end(), clause.value));
  }
  return counts;
}

// The compounds every field's clauses keep (see filter_signatures), and how many compounds each clause alone keeps;
// an Error naming the file when none is kept.
struct CompoundKeep {
  std::vector<char> keep;            // per compound
  std::vector<std::int64_t> counts;  // per clause
};
CompoundKeep keep_compounds(const SideTable& compounds, const Compounds& numbered,
                            std::span<const WhereClause> clauses) {
  const std::size_t k = numbered.ids.size();
  std::vector<std::string> order;
  for (const auto& clause : clauses)
    if (std::find(order.begin(), order.end(), clause.field) == order.end()) order.push_back(clause.field);
  std::vector<char> keep(k, 1);
  std::vector<std::int64_t> counts(clauses.size(), 0);
  for (const auto& name : order) {
    const MetaColumn* column = compounds.table.find(name);
    std::vector<char> field_keeps(k, 0);
    for (std::size_t c = 0; c < clauses.size(); ++c) {
      if (clauses[c].field != name) continue;
      std::vector<char> has(k, 0);
      for (std::size_t i = 0; i < column->text.size(); ++i)
        if (column->text[i] == clauses[c].value) has[std::size_t(numbered.of_row[i])] = 1;
      for (std::size_t j = 0; j < k; ++j) {
        counts[c] += has[j];
        field_keeps[j] |= has[j];
      }
    }
    for (std::size_t j = 0; j < k; ++j) keep[j] &= field_keeps[j];
  }
  TESSERA_CHECK(std::find(keep.begin(), keep.end(), 1) != keep.end(), "compound table '", compounds.path.string(),
                "': --where keeps none of its ", k, " compounds (", clause_counts(clauses, counts), " of ", k,
                " compounds; a compound is kept when, for each field, one of its rows holds one of the field's "
                "values, values compared as exact text); loosen the filter or check the values in the file");
  return {std::move(keep), std::move(counts)};
}

}  // namespace

SignatureFilter filter_signatures(const SideTable& signatures, const SideTable* compounds,
                                  std::span<const WhereClause> where) {
  SignatureFilter filter;
  if (compounds == nullptr) {
    if (!where.empty()) {
      filter.rows = filter_rows(signatures, where);
    } else {
      filter.rows.resize(signatures.table.size());
      std::iota(filter.rows.begin(), filter.rows.end(), std::int64_t(0));
    }
    return filter;
  }
  const std::string signature_file = "side table '" + signatures.path.string() + "'";
  const std::string compound_file = "compound table '" + compounds->path.string() + "'";
  const MetaColumn& pert_id =
      signatures.table.require("pert_id", signature_file + ", which --compound-info joins by pert_id");
  std::vector<WhereClause> on_signatures, on_compounds;
  for (const auto& clause : where) {
    if (clause.field == signatures.id_column || signatures.table.find(clause.field) != nullptr) {
      on_signatures.push_back(clause);
    } else if (clause.field == compounds->id_column || compounds->table.find(clause.field) != nullptr) {
      on_compounds.push_back(clause);
    } else {
      TESSERA_FAIL("--where names field '", clause.field, "', which neither ", signature_file,
                   " (fields: ", quoted_list(field_names(signatures)), ") nor ", compound_file,
                   " (fields: ", quoted_list(field_names(*compounds)),
                   ") has; fix the field name or give the right files");
    }
  }
  const std::vector<std::int64_t> candidates = filter_signatures(signatures, nullptr, on_signatures).rows;
  const Compounds numbered = number_compounds(*compounds);
  filter.compound_clauses = !on_compounds.empty();
  const CompoundKeep kept = filter.compound_clauses ? keep_compounds(*compounds, numbered, on_compounds)
                                                    : CompoundKeep{std::vector<char>(numbered.ids.size(), 1), {}};
  std::int64_t of_other_compounds = 0;
  for (const std::int64_t row : candidates) {
    const auto found = numbered.index.find(pert_id.text[std::size_t(row)]);
    if (found == numbered.index.end()) {
      ++filter.rows_without_compound;
      if (filter.compound_clauses) continue;
    } else if (!kept.keep[std::size_t(found->second)]) {
      ++of_other_compounds;
      continue;
    }
    filter.rows.push_back(row);
  }
  if (filter.rows.empty() && filter.compound_clauses) {
    // Each side keeps something, but not together: say what each kept and where the signatures went.
    const std::size_t n = signatures.table.size(), k = numbered.ids.size();
    std::string example;
    for (std::size_t j = 0; j < k && example.empty(); ++j)
      if (kept.keep[j]) example = std::string(numbered.ids[j]);
    const std::string signature_side =
        on_signatures.empty() ? "its " + std::to_string(n) + " rows (no clause names a field of it)"
                              : "the " + std::to_string(candidates.size()) + " rows its clauses keep (" +
                                    clause_counts(on_signatures, rows_per_clause(signatures, on_signatures)) + " of " +
                                    std::to_string(n) + " rows)";
    TESSERA_FAIL("--where keeps no signature of ", signature_file, " and ", compound_file, ": of ", signature_side,
                 ", ", filter.rows_without_compound, " have a pert_id the compound table lacks and ",
                 of_other_compounds, " are of compounds other than the ",
                 std::count(kept.keep.begin(), kept.keep.end(), 1), " that the compound clauses keep (",
                 clause_counts(on_compounds, kept.counts), " of ", k, " compounds; e.g. '", example,
                 "'); loosen the filter, or check that both files come from the same release");
  }
  return filter;
}

MetaTable compound_fields(const SideTable& compounds, std::span<const std::string> pert_ids,
                          std::span<const std::string> fields) {
  const std::string file = "compound table '" + compounds.path.string() + "'";
  const Compounds numbered = number_compounds(compounds);
  MetaTable out;
  out.ids.assign(pert_ids.begin(), pert_ids.end());
  for (const auto& name : fields) {
    const MetaColumn& column = compounds.table.require(name, file);
    // Each compound's distinct values in file order: compounds have a handful of rows, so a linear search is fine.
    std::vector<std::vector<std::string_view>> values(numbered.ids.size());
    for (std::size_t i = 0; i < column.text.size(); ++i) {
      if (column.is_missing(i)) continue;
      auto& mine = values[std::size_t(numbered.of_row[i])];
      if (std::find(mine.begin(), mine.end(), column.text[i]) == mine.end()) mine.push_back(column.text[i]);
    }
    std::vector<std::string> joined;
    joined.reserve(pert_ids.size());
    for (const auto& id : pert_ids) {
      const auto found = numbered.index.find(id);
      std::string text;
      if (found != numbered.index.end())
        for (const auto value : values[std::size_t(found->second)]) (text += text.empty() ? "" : "|") += value;
      joined.push_back(text.empty() ? "-666" : text);
    }
    out.set_text(name, std::move(joined));
  }
  return out;
}

SignatureSelection join_signatures(const MetaTable& gctx_cols, const fs::path& gctx_path, const SideTable& side,
                                   std::span<const std::int64_t> kept) {
  const std::string side_file = "side table '" + side.path.string() + "'";
  const std::string gctx_file = "GCTX file '" + gctx_path.string() + "'";
  const auto side_index = index_of(side.table.ids);
  // Every GCTX signature must be known: a GCTX the side table does not describe is the wrong pairing of files.
  std::int64_t unknown = 0;
  std::string example;
  std::vector<std::int64_t> side_row(gctx_cols.size(), -1);
  for (std::size_t s = 0; s < gctx_cols.size(); ++s) {
    const auto found = side_index.find(gctx_cols.ids[s]);
    if (found == side_index.end()) {
      if (unknown++ == 0) example = gctx_cols.ids[s];
    } else {
      side_row[s] = found->second;
    }
  }
  TESSERA_CHECK(unknown == 0, gctx_file, ": ", unknown, " of its ", gctx_cols.size(), " signatures (e.g. '", example,
                "') have no row in ", side_file, " (field '", side.id_column,
                "'); give the siginfo file released with this GCTX");

  std::vector<char> wanted(side.table.size(), 0);
  for (const std::int64_t row : kept) wanted[std::size_t(row)] = 1;
  SignatureSelection selection;
  for (std::size_t s = 0; s < gctx_cols.size(); ++s)
    if (wanted[std::size_t(side_row[s])]) selection.indices.push_back(std::int64_t(s));
  selection.side_rows_not_in_gctx = std::int64_t(kept.size()) - std::int64_t(selection.indices.size());
  TESSERA_CHECK(!selection.indices.empty(), side_file, ": the ", kept.size(),
                " rows --where keeps are none of the signatures of ", gctx_file,
                "; loosen --where or give the GCTX file these signatures are in");

  selection.cols = gctx_cols.subset(selection.indices);
  std::vector<std::int64_t> rows(selection.indices.size());
  for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = side_row[std::size_t(selection.indices[k])];
  for (const auto& field : side.table.subset(rows).fields) {
    if (const MetaColumn* own = selection.cols.find(field.name)) {
      for (std::size_t k = 0; k < rows.size(); ++k)
        TESSERA_CHECK(same_value(*own, k, field, k), gctx_file, " and ", side_file, " disagree on field '", field.name,
                      "' of signature '", selection.cols.ids[k], "' (", own->as_string(k), " against ", field.text[k],
                      "); give the siginfo file released with this GCTX");
      continue;  // the GCTX's own value stays, in its own type
    }
    selection.cols.fields.push_back(field);
  }
  return selection;
}

const std::vector<std::string>& gene_spaces() {
  static const std::vector<std::string> spaces{"landmark", "best inferred", "inferred", "all"};
  return spaces;
}

GeneSelection select_genes(const MetaTable& gctx_rows, const fs::path& gctx_path, const SideTable& gene_info,
                           std::span<const std::string> spaces) {
  const std::string gene_file = "gene table '" + gene_info.path.string() + "'";
  const std::string gctx_file = "GCTX file '" + gctx_path.string() + "'";
  const bool all = std::find(spaces.begin(), spaces.end(), "all") != spaces.end();
  const MetaColumn& space = gene_info.table.require("feature_space", gene_file);
  const MetaColumn& symbol = gene_info.table.require("gene_symbol", gene_file);
  const auto gene_index = index_of(gene_info.table.ids);
  std::int64_t unknown = 0;
  std::string example;
  std::vector<std::int64_t> info_row(gctx_rows.size(), -1);
  for (std::size_t g = 0; g < gctx_rows.size(); ++g) {
    const auto found = gene_index.find(gctx_rows.ids[g]);
    if (found == gene_index.end()) {
      if (unknown++ == 0) example = gctx_rows.ids[g];
    } else {
      info_row[g] = found->second;
    }
  }
  TESSERA_CHECK(unknown == 0, gctx_file, ": ", unknown, " of its ", gctx_rows.size(), " genes (e.g. row id '", example,
                "') have no row in ", gene_file, " (field '", gene_info.id_column,
                "'); give the geneinfo file released with this GCTX");
  GeneSelection selection;
  std::map<std::string, std::int64_t> present;
  for (std::size_t g = 0; g < gctx_rows.size(); ++g) {
    const std::string& value = space.text[std::size_t(info_row[g])];
    ++present[value];
    if (all || std::find(spaces.begin(), spaces.end(), value) != spaces.end())
      selection.indices.push_back(std::int64_t(g));
  }
  if (selection.indices.empty()) {
    std::string counts;
    for (const auto& [value, count] : present)
      counts += (counts.empty() ? "'" : ", '") + value + "': " + std::to_string(count);
    std::string asked;
    for (const auto& s : spaces) asked += (asked.empty() ? "'" : ", '") + s + "'";
    TESSERA_FAIL(gene_file, ": --genes ", asked, " keeps none of the ", gctx_rows.size(), " genes of ", gctx_file,
                 " (feature_space of those genes: ", counts, "); choose one of the values present, or all");
  }
  selection.rows = gctx_rows.subset(selection.indices);
  std::vector<std::string> symbols;
  symbols.reserve(selection.indices.size());
  for (const std::int64_t g : selection.indices) symbols.push_back(symbol.text[std::size_t(info_row[std::size_t(g)])]);
  selection.rows.set_text("pr_gene_symbol", std::move(symbols));
  return selection;
}

}  // namespace tessera::io
