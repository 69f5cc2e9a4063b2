// The LibTorch backend of the autoencoder (solvers/autoencoder/network_backend.h): the module
// libtessera_autoencoder_torch.so, loaded on first use, whose entry point is tessera_make_torch_network.
#include <cstring>

#include "engine/error.h"
#include "solvers/autoencoder/network_backend.h"
#include "solvers/autoencoder/torch/network.h"

namespace tessera::solvers::autoencoder {

namespace {

torch::Tensor as_rows(const float* columns, std::int64_t rows, std::int64_t count) {
  // Eigen column-major rows x count is row-major [count, rows]: the same memory, no copy.
  return torch::from_blob(const_cast<float*>(columns), {count, rows}, torch::kFloat32);
}

Eigen::MatrixXf to_columns(const torch::Tensor& rows) {
  const torch::Tensor t = rows.contiguous();
  Eigen::MatrixXf out(t.size(1), t.size(0));
  std::memcpy(out.data(), t.data_ptr<float>(), sizeof(float) * std::size_t(t.numel()));
  return out;
}

std::span<float> view(const torch::Tensor& t) {
  TESSERA_CHECK(t.is_contiguous(), "autoencoder tensor of shape ", t.sizes(), " is not contiguous");
  return {t.data_ptr<float>(), std::size_t(t.numel())};
}

class TorchNetwork final : public NetworkBackend {
 public:
  TorchNetwork(const AutoencoderParams& params, std::int64_t num_genes)
      : network_(params, num_genes), optimizer_(params, network_.parameters()) {}

  std::int64_t num_genes() const override { return network_.num_genes(); }
  std::size_t num_tensors() const override { return network_.parameters().size(); }
  std::int64_t rows(std::size_t tensor) const override { return network_.parameters()[tensor].size(0); }
  std::int64_t cols(std::size_t tensor) const override {
    const auto& p = network_.parameters()[tensor];
    return p.dim() > 1 ? p.size(1) : 1;
  }
  std::span<float> values(std::size_t tensor) override { return view(network_.parameters()[tensor]); }
  std::span<float> gradient(std::size_t tensor) override { return view(network_.parameters()[tensor].grad()); }
  bool is_adam() const override { return optimizer_.is_adam(); }
  std::span<float> first_moment(std::size_t tensor) override {
    return is_adam() ? view(optimizer_.first_moments()[tensor]) : std::span<float>();
  }
  std::span<float> second_moment(std::size_t tensor) override {
    return is_adam() ? view(optimizer_.second_moments()[tensor]) : std::span<float>();
  }
  std::int64_t optimizer_steps() const override { return optimizer_.step_count(); }
  void set_optimizer_steps(std::int64_t steps) override { optimizer_.set_step_count(steps); }

  void initialise(std::uint64_t seed) override { network_.initialise(seed); }

  double compute_gradient(const float* samples, std::int64_t count, std::int64_t global_batch) override {
    auto& parameters = network_.parameters();
    if (count == 0) {
      for (auto& p : parameters) p.mutable_grad() = torch::zeros_like(p);
      return 0;
    }
    for (auto& p : parameters) p.mutable_grad() = torch::Tensor();
    const std::int64_t d = network_.num_genes();
    const torch::Tensor batch = as_rows(samples, d, count);
    const torch::Tensor reconstruction = network_.decode(network_.encode(batch));
    const torch::Tensor loss_sum = (reconstruction - batch).pow(2).sum() / double(d);
    (loss_sum / double(global_batch)).backward();
    return loss_sum.item<double>();
  }

  void step() override { optimizer_.step(network_.parameters()); }

  Eigen::MatrixXf encode(const Eigen::MatrixXf& samples) const override {
    torch::NoGradGuard no_grad;
    return to_columns(network_.encode(as_rows(samples.data(), samples.rows(), samples.cols())));
  }
  Eigen::MatrixXf decode(const Eigen::MatrixXf& codes) const override {
    torch::NoGradGuard no_grad;
    return to_columns(network_.decode(as_rows(codes.data(), codes.rows(), codes.cols())));
  }

 private:
  Network network_;
  Optimizer optimizer_;
};

}  // namespace

}  // namespace tessera::solvers::autoencoder

extern "C" tessera::solvers::autoencoder::NetworkBackend* tessera_make_torch_network(
    const tessera::solvers::autoencoder::AutoencoderParams& params, std::int64_t num_genes) {
  namespace ae = tessera::solvers::autoencoder;
  params.validate();
  switch (params.device) {
    case ae::Device::kCpu:
      break;
    case ae::Device::kCuda:
      TESSERA_CHECK(torch::cuda::is_available(), "ae_device=cuda: this Tessera was built without CUDA (LibTorch ",
                    TORCH_VERSION, " CPU only); use ae_device=cpu or rebuild against a CUDA LibTorch");
      TESSERA_FAIL("ae_device=cuda is not implemented yet (NCCL gradient allreduce is planned); use ae_device=cpu");
  }
  if (params.threads > 0) torch::set_num_threads(params.threads);
  return new ae::TorchNetwork(params, num_genes);
}
