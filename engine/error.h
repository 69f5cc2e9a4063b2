// Errors in Tessera.
//
// Two tiers, as in faiss: a caller's mistake (bad input, bad option, bad shape) throws tessera::Error with a
// message that says what is wrong and how to fix it; TESSERA_CHECK builds it with file:line. A broken internal
// invariant is a bug: TESSERA_ASSERT aborts in debug builds and compiles out in release builds.
// Every MPI call goes through TESSERA_MPI, which turns a non-success code into an Error.
//
// An Error on any rank must end the whole job: jobs/main.cpp catches it, logs it with the rank and calls
// MPI_Abort, because the other ranks may be waiting in a collective and would otherwise hang.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tessera {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
[[noreturn]] void throw_mpi_error(const char* file, int line, const char* call, int code);
}  // namespace detail

}  // namespace tessera

// Throws tessera::Error("<message> [file:line]") when cond is false. Message parts are streamed.
#define TESSERA_CHECK(cond, ...)                                                                             \
  do {                                                                                                       \
    if (!(cond)) ::tessera::detail::throw_error(__FILE__, __LINE__, ::tessera::detail::concat(__VA_ARGS__)); \
  } while (0)

// Unconditional throw with the same format.
#define TESSERA_FAIL(...) ::tessera::detail::throw_error(__FILE__, __LINE__, ::tessera::detail::concat(__VA_ARGS__))

#ifdef NDEBUG
#define TESSERA_ASSERT(cond) ((void)0)
#else
#include <cassert>
#define TESSERA_ASSERT(cond) assert(cond)
#endif

#define TESSERA_MPI(call)                                                                                     \
  do {                                                                                                        \
    int tessera_mpi_rc_ = (call);                                                                             \
    if (tessera_mpi_rc_ != 0) ::tessera::detail::throw_mpi_error(__FILE__, __LINE__, #call, tessera_mpi_rc_); \
  } while (0)
