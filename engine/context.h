// The MPI runtime every Tessera component receives first.
//
// MpiSession initialises MPI on construction and finalises it on destruction (RAII); create exactly one, in
// main() or in a test main. Context is a cheap value that names a communicator and this process's place in it:
// rank and size, and the node-local rank and size (ranks sharing a node, via MPI_COMM_TYPE_SHARED), which picks
// a GPU per rank on multi-GPU nodes. A Context built from MPI_COMM_SELF is the serial path: one rank.
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
};

}  // namespace tessera::engine
