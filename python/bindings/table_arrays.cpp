#include "python/bindings/table_arrays.h"

#include "engine/context.h"
#include "io/gene_matrix.h"
#include "jobs/table_input.h"
#include "python/bindings/gene_matrix_arrays.h"

namespace tessera::python {

namespace {

io::MetaTable gene_table(const io::PerturbationTable& table) {
  io::MetaTable genes;
  genes.ids = table.genes;
  if (!table.gene_symbols.empty()) genes.set_text("pr_gene_symbol", table.gene_symbols);
  return genes;
}

io::MetaColumn numbers(const std::string& name, std::vector<double> values) {
  io::MetaColumn column;
  column.name = name;
  column.type = io::MetaType::kInt64;
  column.numbers = std::move(values);
  return column;
}

// The measured entries, in the table's entry order (the columns of table.signatures): id "cell:perturbation".
io::GeneMatrixD signatures_of(const io::PerturbationTable& table) {
  io::GeneMatrixD matrix;
  matrix.values = table.signatures;
  matrix.rows = gene_table(table);
  std::vector<std::string> cells, perts;
  std::vector<double> replicates;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!table.observed[std::size_t(e)]) continue;
    cells.push_back(table.cells[std::size_t(table.cell_of(e))]);
    perts.push_back(table.perts[std::size_t(table.pert_of(e))]);
    matrix.cols.ids.push_back(cells.back() + ":" + perts.back());
    replicates.push_back(table.replicates[std::size_t(e)]);
  }
  matrix.cols.set_text("cell_id", std::move(cells));
  matrix.cols.set_text("pert_id", std::move(perts));
  matrix.cols.fields.push_back(numbers("replicates", std::move(replicates)));
  return matrix;
}

io::GeneMatrixD controls_of(const io::PerturbationTable& table) {
  io::GeneMatrixD matrix;
  matrix.values = table.controls;
  matrix.rows = gene_table(table);
  matrix.cols.ids = table.cells;
  matrix.cols.fields.push_back(
      numbers("controls", std::vector<double>(table.control_counts.begin(), table.control_counts.end())));
  return matrix;
}

}  // namespace

jobs::po::options_description table_options() {
  jobs::po::options_description options("perturbation table options");
  options.add_options()("input,i", jobs::po::value<std::string>()->default_value(""),
                        "GCTX, GCT or .h5ad file; default: the built-in simulated screen")(
      "seed", jobs::po::value<std::uint64_t>()->default_value(1), "seed of the built-in simulated screen");
  jobs::add_aggregation_options(options);
  return options;
}

py::tuple load_table(const std::vector<std::string>& args) {
  const engine::Context world;
  const jobs::CommandSpec spec{kTableOptionsName, "", "The (cell type x perturbation) table of an input."};
  const auto vm = jobs::parse_options(world, spec, table_options(), args);
  TESSERA_CHECK(vm.has_value(), "perturbation_table takes no --help: use help(tessera.perturbation_table)");
  jobs::TableInput input;
  {
    py::gil_scoped_release release;
    input = jobs::load_table(world, (*vm)["input"].as<std::string>(), jobs::aggregation_options(*vm),
                             (*vm)["seed"].as<std::uint64_t>());
  }
  return py::make_tuple(gene_matrix_to_python(signatures_of(input.table)),
                        gene_matrix_to_python(controls_of(input.table)), input.source);
}

}  // namespace tessera::python
