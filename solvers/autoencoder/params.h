// The configuration of the autoencoder: architecture, optimiser, training loop, device. Torch-free, so that
// solvers/registry.h and jobs/ can offer the knobs without seeing LibTorch.
//
// Defaults follow Belyaeva et al. (Nat. Commun. 2021): one hidden layer of 1024 units without bias,
// LeakyReLU(0.01), MSE reconstruction loss, Adam with learning rate 1e-4 and batch size 128, trained until the
// epoch's mean training loss falls below loss_threshold or max_epochs is reached.
//
// Architecture for depth L >= 1 (d = genes, w = width):
//   encoder: Linear(d -> w), act, [Linear(w -> w), act] x (L - 1)      -> latent z (w values)
//   decoder: Linear(w -> d)                                            -> reconstruction
// so depth 1 is exactly the published model and the latent is the last hidden layer.
#pragma once

#include <cstdint>

#include "engine/parameters.h"

namespace tessera::solvers::autoencoder {

// The enumerated knobs, each with its name table (engine/parameters.h). The names are what the command line,
// config files and checkpoints (trainer.h params_as_text) spell, so they never change. The tables are defined
// here, inline: this header is torch-free and compiled into builds without LibTorch (solvers/registry.h).
enum class Activation { kLeakyRelu, kRelu, kTanh, kLinear };
inline const engine::NameTable<Activation>& name_table(Activation) {  // leaky_relu | relu | tanh | linear
  static const engine::NameTable<Activation> table{{Activation::kLeakyRelu, "leaky_relu"},
                                                   {Activation::kRelu, "relu"},
                                                   {Activation::kTanh, "tanh"},
                                                   {Activation::kLinear, "linear"}};
  return table;
}
enum class OptimizerKind { kAdam, kSgd };
inline const engine::NameTable<OptimizerKind>& name_table(OptimizerKind) {  // adam | sgd
  static const engine::NameTable<OptimizerKind> table{{OptimizerKind::kAdam, "adam"}, {OptimizerKind::kSgd, "sgd"}};
  return table;
}
enum class Device { kCpu, kCuda };
inline const engine::NameTable<Device>& name_table(Device) {  // cpu | cuda
  static const engine::NameTable<Device> table{{Device::kCpu, "cpu"}, {Device::kCuda, "cuda"}};
  return table;
}
// Imputation (latent transport): how a drug's latent shift is taken from the cell types that measured it.
enum class Transport { kMean, kNearest };
inline const engine::NameTable<Transport>& name_table(Transport) {  // mean | nearest
  static const engine::NameTable<Transport> table{{Transport::kMean, "mean"}, {Transport::kNearest, "nearest"}};
  return table;
}

struct AutoencoderParams {
  int width = 1024;  // hidden units per layer (the latent dimension)
  int depth = 1;     // hidden layers of the encoder
  Activation activation = Activation::kLeakyRelu;
  double leaky_slope = 0.01;  // negative slope of leaky_relu
  bool bias = false;          // Linear layers with bias
  OptimizerKind optimizer = OptimizerKind::kAdam;
  double learning_rate = 1e-4;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  int batch_size = 128;  // global batch: split over the ranks
  int max_epochs = 100;
  double loss_threshold = 0.0;   // stop after the first epoch whose mean loss is below this (0 = never)
  std::uint64_t seed = 1;        // initial weights and the per-epoch permutations
  Device device = Device::kCpu;  // cuda needs a CUDA build
  int threads = 0;               // torch intra-op threads per rank; 0 = leave LibTorch's default
  Transport transport = Transport::kMean;
  int transport_neighbours = 3;  // cell types averaged by `nearest` (most similar control latents)

  // Every knob, names prefixed ae_.
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(
        engine::knob("ae_width", self.width, "autoencoder: hidden units per layer = latent dimension (Belyaeva 1024)")
            .at_least(1));
    declare(engine::knob("ae_depth", self.depth, "autoencoder: hidden layers of the encoder (Belyaeva 1)").in(1, 16));
    declare(engine::knob("ae_activation", self.activation, "autoencoder: activation after each hidden layer"));
    declare(
        engine::knob("ae_leaky_slope", self.leaky_slope, "autoencoder: negative slope of leaky_relu (Belyaeva 0.01)")
            .at_least(0.0)
            .below(1.0));
    declare(engine::knob("ae_bias", self.bias, "autoencoder: Linear layers with bias (Belyaeva: none)"));
    declare(engine::knob("ae_optimizer", self.optimizer, "autoencoder: optimiser"));
    declare(
        engine::knob("ae_learning_rate", self.learning_rate, "autoencoder: learning rate (Belyaeva 1e-4)").above(0.0));
    declare(engine::knob("ae_adam_beta1", self.adam_beta1, "autoencoder: Adam beta1").at_least(0.0).below(1.0));
    declare(engine::knob("ae_adam_beta2", self.adam_beta2, "autoencoder: Adam beta2").at_least(0.0).below(1.0));
    declare(engine::knob("ae_adam_eps", self.adam_eps, "autoencoder: Adam epsilon").above(0.0));
    declare(engine::knob("ae_batch_size", self.batch_size,
                         "autoencoder: global mini-batch size, split over ranks (Belyaeva 128)")
                .at_least(1));
    declare(engine::knob("ae_max_epochs", self.max_epochs, "autoencoder: most epochs").at_least(1));
    declare(engine::knob("ae_loss_threshold", self.loss_threshold,
                         "autoencoder: stop after an epoch whose mean training loss is below this (0 = run all epochs)")
                .at_least(0.0));
    declare(engine::knob("ae_seed", self.seed, "autoencoder: seed of the initial weights and the epoch permutations"));
    declare(engine::knob("ae_device", self.device, "autoencoder: device that trains; cuda needs a CUDA build"));
    declare(engine::knob("ae_threads", self.threads, "autoencoder: LibTorch threads per rank (0 = LibTorch's default)")
                .at_least(0));
    declare(engine::knob("ae_transport", self.transport,
                         "autoencoder imputation: a drug's latent shift is the mean over the cell types that measured "
                         "it (mean) or over the most similar ones by control latent (nearest)"));
    declare(engine::knob("ae_transport_neighbours", self.transport_neighbours,
                         "autoencoder imputation: cell types averaged by ae_transport=nearest")
                .at_least(1));
  }

  // Throws tessera::Error naming the bad knob (as ae_<name>) and its valid range.
  void validate() const { engine::check_knobs(*this); }
};

}  // namespace tessera::solvers::autoencoder
