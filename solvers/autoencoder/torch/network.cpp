#include "solvers/autoencoder/torch/network.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "engine/random.h"

namespace tessera::solvers::autoencoder {

namespace {

// Whether the optimiser keeps Adam's moments (SGD keeps no state).
bool keeps_moments(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kAdam:
      return true;
    case OptimizerKind::kSgd:
      return false;
  }
  TESSERA_FAIL("ae_optimizer value ", static_cast<int>(kind), " has no name");  // only a cast gets here
}

}  // namespace

Network::Network(const AutoencoderParams& params, std::int64_t num_genes) : params_(params), num_genes_(num_genes) {
  params_.validate();
  TESSERA_CHECK(num_genes >= 1, "the autoencoder needs at least one gene (got ", num_genes, ")");
  const auto options = torch::TensorOptions().dtype(torch::kFloat32);
  auto add_layer = [&](std::int64_t in, std::int64_t out) {
    weight_index_.push_back(parameters_.size());
    parameters_.push_back(torch::zeros({out, in}, options).set_requires_grad(true));
    if (params_.bias) parameters_.push_back(torch::zeros({out}, options).set_requires_grad(true));
  };
  add_layer(num_genes, params_.width);
  for (int l = 1; l < params_.depth; ++l) add_layer(params_.width, params_.width);
  add_layer(params_.width, num_genes);
}

void Network::initialise(std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  for (std::size_t layer = 0; layer < weight_index_.size(); ++layer) {
    const std::size_t first = weight_index_[layer];
    const std::size_t last = layer + 1 < weight_index_.size() ? weight_index_[layer + 1] : parameters_.size();
    const double bound = 1.0 / std::sqrt(double(parameters_[first].size(1)));  // fan_in of this layer
    for (std::size_t i = first; i < last; ++i) {
      engine::RandomStream random(seed, "autoencoder/init", i);
      auto values = parameters_[i].contiguous();
      float* data = values.data_ptr<float>();
      for (std::int64_t k = 0; k < values.numel(); ++k) data[k] = float(random.uniform(-bound, bound));
    }
  }
}

torch::Tensor Network::layer(const torch::Tensor& x, std::size_t index) const {
  const std::size_t w = weight_index_[index];
  return params_.bias ? torch::nn::functional::linear(x, parameters_[w], parameters_[w + 1])
                      : torch::nn::functional::linear(x, parameters_[w]);
}

torch::Tensor Network::activate(const torch::Tensor& x) const {
  switch (params_.activation) {
    case Activation::kLeakyRelu:
      return torch::leaky_relu(x, params_.leaky_slope);
    case Activation::kRelu:
      return torch::relu(x);
    case Activation::kTanh:
      return torch::tanh(x);
    case Activation::kLinear:
      return x;
  }
  TESSERA_FAIL("ae_activation value ", static_cast<int>(params_.activation), " has no name");  // only a cast gets here
}

torch::Tensor Network::encode(const torch::Tensor& x) const {
  torch::Tensor h = x;
  for (std::size_t l = 0; l + 1 < weight_index_.size(); ++l) h = activate(layer(h, l));
  return h;
}

torch::Tensor Network::decode(const torch::Tensor& z) const { return layer(z, weight_index_.size() - 1); }

Optimizer::Optimizer(const AutoencoderParams& params, const std::vector<torch::Tensor>& parameters)
    : adam_(keeps_moments(params.optimizer)),
      lr_(params.learning_rate),
      beta1_(params.adam_beta1),
      beta2_(params.adam_beta2),
      eps_(params.adam_eps) {
  if (!adam_) return;
  for (const auto& p : parameters) {
    m_.push_back(torch::zeros_like(p).set_requires_grad(false));
    v_.push_back(torch::zeros_like(p).set_requires_grad(false));
  }
}

void Optimizer::step(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  ++step_;
  if (!adam_) {
    for (const auto& p : parameters) p.add_(p.grad(), -lr_);
    return;
  }
  // torch.optim.Adam's update, one pass over memory instead of six tensor ops:
  //   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  // Element-wise, so the result does not depend on how parallel_for splits the range.
  const float b1 = float(beta1_), b2 = float(beta2_), eps = float(eps_);
  const float one_minus_b1 = float(1 - beta1_), one_minus_b2 = float(1 - beta2_);
  const float step_size = float(lr_ / (1 - std::pow(beta1_, double(step_))));
  const float correction2_sqrt = float(std::sqrt(1 - std::pow(beta2_, double(step_))));
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    float* p = parameters[i].data_ptr<float>();
    const torch::Tensor grad = parameters[i].grad().contiguous();
    const float* g = grad.data_ptr<float>();
    float* m = m_[i].data_ptr<float>();
    float* v = v_[i].data_ptr<float>();
    at::parallel_for(0, parameters[i].numel(), 1 << 15, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t k = begin; k < end; ++k) {
        m[k] = m[k] * b1 + g[k] * one_minus_b1;
        v[k] = v[k] * b2 + g[k] * g[k] * one_minus_b2;
        p[k] -= step_size * (m[k] / (std::sqrt(v[k]) / correction2_sqrt + eps));
      }
    });
  }
}

}  // namespace tessera::solvers::autoencoder
