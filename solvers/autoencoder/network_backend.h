// The autoencoder's arithmetic behind a torch-free interface: the network, its gradient and its optimiser step.
// The Trainer (trainer.h) coordinates (permutations, shards, gradient allreduce, signals, checkpoints, logs); a
// backend only computes. The LibTorch backend (solvers/autoencoder/torch/) is a module, libtessera_autoencoder_
// torch.so, loaded by make_network_backend() on first use: LibTorch costs about 1 s of start-up per process, so
// only runs that build an autoencoder pay it (`tessera --help`, discover, impute without the autoencoder: none).
//
// Where the module is looked for, first found wins: $TESSERA_TORCH_MODULE (a relocated install); the build tree
// that compiled this file; next to the program or library holding this code (<dir>/../lib/tessera for an
// installed bin/tessera, <dir> for the installed Python package); CMAKE_INSTALL_PREFIX/lib/tessera.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <span>

#include "solvers/autoencoder/params.h"

namespace tessera::solvers::autoencoder {

// One network and its optimiser. Parameters are tensors in a fixed order (for each layer its weight [out, in],
// then its bias [out] when params.bias; encoder layers first, the decoder last): the order of the gradient
// buckets and of checkpoints. Every view is row-major float memory owned by the backend, valid for its lifetime.
// Local: nothing here talks to other ranks.
class NetworkBackend {
 public:
  virtual ~NetworkBackend() = default;

  virtual std::int64_t num_genes() const = 0;
  virtual std::size_t num_tensors() const = 0;
  virtual std::int64_t rows(std::size_t tensor) const = 0;  // out
  virtual std::int64_t cols(std::size_t tensor) const = 0;  // in for a weight, 1 for a bias
  virtual std::span<float> values(std::size_t tensor) = 0;
  virtual std::span<float> gradient(std::size_t tensor) = 0;  // of the last compute_gradient
  // Adam's first and second moments; empty spans for SGD (is_adam() false).
  virtual bool is_adam() const = 0;
  virtual std::span<float> first_moment(std::size_t tensor) = 0;
  virtual std::span<float> second_moment(std::size_t tensor) = 0;
  virtual std::int64_t optimizer_steps() const = 0;
  virtual void set_optimizer_steps(std::int64_t steps) = 0;

  // PyTorch's default Linear initialisation from engine::RandomStream(seed, "autoencoder/init", tensor index).
  virtual void initialise(std::uint64_t seed) = 0;
  // samples: genes x count, column-major (one sample per column). Sets the gradient of (sum over the samples of
  // their mean squared reconstruction error over genes) / global_batch and returns that sum (not divided by
  // global_batch). count = 0 sets zero gradients and returns 0.
  virtual double compute_gradient(const float* samples, std::int64_t count, std::int64_t global_batch) = 0;
  // One optimiser step (Adam as torch.optim.Adam, or SGD) from the current gradient.
  virtual void step() = 0;

  // The latent codes (width x n) of samples (genes x n); the reconstruction (genes x n) of codes (width x n).
  virtual Eigen::MatrixXf encode(const Eigen::MatrixXf& samples) const = 0;
  virtual Eigen::MatrixXf decode(const Eigen::MatrixXf& codes) const = 0;
};

// A zero-initialised network for params (validated) and num_genes inputs, on params.device with params.threads
// threads. Loads the LibTorch module on the first call. Throws tessera::Error naming the paths tried when the
// module is missing, with the loader's message when it cannot be loaded, and for ae_device=cuda.
std::unique_ptr<NetworkBackend> make_network_backend(const AutoencoderParams& params, std::int64_t num_genes);

}  // namespace tessera::solvers::autoencoder

// The module's one entry point (C linkage, so the loader finds it by this name): a new backend, owned by the
// caller. It throws tessera::Error like make_network_backend; host and module are one build of one compiler.
extern "C" tessera::solvers::autoencoder::NetworkBackend* tessera_make_torch_network(
    const tessera::solvers::autoencoder::AutoencoderParams& params, std::int64_t num_genes);
