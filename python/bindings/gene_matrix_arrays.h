// GCTX and GCT files as numpy arrays and metadata columns, through the engine's own readers and writers
// (io/gctx.h, io/gct.h): what Python reads is exactly what a command reads.
//
// A metadata table crosses as (ids, [(field name, kind, values)]): kind "str" with a list of str, or "int" /
// "float" with a float64 array in which NaN marks a missing value (-666 in the file). The Python side
// (tessera/io.py) turns it into a pandas DataFrame indexed by id.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "io/gene_matrix.h"

namespace tessera::python {

namespace py = pybind11;

// Local (this rank reads the whole file): (values, rows, cols), values genes x signatures in the file's type
// (float32 or float64; GCT: float64), Fortran order.
py::tuple read_gene_matrix(const std::string& path);

// A matrix with its metadata as read_gene_matrix returns it (values copied, Fortran order).
template <typename Scalar>
py::tuple gene_matrix_to_python(const io::BasicGeneMatrix<Scalar>& matrix);

// Local (call on one rank): writes values (genes x signatures, float32 or float64, any memory order or stride) with
// its metadata as GCTX (or GCT for a .gct name), atomically (io/atomic_file.h). Every shape or type mismatch is a
// tessera::Error naming the table and the field.
void write_gene_matrix(const std::string& path, const py::array& values, const py::tuple& rows, const py::tuple& cols);

}  // namespace tessera::python
