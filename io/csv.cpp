// Small CSV tables (io/csv.h), close to RFC 4180.
//
// Reading is one pass of a small state machine over the whole file, because a quoted cell may hold commas,
// doubled quotes and line breaks, so records cannot be found by splitting on '\n' first. Each record remembers
// the line it starts on for error messages. Writing quotes only the cells that need it, so plain tables stay
// readable, and always ends lines with "\n".
#include "io/csv.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/text_encoding.h"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;

std::string read_whole_file(const fs::path& path) {
  TESSERA_CHECK(!fs::is_directory(path), "CSV file '", path.string(), "' is a folder; pass the .csv file itself");
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in.is_open(), "cannot open CSV file '", path.string(), "': ", std::strerror(errno),
                "; check the path and that the file is readable");
  std::ostringstream text;
  text << in.rdbuf();
  TESSERA_CHECK(!in.bad(), "cannot read CSV file '", path.string(), "': read error");
  return text.str();
}

struct Record {
  std::vector<std::string> cells;
  int line = 0;             // 1-based line the record starts on
  bool blank_line = false;  // an empty physical line: ignored at the end of the file
};

// Splits the text into records. Line ends are "\n" or "\r\n"; inside quotes they are kept as written.
std::vector<Record> parse_records(std::string_view text, const fs::path& path) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // byte-order mark written by spreadsheets
  std::vector<Record> records;
  Record record;
  std::string cell;
  int line = 1;
  record.line = line;
  bool cell_started = false;  // distinguishes an empty line from a line holding one empty quoted cell
  std::size_t i = 0;
  auto end_record = [&] {
    record.blank_line = record.cells.empty() && cell.empty() && !cell_started;
    record.cells.push_back(std::move(cell));
    records.push_back(std::move(record));
    record = Record{};
    record.line = line;
    cell.clear();
    cell_started = false;
  };
  while (i < text.size()) {
    const char ch = text[i];
    if (ch == '"' && cell.empty() && !cell_started) {
      // Quoted cell: runs to the next lone quote; "" is a literal quote.
      const int opened_on = line;
      ++i;
      while (true) {
        TESSERA_CHECK(i < text.size(), "CSV file '", path.string(), "', line ", opened_on,
                      ": a quoted cell is never closed; add the closing '\"' (write \"\" for a quote inside)");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        cell += text[i++];
      }
      cell_started = true;
      const bool at_boundary = i == text.size() || text[i] == ',' || text[i] == '\n' ||
                               (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
      TESSERA_CHECK(at_boundary, "CSV file '", path.string(), "', line ", line,
                    ": unexpected text after the closing quote of a cell; quote the whole cell and write \"\" "
                    "for a quote inside");
      continue;
    }
    if (ch == ',') {
      record.cells.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
      ++i;
      continue;
    }
    if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;  // the '\n' ends the record
      continue;
    }
    if (ch == '\n') {
      ++line;
      ++i;
      end_record();
      continue;
    }
    cell += ch;
    cell_started = true;
    ++i;
  }
  // A final line without a newline still counts as a record.
  if (!record.cells.empty() || !cell.empty() || cell_started) end_record();
  return records;
}

bool needs_quotes(const std::string& cell, bool only_cell) {
  // A lone empty cell would be written as an empty line, which reads back as a blank line, not a row.
  if (only_cell && cell.empty()) return true;
  return cell.find_first_of(",\"\r\n") != std::string::npos;
}

void append_row(std::string& out, const std::vector<std::string>& cells) {
  for (std::size_t c = 0; c < cells.size(); ++c) {
    if (c > 0) out += ',';
    const std::string& cell = cells[c];
    if (!needs_quotes(cell, cells.size() == 1)) {
      out += cell;
      continue;
    }
    out += '"';
    for (char ch : cell) {
      if (ch == '"') out += '"';
      out += ch;
    }
    out += '"';
  }
  out += '\n';
}

}  // namespace

std::size_t CsvTable::column(const std::string& name, const std::string& where) const {
  for (std::size_t c = 0; c < header.size(); ++c)
    if (header[c] == name) return c;
  std::string present;
  for (const auto& h : header) present += (present.empty() ? "'" : ", '") + h + "'";
  TESSERA_FAIL(where, ": no column '", name, "' in the header (columns: ", present.empty() ? "none" : present,
               "); add the column or correct its name");
}

CsvTable read_csv(const fs::path& path) {
  const std::string text = read_whole_file(path);
  // A NUL byte would cut ids short wherever they are used as C strings (HDF5, printf): refused at its line.
  if (const std::size_t nul = text.find('\0'); nul != std::string::npos)
    TESSERA_FAIL("CSV file '", path.string(), "', line ",
                 std::count(text.begin(), text.begin() + std::ptrdiff_t(nul), '\n') + 1,
                 ": a NUL byte (\\0); the file is damaged or binary: copy or regenerate it");
  auto records = parse_records(text, path);
  // Cells are metadata (ids, names) or numbers; text that is not UTF-8 is read as Latin-1 (io/text_encoding.h).
  if (!is_valid_utf8(text))
    for (auto& record : records)
      for (auto& cell : record.cells) cell = as_utf8(cell);
  while (!records.empty() && records.back().blank_line) records.pop_back();
  TESSERA_CHECK(!records.empty(), "CSV file '", path.string(), "' is empty; expected a header line");

  CsvTable table;
  table.header = std::move(records.front().cells);
  const std::size_t width = table.header.size();
  std::unordered_map<std::string_view, std::size_t> seen;  // name -> its column, to name both places
  for (std::size_t c = 0; c < width; ++c) {
    const auto [it, fresh] = seen.emplace(table.header[c], c);
    TESSERA_CHECK(fresh, "CSV file '", path.string(), "', line ", records.front().line, ": column ", c + 1,
                  " is named '", table.header[c], "' like column ", it->second + 1,
                  "; column names must be unique: rename one");
  }
  table.rows.reserve(records.size() - 1);
  table.line_numbers.reserve(records.size() - 1);
  for (std::size_t r = 1; r < records.size(); ++r) {
    Record& record = records[r];
    TESSERA_CHECK(record.cells.size() == width, "CSV file '", path.string(), "', line ", record.line, ": ",
                  record.blank_line ? std::string("empty line") : std::to_string(record.cells.size()) + " cells",
                  " where the header has ", width, "; fix the row (quote cells that contain commas)");
    table.rows.push_back(std::move(record.cells));
    table.line_numbers.push_back(record.line);
  }
  return table;
}

std::string to_csv_text(const CsvTable& table) {
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    TESSERA_CHECK(table.rows[r].size() == table.header.size(), "CSV table row ", r, " has ", table.rows[r].size(),
                  " cells where the header has ", table.header.size());
  std::string out;
  append_row(out, table.header);
  for (const auto& row : table.rows) append_row(out, row);
  return out;
}

void write_csv(const fs::path& path, const CsvTable& table) {
  const std::string text = to_csv_text(table);
  write_bytes_atomically(path, text);
}

std::string shortest_text(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

}  // namespace tessera::io
