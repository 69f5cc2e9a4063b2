// GCT 1.2 / 1.3 text files (io/gct.h).
//
// The whole file is read into memory and split into lines first (a plate is a few MB): knowing the line count
// up front lets a truncated file be reported as such before the matrix is allocated, and every later error can
// name its line. Data cells are parsed with std::from_chars straight into Scalar, so a float file read as float
// is correctly rounded once and a float written with std::to_chars (shortest round-trip form) reads back with
// the same bits.
#include "io/gct.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/text_encoding.h"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
using Index = Eigen::Index;

// Prefix of every read error: "GCT file '<path>', line <n>".
std::string at_line(const fs::path& path, std::size_t line) {
  return detail::concat("GCT file '", path.string(), "', line ", line);
}

std::string read_whole_file(const fs::path& path) {
  TESSERA_CHECK(!fs::is_directory(path), "GCT file '", path.string(), "' is a folder; pass the .gct file itself");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  TESSERA_CHECK(file != nullptr, "cannot open GCT file '", path.string(), "': ", std::strerror(errno),
                "; check the path and that the file is readable");
  std::string text;
  char buffer[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, got);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  TESSERA_CHECK(!failed, "cannot read GCT file '", path.string(), "': read error");
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(text.find(separator, start), text.size());
    parts.push_back(text.substr(start, end - start));
    if (end == text.size()) return parts;
    start = end + 1;
  }
}

// Lines without their "\n" or "\r\n". Trailing blank lines are dropped, so the last line has content.
std::vector<std::string_view> split_lines(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte-order mark from some editors
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return {};
  auto lines = split(text, '\n');
  for (auto& line : lines)
    if (line.ends_with('\r')) line.remove_suffix(1);
  return lines;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when all of `text` is one number of type T.
template <typename T>
bool parse_whole(std::string_view text, T& value) {
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, value);
  return ec == std::errc() && ptr == last;
}

// Metadata spellings of "missing" (cmapPy's na_values that occur in CMap files).
bool is_missing_token(std::string_view s) {
  return s.empty() || s == "-666" || s == "-666.0" || s == "NaN" || s == "nan" || s == "NA";
}

// Types one metadata field as cmapPy does: all present values integers -> kInt64, all numbers -> kFloat64,
// otherwise kString (text kept verbatim, "-666" included). A field with no present value is kFloat64 of NaN,
// as pandas makes it. Unlike pandas, integers with a missing value stay kInt64 (NaN in `numbers`), so the
// field writes back without decimals. Integers beyond 2^53 stay strings: a double would lose digits.
MetaColumn typed_column(std::string name, std::vector<std::string> values) {
  constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
  bool any_present = false, all_integer = true, all_numeric = true;
  for (const auto& value : values) {
    if (is_missing_token(value)) continue;
    any_present = true;
    std::int64_t integer = 0;
    double number = 0;
    if (all_integer && !(parse_whole(value, integer) && std::abs(double(integer)) <= kExactIntegerLimit))
      all_integer = false;
    if (!all_integer && !parse_whole(value, number)) {
      all_numeric = false;
      break;
    }
  }
  if (any_present && !all_numeric) return MetaColumn{std::move(name), MetaType::kString, std::move(values), {}};
  MetaColumn column{std::move(name), any_present && all_integer ? MetaType::kInt64 : MetaType::kFloat64, {}, {}};
  column.numbers.reserve(values.size());
  for (const auto& value : values) {
    double number = std::numeric_limits<double>::quiet_NaN();
    if (!is_missing_token(value)) parse_whole(value, number);
    column.numbers.push_back(number);
  }
  return column;
}

// CMap's Level 3/4 plates repeat the column id as a column-metadata field named "id". MetaTable keeps ids apart
// from fields (GCTX stores them as the `id` dataset), so an identical copy is skipped; a differing one is an
// error because it could not be written back to GCTX. Compared as text, before typing, so "01" != "1".
void check_id_copy(const std::vector<std::string>& values, const std::vector<std::string>& ids, const fs::path& path,
                   std::size_t line, const char* which) {
  for (std::size_t i = 0; i < ids.size(); ++i)
    TESSERA_CHECK(values[i] == ids[i], at_line(path, line), ": the ", which, " metadata field 'id' has '", values[i],
                  "' where the ", which, " id is '", ids[i],
                  "'; rename the field (ids and fields share the name 'id' in GCTX)");
}

// Blank lines and NUL bytes, found line by line before anything else is parsed, so that each is reported at its
// own line; counted as rows they would be blamed on the row count or on the last line, and a NUL inside a
// metadata value would only fail much later, when an output is written.
void check_line_contents(const fs::path& path, const std::vector<std::string_view>& lines) {
  for (std::size_t index = 1; index < lines.size(); ++index) {
    const std::string_view line = lines[index];
    TESSERA_CHECK(line.find_first_not_of(' ') != std::string_view::npos, at_line(path, index + 1),
                  " is blank; a GCT file has no blank lines before its end: remove the line, or fill in the row "
                  "that is missing there");
    const std::size_t nul = line.find('\0');
    TESSERA_CHECK(nul == std::string_view::npos, at_line(path, index + 1), ", column ",
                  std::count(line.begin(), line.begin() + std::ptrdiff_t(nul), '\t') + 1,
                  ": a NUL byte (\\0); the file is damaged or binary: copy or regenerate it");
  }
}

struct Dimensions {
  GctVersion version = GctVersion::k1_3;
  Index rows = 0, cols = 0, row_fields = 0, col_fields = 0;
};

Dimensions read_dimensions(const fs::path& path, const std::vector<std::string_view>& lines) {
  TESSERA_CHECK(!lines.empty(), "GCT file '", path.string(), "' is empty; expected '#1.2' or '#1.3' on line 1");
  const std::string_view version = trim(lines[0]);
  auto printable = [](std::string_view text) {  // a binary file (e.g. a .gctx) would print control bytes
    std::string out(text.substr(0, 40));
    for (char& ch : out) ch = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    return out;
  };
  TESSERA_CHECK(version == "#1.2" || version == "#1.3", at_line(path, 1), ": found '", printable(version),
                "', expected '#1.2' or '#1.3'; this is not a GCT text file (a .gctx is HDF5: use read_gctx)");
  Dimensions dims;
  dims.version = version == "#1.2" ? GctVersion::k1_2 : GctVersion::k1_3;
  check_line_contents(path, lines);
  TESSERA_CHECK(lines.size() >= 2, at_line(path, 2), ": the file ends before the dimension line");
  const auto numbers = split(trim(lines[1]), '\t');
  const std::size_t expected = dims.version == GctVersion::k1_2 ? 2 : 4;
  TESSERA_CHECK(numbers.size() == expected, at_line(path, 2), ": found ", numbers.size(), " values, expected ",
                expected,
                dims.version == GctVersion::k1_2 ? " (rows, columns)"
                                                 : " (rows, columns, row fields, "
                                                   "column fields)",
                " separated by tabs; fix the dimension line");
  Index values[4] = {0, 0, 1, 0};  // a 1.2 file has one row field (Description) and no column fields
  for (std::size_t i = 0; i < expected; ++i) {
    std::int64_t value = -1;
    TESSERA_CHECK(parse_whole(numbers[i], value) && value >= 0, at_line(path, 2), ", column ", i + 1, ": '", numbers[i],
                  "' is not a non-negative integer; fix the dimension line");
    values[i] = Index(value);
  }
  dims.rows = values[0];
  dims.cols = values[1];
  dims.row_fields = values[2];
  dims.col_fields = values[3];
  TESSERA_CHECK(dims.rows > 0 && dims.cols > 0, at_line(path, 2), ": the file holds ", dims.rows, " rows (genes) x ",
                dims.cols,
                " columns (signatures); there is nothing to read: give a file with "
                "at least one gene and one signature");
  // Checked before anything is allocated, so a truncated file is reported as such.
  const std::size_t needed = 3 + std::size_t(dims.col_fields) + std::size_t(dims.rows);
  TESSERA_CHECK(lines.size() >= needed, at_line(path, lines.size()), ": the file ends after ", lines.size(),
                " lines, but line 2 promises ", dims.col_fields, " column-metadata lines and ", dims.rows,
                " data rows (", needed, " lines); the file is truncated: copy or regenerate it");
  TESSERA_CHECK(lines.size() == needed, at_line(path, needed + 1), ": more lines than the ", dims.rows,
                " data rows stated on line 2 (the file has ", lines.size(), " lines, expected ", needed,
                "); fix the row count on line 2 or remove the extra lines");
  return dims;
}

// The cells of a header or metadata line, checked for count.
std::vector<std::string_view> cells_of(const fs::path& path, const std::vector<std::string_view>& lines,
                                       std::size_t index, std::size_t expected, const char* what) {
  auto cells = split(lines[index], '\t');
  TESSERA_CHECK(cells.size() == expected, at_line(path, index + 1), " (", what, ") has ", cells.size(),
                " tab-separated cells, expected ", expected,
                " from the dimensions on line 2; fix the line or "
                "the dimensions");
  return cells;
}

// Data value: "NaN", "nan", "NA", CMap's "-666" / "-666.0" and an empty cell are missing (as cmapPy reads
// them); a leading '+' is accepted as pandas does.
// A number beyond Scalar's range is an error; one that underflows it rounds to 0 or a subnormal.
template <typename Scalar>
bool parse_value(std::string_view cell, Scalar& value) {
  if (cell.empty() || cell == "NaN" || cell == "nan" || cell == "NA" || cell == "-666" || cell == "-666.0") {
    value = std::numeric_limits<Scalar>::quiet_NaN();
    return true;
  }
  if (cell.size() > 1 && cell[0] == '+' && cell[1] != '-') cell.remove_prefix(1);
  const char* last = cell.data() + cell.size();
  const auto [ptr, ec] = std::from_chars(cell.data(), last, value);
  if (ptr != last) return false;
  if (ec == std::errc()) return true;
  // from_chars reports underflow as out of range; strtod rounds it (rare, so the copy does not matter).
  const std::string copy(cell);
  const double wide = std::strtod(copy.c_str(), nullptr);
  if (!(std::abs(wide) <= double(std::numeric_limits<Scalar>::max()))) return false;
  value = Scalar(wide);
  return true;
}

}  // namespace

template <typename Scalar>
BasicGeneMatrix<Scalar> read_gct(const fs::path& path) {
  const std::string text = read_whole_file(path);
  // Metadata text is kept as UTF-8 (io/text_encoding.h); a file that is UTF-8 (or ASCII) throughout, as nearly
  // all are, is not converted value by value.
  const bool utf8 = is_valid_utf8(text);
  auto meta_text = [utf8](std::string_view value) { return utf8 ? std::string(value) : as_utf8(value); };
  const auto lines = split_lines(text);
  const Dimensions dims = read_dimensions(path, lines);
  const std::size_t row_fields = std::size_t(dims.row_fields), cols = std::size_t(dims.cols);
  const std::size_t width = 1 + row_fields + cols;  // id, row fields, one cell per column

  BasicGeneMatrix<Scalar> matrix;
  const auto header = cells_of(path, lines, 2, width, "header");
  std::unordered_map<std::string_view, std::size_t> seen;  // id -> 1-based cell or line, to name both places
  matrix.cols.ids.reserve(cols);
  for (std::size_t c = 0; c < cols; ++c) {
    const std::string_view id = header[1 + row_fields + c];
    const auto [it, fresh] = seen.emplace(id, 2 + row_fields + c);
    TESSERA_CHECK(fresh, at_line(path, 3), ", column ", 2 + row_fields + c, ": column id '", id,
                  "' repeats the one in column ", it->second, "; column ids must be unique");
    matrix.cols.ids.push_back(meta_text(id));
  }

  // Column metadata: "<field>\t<placeholders under the row fields>\t<one value per column>".
  for (Index f = 0; f < dims.col_fields; ++f) {
    const std::size_t index = 3 + std::size_t(f);
    const auto cells = cells_of(path, lines, index, width, "column metadata");
    std::vector<std::string> values;
    values.reserve(cols);
    for (std::size_t c = 0; c < cols; ++c) values.push_back(meta_text(cells[1 + row_fields + c]));
    std::string name = meta_text(cells[0]);
    TESSERA_CHECK(matrix.cols.find(name) == nullptr, at_line(path, index + 1), ": column metadata field '", name,
                  "' appears twice; rename or remove one");
    if (name == "id") {
      check_id_copy(values, matrix.cols.ids, path, index + 1, "column");
      continue;
    }
    matrix.cols.fields.push_back(typed_column(std::move(name), std::move(values)));
  }

  // Data lines: "<row id>\t<row field values>\t<one number per column>".
  const std::size_t first_data = 3 + std::size_t(dims.col_fields);
  const Index rows = dims.rows;
  std::vector<std::vector<std::string>> row_values(row_fields, std::vector<std::string>(std::size_t(rows)));
  matrix.values.resize(rows, dims.cols);
  matrix.rows.ids.reserve(std::size_t(rows));
  seen.clear();
  for (Index r = 0; r < rows; ++r) {
    const std::size_t line_number = first_data + std::size_t(r) + 1;
    const std::string_view line = lines[line_number - 1];
    const std::size_t cell_count = std::size_t(std::count(line.begin(), line.end(), '\t')) + 1;
    TESSERA_CHECK(cell_count == width, at_line(path, line_number), line.empty() ? " is empty" : " has ",
                  line.empty() ? "" : std::to_string(cell_count) + " tab-separated cells", ", expected ", width,
                  " (id, ", row_fields, " row fields, ", cols, " values); fix the line or the dimensions on line 2");
    std::size_t start = 0;
    auto next_cell = [&] {
      const std::size_t tab = std::min(line.find('\t', start), line.size());
      const std::string_view cell = line.substr(start, tab - start);
      start = tab + 1;
      return cell;
    };
    const std::string_view id = next_cell();
    const auto [it, fresh] = seen.emplace(id, line_number);
    TESSERA_CHECK(fresh, at_line(path, line_number), ": row id '", id, "' repeats the one on line ", it->second,
                  "; row ids must be unique");
    matrix.rows.ids.push_back(meta_text(id));
    for (std::size_t f = 0; f < row_fields; ++f) row_values[f][std::size_t(r)] = meta_text(next_cell());
    for (std::size_t c = 0; c < cols; ++c) {
      const std::string_view cell = next_cell();
      TESSERA_CHECK(parse_value(cell, matrix.values(r, Index(c))), at_line(path, line_number), ", column ",
                    2 + row_fields + c, " (row '", id, "', column '", matrix.cols.ids[c], "'): cannot read '",
                    cell.substr(0, 60), "' as a ", sizeof(Scalar) == 4 ? "float" : "double",
                    " number; write a number in range, or NaN for a missing value");
    }
  }
  for (std::size_t f = 0; f < row_fields; ++f) {
    std::string name = meta_text(header[1 + f]);
    TESSERA_CHECK(matrix.rows.find(name) == nullptr, at_line(path, 3), ", column ", 2 + f, ": row metadata field '",
                  name, "' appears twice; rename or remove one");
    if (name == "id") {
      check_id_copy(row_values[f], matrix.rows.ids, path, 3, "row");
      continue;
    }
    matrix.rows.fields.push_back(typed_column(std::move(name), std::move(row_values[f])));
  }
  return matrix;
}

namespace {

// Ids and text values are written verbatim, so a tab or line break inside one would shift every later cell.
void check_cell_text(const std::string& text, const fs::path& path, const char* what, std::size_t index) {
  TESSERA_CHECK(text.find_first_of("\t\r\n") == std::string::npos, "cannot write GCT file '", path.string(),
                "': ", what, " ", index, " ('", text.substr(0, 60),
                "') contains a tab or line break; "
                "replace it before writing");
}

void check_shape(const MetaTable& table, Index expected, const fs::path& path, const char* what) {
  TESSERA_CHECK(Index(table.size()) == expected, "cannot write GCT file '", path.string(), "': ", table.size(), " ",
                what, " ids for ", expected, " matrix ", what, "s");
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < table.size(); ++i) {
    check_cell_text(table.ids[i], path, what, i);
    const auto [it, fresh] = seen.emplace(table.ids[i], i);
    TESSERA_CHECK(fresh, "cannot write GCT file '", path.string(), "': ", what, " id '", table.ids[i], "' appears at ",
                  it->second, " and ", i, "; ids must be unique");
  }
  for (const auto& field : table.fields) {
    TESSERA_CHECK(field.size() == table.size(), "cannot write GCT file '", path.string(), "': ", what, " field '",
                  field.name, "' has ", field.size(), " values for ", table.size(), " ids");
    check_cell_text(field.name, path, "field name of", 0);
    if (field.type == MetaType::kString)
      for (std::size_t i = 0; i < field.size(); ++i) check_cell_text(field.text[i], path, field.name.c_str(), i);
  }
}

// Shortest text that reads back to the same Scalar; NaN as "NaN" (cmapPy's data_null).
template <typename Scalar>
void append_value(std::string& out, Scalar value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

template <typename Scalar>
std::string gct_text(const BasicGeneMatrix<Scalar>& matrix, GctVersion version) {
  const auto& rows = matrix.rows;
  const auto& cols = matrix.cols;
  const bool v13 = version == GctVersion::k1_3;
  std::string out;
  out.reserve(std::size_t(matrix.values.size()) * 10 + 4096);
  out += v13 ? "#1.3\n" : "#1.2\n";
  out += detail::concat(matrix.num_genes(), '\t', matrix.num_signatures());
  if (v13) out += detail::concat('\t', rows.fields.size(), '\t', cols.fields.size());
  out += '\n';

  out += v13 ? "id" : "Name\tDescription";
  if (v13)
    for (const auto& field : rows.fields) out += '\t' + field.name;
  for (const auto& id : cols.ids) out += '\t' + id;
  out += '\n';

  if (v13) {
    for (const auto& field : cols.fields) {
      out += field.name;
      for (std::size_t f = 0; f < rows.fields.size(); ++f) out += "\t-666";  // cmapPy's filler_null
      for (std::size_t c = 0; c < cols.size(); ++c) (out += '\t') += field.as_string(c);
      out += '\n';
    }
  }

  for (Index r = 0; r < matrix.num_genes(); ++r) {
    const std::size_t row = std::size_t(r);
    out += rows.ids[row];
    if (v13) {
      for (const auto& field : rows.fields) (out += '\t') += field.as_string(row);
    } else {
      out += '\t';
      out += rows.fields.empty() ? rows.ids[row] : rows.fields.front().as_string(row);
    }
    for (Index c = 0; c < matrix.num_signatures(); ++c) {
      out += '\t';
      append_value(out, matrix.values(r, c));
    }
    out += '\n';
  }
  return out;
}

}  // namespace

template <typename Scalar>
void write_gct(const fs::path& path, const BasicGeneMatrix<Scalar>& matrix, GctVersion version) {
  check_shape(matrix.rows, matrix.num_genes(), path, "row");
  check_shape(matrix.cols, matrix.num_signatures(), path, "column");
  const std::string text = gct_text(matrix, version);
  write_bytes_atomically(path, text);
}

template BasicGeneMatrix<float> read_gct<float>(const fs::path&);
template BasicGeneMatrix<double> read_gct<double>(const fs::path&);
template void write_gct<float>(const fs::path&, const BasicGeneMatrix<float>&, GctVersion);
template void write_gct<double>(const fs::path&, const BasicGeneMatrix<double>&, GctVersion);

}  // namespace tessera::io
