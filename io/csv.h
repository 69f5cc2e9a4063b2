// Minimal CSV for Tessera's small tables (fold files, metrics, query signatures): comma-separated, first line a
// header, optional double quotes around a cell (with "" for a quote inside). Errors name the file and the line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tessera::io {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // every row has header.size() cells
  std::vector<int> line_numbers;               // line in the file of each row (1-based), for error messages

  // Index of a header column, or an Error naming `where` (the file) and the column.
  std::size_t column(const std::string& name, const std::string& where) const;
};

CsvTable read_csv(const std::filesystem::path& path);

// Quotes cells that need it. Writes to a temporary name and renames.
void write_csv(const std::filesystem::path& path, const CsvTable& table);
// The same rows as CSV text (for printing).
std::string to_csv_text(const CsvTable& table);

// A cell for a double: the shortest text that reads back to the same value (0.7, not 0.69999999999999996).
std::string shortest_text(double value);

}  // namespace tessera::io
