// The torch-free door into solvers/autoencoder/ for solvers/registry.cpp: registry.cpp includes this header
// (never LibTorch's) and only when CMake built tessera_autoencoder (compile definition TESSERA_HAVE_TORCH).
#pragma once

#include <memory>

#include "solvers/autoencoder/params.h"
#include "solvers/imputation/imputer.h"

namespace tessera::solvers::autoencoder {

// The `autoencoder` imputation method (latent transport, solvers/autoencoder/latent_transport.h), validated.
std::unique_ptr<imputation::Imputer> make_autoencoder_imputer(const AutoencoderParams& params);

}  // namespace tessera::solvers::autoencoder
