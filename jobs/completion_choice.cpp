#include "jobs/completion_choice.h"

#include <algorithm>

#include "engine/error.h"
#include "io/csv.h"

namespace tessera::jobs {

namespace {

bool is_dropped(const solvers::imputation::FoldPlan& plan, const std::string& cell) {
  return std::find(plan.dropped_cells.begin(), plan.dropped_cells.end(), cell) != plan.dropped_cells.end();
}

void check_not_dropped(const solvers::imputation::FoldPlan& plan, const std::string& cell, const std::string& where) {
  TESSERA_CHECK(!is_dropped(plan, cell), where, " names cell type '", cell,
                "', which was dropped for having too few measured perturbations to cross-validate; lower --min-drugs "
                "or leave it out");
}

// Indices of the names in `ids` (the table's sorted cell or perturbation ids), or every index when the option is
// not given.
std::vector<std::int64_t> chosen(const po::variables_map& vm, const std::string& option,
                                 const std::vector<std::string>& ids, const std::string& kind) {
  std::vector<std::int64_t> indices;
  if (!given(vm, option)) {
    for (std::size_t i = 0; i < ids.size(); ++i) indices.push_back(std::int64_t(i));
    return indices;
  }
  for (const auto& name : split_list(vm[option].as<std::vector<std::string>>())) {
    const auto it = std::lower_bound(ids.begin(), ids.end(), name);
    TESSERA_CHECK(it != ids.end() && *it == name, "--", option, " names ", kind, " '", name,
                  "', which is not in the table (", ids.size(), " ", kind, "s); check the spelling against the input");
    indices.push_back(std::int64_t(it - ids.begin()));
  }
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  return indices;
}

std::vector<std::int64_t> pairs_from_file(const std::string& path, const io::PerturbationTable& table,
                                          const solvers::imputation::FoldPlan& plan) {
  const io::CsvTable csv = io::read_csv(path);
  const std::size_t cell_column = csv.column("cell_id", path), pert_column = csv.column("pert_id", path);
  std::vector<std::int64_t> entries;
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const std::string where = path + " line " + std::to_string(csv.line_numbers[r]);
    const std::string& cell = csv.rows[r][cell_column];
    const std::string& pert = csv.rows[r][pert_column];
    const auto c = table.find_cell(cell), p = table.find_pert(pert);
    TESSERA_CHECK(c >= 0, where, ": cell_id '", cell, "' is not a cell type of the table");
    TESSERA_CHECK(p >= 0, where, ": pert_id '", pert, "' is not a perturbation of the table");
    check_not_dropped(plan, cell, where);
    entries.push_back(table.entry(c, p));
  }
  TESSERA_CHECK(!entries.empty(), path, ": no pairs to complete (the file has a header and no rows)");
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  return entries;
}

}  // namespace

void add_completion_options(po::options_description& options) {
  options.add_options()("complete-cells", po::value<std::vector<std::string>>()->multitoken(),
                        "complete only these cell types (comma list); default all")(
      "complete-perts", po::value<std::vector<std::string>>()->multitoken(),
      "complete only these perturbations (comma list); default all")(
      "complete-pairs", po::value<std::string>(),
      "CSV cell_id,pert_id of the pairs to complete (instead of the two above)");
}

void check_completion_options(const po::variables_map& vm) {
  for (const char* name : {"complete-cells", "complete-perts"})
    forbid_together(vm, "complete-pairs", name, "a pairs file names each pair, the lists name rows and columns");
}

std::vector<std::int64_t> entries_to_complete(const po::variables_map& vm, const io::PerturbationTable& table,
                                              const solvers::imputation::FoldPlan& plan) {
  if (given(vm, "complete-pairs")) return pairs_from_file(vm["complete-pairs"].as<std::string>(), table, plan);
  const auto cells = chosen(vm, "complete-cells", table.cells, "cell type");
  const auto perts = chosen(vm, "complete-perts", table.perts, "perturbation");
  std::vector<std::int64_t> entries;
  for (const auto c : cells) {
    const std::string& cell = table.cells[std::size_t(c)];
    if (given(vm, "complete-cells"))
      check_not_dropped(plan, cell, "--complete-cells");
    else if (is_dropped(plan, cell))
      continue;
    for (const auto p : perts) entries.push_back(table.entry(c, p));
  }
  return entries;
}

}  // namespace tessera::jobs
