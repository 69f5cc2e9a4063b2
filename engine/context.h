// The MPI runtime every Tessera component receives first.
//
// MpiSession initialises MPI on construction and finalises it on destruction (RAII); create exactly one, in
// main() or in a test main. Context is a cheap value that names a communicator and this process's place in it:
// rank and size, and the node-local rank and size (ranks sharing a node, via MPI_COMM_TYPE_SHARED), which picks
// a GPU per rank on multi-GPU nodes. A Context built from MPI_COMM_SELF is the serial path: one rank.
//
// It also answers how much of its node a rank may use: the node's hardware threads and memory divided evenly
// among the ranks on the node (node_size()), so that ranks sharing a node do not oversubscribe it. Every solver
// that sizes its threads or memory asks here. A rank that works alone while the others work too (a task farm's
// task) uses alone(), which keeps that share: Context(MPI_COMM_SELF) would hand every rank the whole node.
#pragma once

#include <mpi.h>

namespace tessera::engine {

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

class Context {
 public:
  // Collective over comm (splits it by node once to learn the node-local rank).
  explicit Context(MPI_Comm comm = MPI_COMM_WORLD);

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int node_rank() const { return node_rank_; }
  int node_size() const { return node_size_; }
  bool is_root() const { return rank_ == 0; }

  // Local: a one-rank Context (MPI_COMM_SELF) for work this rank does on its own while the other ranks of this
  // Context do theirs. Its threads and memory per rank stay this Context's share of the node, and its node_rank()
  // this rank's place on the node (which GPU it binds).
  Context alone() const;

  // Local: this rank's share of the node's hardware threads (at least 1).
  int threads_per_rank() const;
  // Local, in bytes: this rank's share of the node's physical memory.
  double physical_memory_per_rank() const;
  // Local, in bytes: this rank's share of the memory the node can still give (MemAvailable: free memory plus
  // what the kernel can reclaim; the physical share off Linux). On a node shared with other jobs, physical memory
  // overstates what this run can use.
  double available_memory_per_rank() const;

  // Collective: all ranks wait here.
  void barrier() const;

  // Ends every rank of the job at once (MPI_Abort). Used when one rank fails: the others may be blocked in a
  // collective and could never learn of the failure otherwise.
  [[noreturn]] void abort(int exit_code) const;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  int node_rank_ = 0;
  int node_size_ = 1;
  int ranks_sharing_node_ = 1;  // among whom the node's threads and memory are divided
};

// Local, in bytes: the memory this process already holds (resident set), 0 when unknown. A memory plan counts
// it as part of the rank's share: what the rank holds was taken from the node before the plan was made.
double resident_memory();

}  // namespace tessera::engine
