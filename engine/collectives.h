// Collective operations over a Context's communicator. Every function here is collective: all ranks of the
// communicator must call it, in the same order, with matching sizes. On one rank each returns at once with
// the input unchanged, which is the serial path.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/context.h"

namespace tessera::engine {

// In-place element-wise sums over ranks.
void allreduce_sum(const Context& ctx, std::span<double> values);
void allreduce_sum(const Context& ctx, std::span<float> values);
void allreduce_sum(const Context& ctx, std::span<std::int64_t> values);
void allreduce_sum(const Context& ctx, Eigen::MatrixXd& matrix);
double allreduce_sum(const Context& ctx, double value);
std::int64_t allreduce_sum(const Context& ctx, std::int64_t value);
double allreduce_max(const Context& ctx, double value);
// True on every rank when `flag` is true on any rank (used to agree on stopping or failing together).
bool allreduce_any(const Context& ctx, bool flag);

// Root's values replace everyone's.
void broadcast(const Context& ctx, std::span<double> values, int root = 0);
void broadcast(const Context& ctx, std::span<std::int64_t> values, int root = 0);
void broadcast(const Context& ctx, std::string& text, int root = 0);

// Concatenation of every rank's values in rank order, on every rank.
std::vector<double> allgatherv(const Context& ctx, std::span<const double> local);
std::vector<std::int64_t> allgatherv(const Context& ctx, std::span<const std::int64_t> local);
std::vector<std::string> allgatherv(const Context& ctx, const std::vector<std::string>& local);

// Personalised all-to-all: `send` holds one run of values per destination rank, in rank order (send_counts[r]
// values for rank r); returns the values received, one run per source rank in rank order (recv_counts[r] values
// from rank r, which must be what rank r sends here). A rank's total sent or received must stay below 2^31 values
// (MPI's int displacements): callers exchange large data in chunks.
std::vector<double> alltoallv(const Context& ctx, std::span<const double> send,
                              std::span<const std::int64_t> send_counts, std::span<const std::int64_t> recv_counts);

// Passes every rank's block of doubles round the ring of ranks (rank r receives from r - 1 and sends to r + 1),
// so that each rank sees every block while holding at most two foreign ones, where an allgather would hold all.
// The next block travels while the caller works on the current one.
class BlockRing {
 public:
  // Local: buffers for blocks of up to max_block doubles (buffer_count(ctx.size()) of them).
  BlockRing(const Context& ctx, std::int64_t max_block);

  // Collective: calls visit(owner, block) for owner = rank, rank - 1, ..., rank + 1 (mod size): this rank's
  // block `mine` first, then each other rank's as it arrives. block_size(owner) is rank owner's block size in
  // doubles: the same answer on every rank, and at most max_block (checked on every rank before anything is
  // sent). `block` is valid during the call only. When visit throws, this rank still passes the remaining blocks
  // on, without visiting them, so that its neighbours finish; then the first exception is rethrown.
  void rotate(std::span<const double> mine, const std::function<std::int64_t(int owner)>& block_size,
              const std::function<void(int owner, const double* block)>& visit);

  // Receive buffers a ring over `ranks` ranks allocates: min(ranks - 1, 2).
  static int buffer_count(int ranks);

 private:
  const Context& ctx_;
  std::int64_t max_block_;
  std::vector<std::vector<double>> buffers_;
};

}  // namespace tessera::engine
