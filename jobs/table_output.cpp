#include "jobs/table_output.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/partition.h"
#include "io/gctx_writer.h"

namespace tessera::jobs {

namespace {

// Columns per write: 1,024 signatures of 978 genes are 4 MB of float32.
constexpr std::int64_t kSlabColumns = 1024;

}  // namespace

void write_entries(const engine::Context& ctx, const std::filesystem::path& path, const io::PerturbationTable& table,
                   const std::vector<std::int64_t>& entries, const Eigen::MatrixXd& values, const std::string& field,
                   const std::vector<int>& field_values, const io::MetaTable& pert_fields) {
  TESSERA_ASSERT(values.rows() == table.num_genes() && values.cols() == Eigen::Index(entries.size()) &&
                 field_values.size() == entries.size());
  TESSERA_ASSERT(pert_fields.fields.empty() || pert_fields.ids == table.perts);
  io::MetaTable rows, cols;
  rows.ids = table.genes;
  if (!table.gene_symbols.empty()) rows.set_text("pr_gene_symbol", table.gene_symbols);
  std::vector<std::string> cells, perts;
  for (auto entry : entries) {
    cells.push_back(table.cells[std::size_t(table.cell_of(entry))]);
    perts.push_back(table.perts[std::size_t(table.pert_of(entry))]);
    cols.ids.push_back(cells.back() + ":" + perts.back());
  }
  cols.set_text("cell_id", std::move(cells));
  cols.set_text("pert_id", std::move(perts));
  for (const auto& pert_field : pert_fields.fields) {
    std::vector<std::string> text;
    text.reserve(entries.size());
    for (auto entry : entries) text.push_back(pert_field.as_string(std::size_t(table.pert_of(entry))));
    cols.set_text(pert_field.name, std::move(text));
  }
  cols.fields.push_back(
      io::MetaColumn{field, io::MetaType::kInt32, {}, std::vector<double>(field_values.begin(), field_values.end())});

  io::GctxSlabWriter writer(path, ctx, rows, cols);
  const auto mine = engine::block_range(std::int64_t(entries.size()), ctx.size(), ctx.rank());
  for (std::int64_t begin = mine.begin; begin < mine.end; begin += kSlabColumns) {
    const std::int64_t width = std::min(kSlabColumns, mine.end - begin);
    const Eigen::MatrixXf slab = values.middleCols(begin, width).cast<float>();
    writer.write(begin, slab);
  }
  writer.close();
}

}  // namespace tessera::jobs
