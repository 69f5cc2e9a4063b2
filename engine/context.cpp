#include "engine/context.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

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
  ranks_sharing_node_ = node_size_;
}

Context Context::alone() const {
  Context self(MPI_COMM_SELF);
  self.ranks_sharing_node_ = ranks_sharing_node_;
  self.node_rank_ = node_rank_;  // so that a rank working alone still binds its own GPU (engine/device.h)
  return self;
}

namespace {

double physical_memory() { return double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE)); }

// MemAvailable of /proc/meminfo in bytes, or `fallback` when it cannot be read (off Linux).
double available_memory(double fallback) {
  std::FILE* file = std::fopen("/proc/meminfo", "r");
  if (file == nullptr) return fallback;
  char line[256];
  double kib = -1;
  while (std::fgets(line, sizeof line, file) != nullptr)
    if (std::sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
  std::fclose(file);
  return kib > 0 ? kib * 1024.0 : fallback;
}

}  // namespace

int Context::threads_per_rank() const {
  const int hardware = int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, hardware / std::max(1, ranks_sharing_node_));
}

double Context::physical_memory_per_rank() const {
  return physical_memory() / double(std::max(1, ranks_sharing_node_));
}

double Context::available_memory_per_rank() const {
  return available_memory(physical_memory()) / double(std::max(1, ranks_sharing_node_));
}

double resident_memory() {
  std::FILE* file = std::fopen("/proc/self/statm", "r");
  if (file == nullptr) return 0;
  long long size = 0, resident = 0;
  const bool ok = std::fscanf(file, "%lld %lld", &size, &resident) == 2;
  std::fclose(file);
  return ok ? double(resident) * double(sysconf(_SC_PAGE_SIZE)) : 0.0;
}

void Context::barrier() const { TESSERA_MPI(MPI_Barrier(comm_)); }

void Context::abort(int exit_code) const {
  MPI_Abort(comm_, exit_code);
  std::exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest if it ever does.
}

}  // namespace tessera::engine
