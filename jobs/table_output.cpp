#include "jobs/table_output.h"

namespace tessera::jobs {

io::GeneMatrix entries_as_gene_matrix(const io::PerturbationTable& table, const std::vector<std::int64_t>& entries,
                                      const Eigen::MatrixXd& values) {
  io::GeneMatrix out;
  out.values = values.cast<float>();
  out.rows.ids = table.genes;
  if (!table.gene_symbols.empty()) out.rows.set_text("pr_gene_symbol", table.gene_symbols);
  std::vector<std::string> cells, perts;
  for (auto entry : entries) {
    cells.push_back(table.cells[std::size_t(table.cell_of(entry))]);
    perts.push_back(table.perts[std::size_t(table.pert_of(entry))]);
    out.cols.ids.push_back(cells.back() + ":" + perts.back());
  }
  out.cols.set_text("cell_id", std::move(cells));
  out.cols.set_text("pert_id", std::move(perts));
  return out;
}

void add_int_field(io::MetaTable& meta, const std::string& name, const std::vector<int>& values) {
  io::MetaColumn column{name, io::MetaType::kInt32, {}, std::vector<double>(values.begin(), values.end())};
  meta.fields.push_back(std::move(column));
}

}  // namespace tessera::jobs
