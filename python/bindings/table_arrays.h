// The (cell type x perturbation) table that every command builds from its input (jobs::load_table: signatures
// aggregated, controls subtracted, an .h5ad pseudobulked as its cells are read), as arrays for Python.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "jobs/command_line.h"

namespace tessera::python {

namespace py = pybind11;

// The name under which the table's options are listed (command_options) and parsed: not a command of its own.
inline constexpr const char* kTableOptionsName = "perturbation-table";

// The options of the table: --input, --seed (of the built-in screen) and the aggregation options of `impute`.
jobs::po::options_description table_options();

// Collective over MPI_COMM_WORLD: parses `args` against table_options() and builds the table as `impute` would.
// Returns (signatures, entries, genes, controls, cells): signatures genes x measured entries (float64), entries
// and cells as metadata tables (ids, fields) as gene_matrix_arrays.h passes them, controls genes x cell types.
py::tuple load_table(const std::vector<std::string>& args);

}  // namespace tessera::python
