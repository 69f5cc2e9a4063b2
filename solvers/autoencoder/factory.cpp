#include "solvers/autoencoder/factory.h"

#include "solvers/autoencoder/latent_transport.h"

namespace tessera::solvers::autoencoder {

std::unique_ptr<imputation::Imputer> make_autoencoder_imputer(const AutoencoderParams& params) {
  return std::make_unique<LatentTransportImputer>(params);
}

}  // namespace tessera::solvers::autoencoder
