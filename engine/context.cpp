#include "engine/context.h"

#include <cstdlib>

#include "engine/error.h"

namespace tessera::engine {

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) TESSERA_MPI(MPI_Init(argc, argv));
  // Errors come back as codes (turned into exceptions by TESSERA_MPI) instead of aborting silently.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

Context::Context(MPI_Comm comm) : comm_(comm) {
  TESSERA_MPI(MPI_Comm_rank(comm, &rank_));
  TESSERA_MPI(MPI_Comm_size(comm, &size_));
  MPI_Comm node_comm;
  TESSERA_MPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_comm));
  TESSERA_MPI(MPI_Comm_rank(node_comm, &node_rank_));
  TESSERA_MPI(MPI_Comm_size(node_comm, &node_size_));
  MPI_Comm_free(&node_comm);
}

void Context::barrier() const { TESSERA_MPI(MPI_Barrier(comm_)); }

void Context::abort(int exit_code) const {
  MPI_Abort(comm_, exit_code);
  std::exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest if it ever does.
}

}  // namespace tessera::engine
