// Data-parallel training of the autoencoder (solvers/autoencoder/params.h) over the ranks of a Context.
// Torch-free: this file coordinates the ranks, and the network's arithmetic is a NetworkBackend
// (network_backend.h), LibTorch's module loaded by the first Trainer. jobs/, the imputer and tests use Eigen matrices.
//
// Data: every rank passes the same genes x samples float matrix (Eigen column-major: one sample per column).
// Data parallelism (collective over ctx):
//  - rank 0 initialises the parameters (Network::initialise, seed) and broadcasts them;
//  - each epoch e the samples are permuted by engine::RandomStream(seed, "autoencoder/epoch", e); the
//    permutation is cut into global batches of params.batch_size (the last may be short) and each global
//    batch into equal disjoint contiguous shards, one per rank (engine::block_range);
//  - each rank computes the gradient of sum over its shard of the per-sample MSE, divided by the GLOBAL batch
//    size; the gradients are summed over ranks by engine::allreduce_sum on fused flat float buckets in the
//    fixed parameter order, so every rank applies the same mean gradient and holds the same parameters;
//  - so P ranks with global batch B take the same steps as 1 rank with batch B, up to float summation order.
// Stopping: after every step, engine::stop_requested(ctx) (SIGUSR1/USR2/TERM, engine/signals.h) is polled
// collectively; when set, rank 0 writes a checkpoint (if a folder is given) and fit() returns stopped = true.
// Checkpoints (solvers/autoencoder/checkpoint.h) are written by rank 0 at the end of every epoch, every
// checkpoint_every_steps steps, on a stop and at the end; resume = true continues from folder/latest.
// Determinism: results are bit-reproducible for a fixed rank count and thread count (params.threads); a
// resumed run continues bit-identically because the permutations are pure functions of (seed, epoch).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/context.h"
#include "solvers/autoencoder/checkpoint.h"
#include "solvers/autoencoder/params.h"

namespace tessera::solvers::autoencoder {

struct TrainOptions {
  std::filesystem::path checkpoint_folder;  // empty: no checkpoints
  bool resume = false;                      // continue from checkpoint_folder/latest when there is one
  std::int64_t checkpoint_every_steps = 0;  // also checkpoint every k steps (0 = epoch ends only)
  bool poll_signals = true;                 // poll engine::stop_requested after every step (collective)
  bool log_epochs = true;                   // a rank-0 info line per epoch
  std::vector<std::string> genes;           // stored in the checkpoint (optional)
  // Called on every rank after every step with the global step count (tests: interrupt, compare ranks).
  std::function<void(std::int64_t global_step)> after_step;
};

struct TrainResult {
  std::int64_t epochs = 0;             // finished epochs
  std::int64_t steps = 0;              // global steps taken in total (including before a resume)
  double final_loss = 0;               // mean per-sample MSE of the last finished epoch (NaN if none)
  bool converged = false;              // an epoch's loss fell below params.loss_threshold
  bool stopped = false;                // stopped on a signal (checkpointed when a folder was given)
  bool resumed = false;                // started from a checkpoint
  std::vector<double> epoch_losses;    // every finished epoch's mean loss
  double seconds = 0;                  // wall time of this call's training loop
  std::int64_t samples_processed = 0;  // global samples seen by this call
};

class Trainer {
 public:
  // Collective over ctx: builds the network, rank 0 initialises it from params.seed and broadcasts it.
  // Throws tessera::Error for bad params or ae_device=cuda in this CPU-only build.
  Trainer(const engine::Context& ctx, const AutoencoderParams& params, std::int64_t num_genes);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Collective: trains on data (genes x samples, identical on every rank) until converged or max_epochs, or
  // until stopped. Calling it again continues from where the last call ended.
  TrainResult fit(const Eigen::MatrixXf& data, const TrainOptions& options = {});

  // Local: the latent codes (width x n) of samples (genes x n), and the reconstruction (genes x n) of codes.
  Eigen::MatrixXf encode(const Eigen::MatrixXf& samples) const;
  Eigen::MatrixXf decode(const Eigen::MatrixXf& codes) const;
  // Local: mean per-sample MSE of reconstructing samples (genes x n).
  double reconstruction_loss(const Eigen::MatrixXf& samples) const;

  // Local: every parameter value in the fixed order (tests compare ranks and runs with it).
  std::vector<float> flat_parameters() const;
  // Local: the full state as a checkpoint would store it; load_state replaces the state (checks shapes).
  TrainingState state() const;
  void load_state(const TrainingState& state);

  const AutoencoderParams& params() const;
  std::int64_t num_genes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The configuration as (name, text) pairs, as checkpoints store it. Local.
std::vector<std::pair<std::string, std::string>> params_as_text(const AutoencoderParams& params);

}  // namespace tessera::solvers::autoencoder
