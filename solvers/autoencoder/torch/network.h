// The autoencoder network and its optimiser as LibTorch tensors. Internal to the LibTorch module (torch/; includes
// <torch/torch.h>, STYLE §1): everything outside sees solvers/autoencoder/network_backend.h.
//
// Layout: samples are rows, [n, d] row-major float32, which is the same memory as an Eigen column-major
// d x n matrix (one sample per column). Parameters are kept in one fixed order: for each layer its weight
// [out, in] then, when params.bias, its bias [out]; encoder layers first, the decoder last. That order is the
// gradient-bucket order of the allreduce and the order of the checkpoint.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "solvers/autoencoder/params.h"

namespace tessera::solvers::autoencoder {

class Network {
 public:
  // Builds the layers (all zero): call initialise() or load values before use. Local.
  Network(const AutoencoderParams& params, std::int64_t num_genes);

  // PyTorch's default Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, drawn
  // from engine::RandomStream(seed, "autoencoder/init", parameter index): the same on every machine. Local.
  void initialise(std::uint64_t seed);

  torch::Tensor encode(const torch::Tensor& x) const;  // [n, d] -> [n, width]
  torch::Tensor decode(const torch::Tensor& z) const;  // [n, width] -> [n, d]

  std::vector<torch::Tensor>& parameters() { return parameters_; }
  const std::vector<torch::Tensor>& parameters() const { return parameters_; }
  std::int64_t num_genes() const { return num_genes_; }

 private:
  torch::Tensor layer(const torch::Tensor& x, std::size_t index) const;
  torch::Tensor activate(const torch::Tensor& x) const;

  AutoencoderParams params_;
  std::int64_t num_genes_;
  std::vector<torch::Tensor> parameters_;
  std::vector<std::size_t> weight_index_;  // position of each layer's weight in parameters_
};

// Adam (as torch.optim.Adam without weight decay or amsgrad, one fused pass per parameter) or plain SGD.
// Reads each parameter's .grad(); owns the moments so that they can be checkpointed. Local.
class Optimizer {
 public:
  Optimizer(const AutoencoderParams& params, const std::vector<torch::Tensor>& parameters);

  void step(const std::vector<torch::Tensor>& parameters);

  bool is_adam() const { return adam_; }
  std::int64_t step_count() const { return step_; }
  void set_step_count(std::int64_t step) { step_ = step; }
  std::vector<torch::Tensor>& first_moments() { return m_; }
  std::vector<torch::Tensor>& second_moments() { return v_; }

 private:
  bool adam_;
  double lr_, beta1_, beta2_, eps_;
  std::int64_t step_ = 0;
  std::vector<torch::Tensor> m_, v_;
};

}  // namespace tessera::solvers::autoencoder
