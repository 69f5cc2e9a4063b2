// The `autoencoder` imputation method: latent transport (Belyaeva et al., Nat. Commun. 2021). Torch-free header.
//
// The PerturbationTable holds per-entry mean signatures y(c, d) and per-cell control means (table.controls),
// not raw samples, so the autoencoder is trained on expression-level profiles built from the table:
//   controls[c] for every cell type with controls, and controls[c] + y(c, d) for every training entry,
// each standardised per gene (mean / deviation over these profiles; undone on decoding).
// The latent signature of a training entry is  s(c, d) = enc(controls[c] + y(c, d)) - enc(controls[c]).
// To predict a missing (c, d): take d's latent shift from the cell types c' != c where it was measured for
// training (ae_transport = mean: the mean of s(c', d); nearest: the mean over the ae_transport_neighbours cell
// types whose control latents are most cosine-similar to c's), add it to c's control latent and decode:
//   y_hat(c, d) = dec(enc(controls[c]) + shift) - dec(enc(controls[c])).
// A drug measured in no other training cell type gets a zero prediction (nothing to transport).
// Local: distributes_itself() is false, so cross-validation spreads folds over ranks and each impute() trains on
// one rank (ae_threads sets its LibTorch threads).
#pragma once

#include "solvers/autoencoder/params.h"
#include "solvers/imputation/imputer.h"

namespace tessera::solvers::autoencoder {

class LatentTransportImputer : public imputation::Imputer {
 public:
  explicit LatentTransportImputer(const AutoencoderParams& params = {});

  std::string name() const override { return "autoencoder"; }

  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;

  const AutoencoderParams& params() const { return params_; }

 private:
  AutoencoderParams params_;
};

}  // namespace tessera::solvers::autoencoder
