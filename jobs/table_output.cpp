#include "jobs/table_output.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/partition.h"
#include "io/gctx_writer.h"
#include "io/h5ad.h"
#include "io/h5ad_writer.h"

namespace tessera::jobs {

namespace {

// Columns per write: 1,024 signatures of 978 genes are 4 MB of float32.
constexpr std::int64_t kSlabColumns = 1024;

}  // namespace

const engine::NameTable<TableFormat>& name_table(TableFormat) {
  static const engine::NameTable<TableFormat> table{
      {TableFormat::kAuto, "auto"}, {TableFormat::kGctx, "gctx"}, {TableFormat::kH5ad, "h5ad"}};
  return table;
}

std::string table_extension(TableFormat format, const std::string& input_path) {
  if (format == TableFormat::kAuto) format = io::is_h5ad_path(input_path) ? TableFormat::kH5ad : TableFormat::kGctx;
  return format == TableFormat::kH5ad ? ".h5ad" : ".gctx";
}

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
  const auto mine = engine::block_range(std::int64_t(entries.size()), ctx.size(), ctx.rank());
  auto write_slabs = [&](auto& writer, auto write) {
    for (std::int64_t begin = mine.begin; begin < mine.end; begin += kSlabColumns) {
      const std::int64_t width = std::min(kSlabColumns, mine.end - begin);
      const Eigen::MatrixXf slab = values.middleCols(begin, width).cast<float>();
      write(writer, begin, slab);
    }
    writer.close();
  };
  if (io::is_h5ad_path(path)) {
    // obs = entries, var = genes; the flag is text so that anndata shows it as a categorical, as scverse tools
    // keep labels.
    std::vector<std::string> labels;
    for (const int value : field_values) labels.push_back(std::to_string(value));
    cols.set_text(field, std::move(labels));
    io::H5adSlabWriter writer(path, ctx, cols, rows);
    write_slabs(writer, [](io::H5adSlabWriter& w, std::int64_t first, const Eigen::MatrixXf& slab) {
      w.write_rows(first, slab);
    });
    return;
  }
  cols.fields.push_back(
      io::MetaColumn{field, io::MetaType::kInt32, {}, std::vector<double>(field_values.begin(), field_values.end())});
  io::GctxSlabWriter writer(path, ctx, rows, cols);
  write_slabs(writer,
              [](io::GctxSlabWriter& w, std::int64_t first, const Eigen::MatrixXf& slab) { w.write(first, slab); });
}

}  // namespace tessera::jobs
