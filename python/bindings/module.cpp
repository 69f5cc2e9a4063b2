// tessera._core: the compiled half of the Python package. It starts MPI (unless mpi4py already has), sends the
// engine's log lines to Python's `logging`, maps the engine's errors to Python exceptions, and exposes the
// commands and the GCTX/GCT reader and writer. Everything else (keyword arguments, DataFrames, AnnData) is the
// pure-Python layer in python/tessera.
#include <mpi.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "engine/error.h"
#include "engine/log.h"
#include "jobs/commands.h"
#include "python/bindings/command_runner.h"
#include "python/bindings/gene_matrix_arrays.h"
#include "python/bindings/table_arrays.h"

namespace py = pybind11;
using namespace tessera;

namespace {

bool g_we_started_mpi = false;

// MPI for the whole interpreter: started once, at import, unless mpi4py (or the host) started it; then finalised
// at exit by whoever started it.
void start_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    TESSERA_MPI(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    g_we_started_mpi = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

void stop_at_exit() {
  engine::set_log_sink({});  // no Python left to log to
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (g_we_started_mpi && !finalized) MPI_Finalize();
}

int python_level(engine::LogLevel level) {
  switch (level) {
    case engine::LogLevel::kDebug:
      return 10;
    case engine::LogLevel::kInfo:
      return 20;
    case engine::LogLevel::kWarn:
      return 30;
    default:
      return 40;
  }
}

// Each line to the logger "tessera", with the rank that speaks when there are several.
void send_logs_to_python(int rank, int size) {
  const std::string prefix = size > 1 ? "r" + std::to_string(rank) + "/" + std::to_string(size) + " " : "";
  engine::set_log_sink([prefix](engine::LogLevel level, const std::string& message) {
    py::gil_scoped_acquire gil;
    py::module_::import("logging").attr("getLogger")("tessera").attr("log")(python_level(level), prefix + message);
  });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "Tessera's engine (compiled); use the functions of the tessera package instead.";
  py::register_exception<Error>(m, "InputError", PyExc_ValueError);
  py::register_exception<python::Stopped>(m, "Stopped", PyExc_KeyboardInterrupt);
  py::register_exception<python::InternalError>(m, "InternalError", PyExc_RuntimeError);

  start_mpi();
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  engine::init_logging(rank, size);
  send_logs_to_python(rank, size);
  py::module_::import("atexit").attr("register")(py::cpp_function(&stop_at_exit));
  m.attr("rank") = rank;
  m.attr("size") = size;

  m.def("commands", [] {
    py::list names;
    for (const auto& command : jobs::commands()) names.append(py::make_tuple(command.spec.name, command.spec.summary));
    return names;
  });
  m.def("usage", [](const std::string& name) { return jobs::spec_of(name).usage; });
  m.def("options", [](const std::string& name) {
    py::list options;
    for (const auto& option : python::command_options(name))
      options.append(py::make_tuple(option.name, option.default_value, option.help, option.is_flag));
    return options;
  });
  m.def("check", &python::check_options, py::arg("command"), py::arg("args"));
  m.def(
      "run",
      [](const std::string& command, const std::vector<std::string>& args) {
        const auto result = python::run_command(command, args);
        return py::make_tuple(result.exit_code, result.printed);
      },
      py::arg("command"), py::arg("args"));
  // What the pure-Python layer needs to agree across ranks without mpi4py: one folder name for every rank.
  m.def("broadcast_text", [](std::string text) {
    py::gil_scoped_release release;
    long long length = (long long)(text.size());
    TESSERA_MPI(MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD));
    text.resize(std::size_t(length));
    TESSERA_MPI(MPI_Bcast(text.data(), int(length), MPI_CHAR, 0, MPI_COMM_WORLD));
    return text;
  });
  m.def("barrier", [] {
    py::gil_scoped_release release;
    TESSERA_MPI(MPI_Barrier(MPI_COMM_WORLD));
  });
  m.def("load_table", &python::load_table, py::arg("args"));
  m.def("read_gene_matrix", &python::read_gene_matrix, py::arg("path"));
  m.def("write_gene_matrix", &python::write_gene_matrix, py::arg("path"), py::arg("values"), py::arg("rows"),
        py::arg("cols"));
}
