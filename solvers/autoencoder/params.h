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
#include <string>

#include "engine/error.h"
#include "engine/parameters.h"

namespace tessera::solvers::autoencoder {

struct AutoencoderParams {
  int width = 1024;                       // hidden units per layer (the latent dimension)
  int depth = 1;                          // hidden layers of the encoder
  std::string activation = "leaky_relu";  // leaky_relu | relu | tanh | linear
  double leaky_slope = 0.01;              // negative slope of leaky_relu
  bool bias = false;                      // Linear layers with bias
  std::string optimizer = "adam";         // adam | sgd
  double learning_rate = 1e-4;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  int batch_size = 128;  // global batch: split over the ranks
  int max_epochs = 100;
  double loss_threshold = 0.0;  // stop after the first epoch whose mean loss is below this (0 = never)
  std::uint64_t seed = 1;       // initial weights and the per-epoch permutations
  std::string device = "cpu";   // cpu | cuda (cuda needs a CUDA build)
  int threads = 0;              // torch intra-op threads per rank; 0 = leave LibTorch's default
  // Imputation (latent transport): how a drug's latent shift is taken from the cell types that measured it.
  std::string transport = "mean";  // mean | nearest
  int transport_neighbours = 3;    // cell types averaged by `nearest` (most similar control latents)

  // Every knob, names prefixed ae_. The names of activation, optimizer, device and transport are checked by
  // validate() (LibTorch code compares them).
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(
        engine::knob("ae_width", self.width, "autoencoder: hidden units per layer = latent dimension (Belyaeva 1024)")
            .at_least(1));
    declare(engine::knob("ae_depth", self.depth, "autoencoder: hidden layers of the encoder (Belyaeva 1)").in(1, 16));
    declare(engine::knob("ae_activation", self.activation, "autoencoder: leaky_relu | relu | tanh | linear"));
    declare(
        engine::knob("ae_leaky_slope", self.leaky_slope, "autoencoder: negative slope of leaky_relu (Belyaeva 0.01)")
            .at_least(0.0)
            .below(1.0));
    declare(engine::knob("ae_bias", self.bias, "autoencoder: Linear layers with bias (Belyaeva: none)"));
    declare(engine::knob("ae_optimizer", self.optimizer, "autoencoder: adam | sgd"));
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
    declare(engine::knob("ae_device", self.device, "autoencoder: cpu | cuda"));
    declare(engine::knob("ae_threads", self.threads, "autoencoder: LibTorch threads per rank (0 = LibTorch's default)")
                .at_least(0));
    declare(engine::knob("ae_transport", self.transport,
                         "autoencoder imputation: a drug's latent shift is the mean over the cell types that measured "
                         "it (mean) or over the most similar ones by control latent (nearest)"));
    declare(engine::knob("ae_transport_neighbours", self.transport_neighbours,
                         "autoencoder imputation: cell types averaged by ae_transport=nearest")
                .at_least(1));
  }

  // visit(name, value&, help) over every knob (engine::for_each_knob), for the trainer's checkpoint text.
  template <typename Self, typename Visit>
  static void for_each_knob(Self& self, Visit&& visit) {
    engine::for_each_knob(self, visit);
  }

  // Throws tessera::Error naming the bad knob (as ae_<name>) and its valid range.
  void validate() const {
    engine::check_knobs(*this);
    TESSERA_CHECK(activation == "leaky_relu" || activation == "relu" || activation == "tanh" || activation == "linear",
                  "ae_activation must be leaky_relu, relu, tanh or linear (got '", activation, "')");
    TESSERA_CHECK(optimizer == "adam" || optimizer == "sgd", "ae_optimizer must be adam or sgd (got '", optimizer,
                  "')");
    TESSERA_CHECK(device == "cpu" || device == "cuda", "ae_device must be cpu or cuda (got '", device, "')");
    TESSERA_CHECK(transport == "mean" || transport == "nearest", "ae_transport must be mean or nearest (got '",
                  transport, "')");
  }
};

}  // namespace tessera::solvers::autoencoder
