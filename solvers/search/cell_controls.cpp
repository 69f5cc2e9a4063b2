#include "solvers/search/cell_controls.h"

#include <cmath>
#include <cstdlib>
#include <map>

#include "engine/error.h"
#include "solvers/search/query.h"

namespace tessera::solvers::search {

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n\"");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n\"") - first + 1);
}

}  // namespace

CellControls match_cell_controls(const io::CsvTable& table, const std::string& where, const Library& library) {
  TESSERA_CHECK(table.header.size() >= 2, where, ": a controls file needs a cell column and gene columns");
  const std::int64_t genes = library.num_genes();
  CellControls out;
  const std::span<const std::string> names(table.header.begin() + 1, table.header.end());
  const auto matched = match_gene_ids(names, library.rows());
  out.field = matched.field;
  const std::vector<int>& rows = matched.rows;
  std::vector<int> column_of_row(std::size_t(genes), -1);
  for (std::size_t c = 0; c < rows.size(); ++c)
    if (rows[c] >= 0) column_of_row[std::size_t(rows[c])] = int(c + 1);
  std::size_t missing = 0;
  std::string examples;
  for (std::int64_t g = 0; g < genes; ++g)
    if (column_of_row[std::size_t(g)] < 0 && ++missing <= 5)
      examples += (examples.empty() ? "" : ", ") + library.rows().ids[std::size_t(g)];
  TESSERA_CHECK(missing == 0, where, ": ", missing, " of the library's ", genes, " genes have no column (e.g. ",
                examples, "; matched by ", out.field, "): the controls must cover every library gene");

  // The library's cell types, in order of first appearance.
  std::map<std::string, std::int64_t> index_of;
  out.cell_of.resize(std::size_t(library.size()));
  for (std::int64_t k = 0; k < library.size(); ++k) {
    const auto& cell = library.info(k).cell;
    TESSERA_CHECK(!cell.empty(), "library signature ", library.info(k).id,
                  " has no cell_id: latent pairs need each signature's cell type");
    auto [at, added] = index_of.emplace(cell, std::int64_t(out.cells.size()));
    if (added) out.cells.push_back(cell);
    out.cell_of[std::size_t(k)] = at->second;
  }
  std::map<std::string, std::size_t> row_of_cell;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const std::string cell = trim(table.rows[r][0]);
    const int line = r < table.line_numbers.size() ? table.line_numbers[r] : int(r + 2);
    TESSERA_CHECK(row_of_cell.emplace(cell, r).second, where, " line ", line, ": cell '", cell, "' listed twice");
  }
  out.values.resize(genes, Eigen::Index(out.cells.size()));
  for (std::size_t c = 0; c < out.cells.size(); ++c) {
    const auto hit = row_of_cell.find(out.cells[c]);
    TESSERA_CHECK(hit != row_of_cell.end(), where, ": no control row for cell type '", out.cells[c],
                  "' of the library (first column of the controls file); leave it out with --cell or add its "
                  "baseline profile");
    const auto& row = table.rows[hit->second];
    for (std::int64_t g = 0; g < genes; ++g) {
      const std::string text = trim(row[std::size_t(column_of_row[std::size_t(g)])]);
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      TESSERA_CHECK(!text.empty() && end != nullptr && *end == '\0' && std::isfinite(value), where, ": cell '",
                    out.cells[c], "', gene ", table.header[std::size_t(column_of_row[std::size_t(g)])],
                    ": not a finite number ('", text, "')");
      out.values(g, Eigen::Index(c)) = float(value);
    }
  }
  return out;
}

CellControls read_cell_controls(const std::filesystem::path& path, const Library& library) {
  return match_cell_controls(io::read_csv(path), path.string(), library);
}

}  // namespace tessera::solvers::search
