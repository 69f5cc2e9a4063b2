#include "engine/error.h"

#include <mpi.h>

#include <filesystem>

namespace tessera::detail {

void throw_error(const char* file, int line, const std::string& message) {
  throw Error(concat(message, " [", std::filesystem::path(file).filename().string(), ":", line, "]"));
}

void throw_mpi_error(const char* file, int line, const char* call, int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw_error(file, line, concat("MPI call failed: ", call, ": ", std::string(text, length)));
}

}  // namespace tessera::detail
