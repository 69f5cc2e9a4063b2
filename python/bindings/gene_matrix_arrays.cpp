#include "python/bindings/gene_matrix_arrays.h"

#include <pybind11/stl.h>

#include <cmath>
#include <filesystem>

#include "engine/context.h"
#include "engine/error.h"
#include "io/gct.h"
#include "io/gctx.h"

namespace tessera::python {

namespace {

bool is_gct(const std::string& path) { return std::filesystem::path(path).extension() == ".gct"; }

const char* kind_of(io::MetaType type) {
  switch (type) {
    case io::MetaType::kString:
      return "str";
    case io::MetaType::kInt32:
    case io::MetaType::kInt64:
      return "int";
    default:
      return "float";
  }
}

py::tuple to_python(const io::MetaTable& table) {
  py::list fields;
  for (const auto& field : table.fields) {
    if (field.type == io::MetaType::kString)
      fields.append(py::make_tuple(field.name, kind_of(field.type), py::cast(field.text)));
    else
      fields.append(py::make_tuple(field.name, kind_of(field.type),
                                   py::array_t<double>(py::ssize_t(field.numbers.size()), field.numbers.data())));
  }
  return py::make_tuple(py::cast(table.ids), fields);
}

io::MetaTable from_python(const py::tuple& table, const std::string& which, std::size_t expected) {
  TESSERA_CHECK(table.size() == 2, "the ", which, " metadata must be (ids, fields)");
  io::MetaTable meta;
  meta.ids = table[0].cast<std::vector<std::string>>();
  TESSERA_CHECK(meta.ids.size() == expected, "the ", which, " metadata has ", meta.ids.size(),
                " ids but the matrix has ", expected, " ", which, "s; give one id per ", which);
  for (const auto& item : table[1].cast<py::list>()) {
    const auto field = item.cast<py::tuple>();
    io::MetaColumn column;
    column.name = field[0].cast<std::string>();
    const auto kind = field[1].cast<std::string>();
    if (kind == "str") {
      column.text = field[2].cast<std::vector<std::string>>();
    } else {
      TESSERA_CHECK(kind == "int" || kind == "float", "the ", which, " field '", column.name, "' has kind '", kind,
                    "'; use str, int or float");
      column.type = kind == "int" ? io::MetaType::kInt64 : io::MetaType::kFloat64;
      column.numbers = field[2].cast<std::vector<double>>();
      if (column.type == io::MetaType::kInt64)
        for (const double value : column.numbers)
          TESSERA_CHECK(std::isnan(value) || value == std::round(value), "the ", which, " field '", column.name,
                        "' is int but holds ", value, "; store it as float");
    }
    TESSERA_CHECK(column.size() == expected, "the ", which, " field '", column.name, "' has ", column.size(),
                  " values but the matrix has ", expected, " ", which, "s");
    meta.fields.push_back(std::move(column));
  }
  return meta;
}

template <typename Scalar>
void write_as(const std::string& path, const py::array& array, const py::tuple& rows, const py::tuple& cols) {
  // forcecast + f_style: a C-ordered, strided or other-typed array is copied into the engine's column-major layout.
  const auto values = py::array_t<Scalar, py::array::f_style | py::array::forcecast>::ensure(array);
  TESSERA_CHECK(values && values.ndim() == 2, "the values must be a 2-d array (genes x signatures); got ", array.ndim(),
                " dimension(s)");
  io::BasicGeneMatrix<Scalar> matrix;
  matrix.values =
      Eigen::Map<const typename io::BasicGeneMatrix<Scalar>::Matrix>(values.data(), values.shape(0), values.shape(1));
  matrix.rows = from_python(rows, "gene", std::size_t(values.shape(0)));
  matrix.cols = from_python(cols, "signature", std::size_t(values.shape(1)));
  if (is_gct(path))
    io::write_gct(path, matrix);
  else
    io::write_gctx(path, matrix);
}

}  // namespace

template <typename Scalar>
py::tuple gene_matrix_to_python(const io::BasicGeneMatrix<Scalar>& matrix) {
  py::array_t<Scalar, py::array::f_style> values(
      {py::ssize_t(matrix.values.rows()), py::ssize_t(matrix.values.cols())});
  std::copy_n(matrix.values.data(), matrix.values.size(), values.mutable_data());
  return py::make_tuple(values, to_python(matrix.rows), to_python(matrix.cols));
}
template py::tuple gene_matrix_to_python(const io::BasicGeneMatrix<float>&);
template py::tuple gene_matrix_to_python(const io::BasicGeneMatrix<double>&);

py::tuple read_gene_matrix(const std::string& path) {
  if (is_gct(path)) {
    io::GeneMatrixD matrix;
    {
      py::gil_scoped_release release;
      matrix = io::read_gct<double>(path);
    }
    return gene_matrix_to_python(matrix);
  }
  const engine::Context self(MPI_COMM_SELF);
  if (io::GctxReader(path, self).data_type() == io::MetaType::kFloat64) {
    io::GeneMatrixD matrix;
    {
      py::gil_scoped_release release;
      matrix = io::read_gctx<double>(path, self);
    }
    return gene_matrix_to_python(matrix);
  }
  io::GeneMatrix matrix;
  {
    py::gil_scoped_release release;
    matrix = io::read_gctx<float>(path, self);
  }
  return gene_matrix_to_python(matrix);
}

void write_gene_matrix(const std::string& path, const py::array& values, const py::tuple& rows, const py::tuple& cols) {
  if (values.dtype().is(py::dtype::of<float>()))
    write_as<float>(path, values, rows, cols);
  else
    write_as<double>(path, values, rows, cols);
}

}  // namespace tessera::python
