// Drug pairs summed in an autoencoder's latent space (Belyaeva et al., Nat. Commun. 2021, latent arithmetic):
// the PairSignature of `tessera rank --pairs --pair-space latent`. Torch-free header (and source: it uses the
// Trainer's Eigen interface only).
//
// For library signature k of cell type c (control profile x_c, signature y_k), with std() the model's per-gene
// standardisation (scaling.h5 of `tessera train --zscore`; none otherwise) and its inverse undo():
//   latent shift      delta_k = enc(std(x_c + y_k)) - enc(std(x_c))          (solvers/autoencoder/latent_transport.h)
//   pair (i, j), both of cell type c:
//                     y_ij = undo(dec(enc(std(x_c)) + delta_i + delta_j)) - undo(dec(enc(std(x_c))))
// A pair of two cell types is no combination (one cell line never receives both drugs): combine() declines it
// and rank_candidates() never ranks it.
//
// Cost: the decoder of this architecture (solvers/autoencoder/params.h, network.cpp) is ONE Linear layer, i.e.
// affine, and undo() is affine per gene, so y_ij = p_i + p_j exactly, with p_k = undo(dec(z_c + delta_k)) -
// undo(dec(z_c)), z_c = enc(std(x_c)). The constructor therefore encodes and decodes every signature once
// (batched) and a pair costs one vector sum, as in gene space: the ranking loop stays as fast as --pair-space
// gene. (Equal to the direct formula up to float rounding; tests check it on a nonlinear encoder.) Should the
// decoder ever gain a nonlinearity, combine() must decode z_c + delta_i + delta_j per pair instead.
// Determinism: rank 0 computes the p_k and broadcasts them, so every rank scores identical values and 1, 2 or 3
// ranks return the same table.
// The model sees x_c + y_k as given: train it on profiles in that scale (e.g. level-3 expression with --zscore,
// not --log2/--minmax, which are not recorded in the checkpoint and are not re-applied here).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/context.h"
#include "solvers/autoencoder/preprocess.h"
#include "solvers/autoencoder/trainer.h"
#include "solvers/search/pair_signature.h"

namespace tessera::solvers::autoencoder {

// A trained model as `tessera train` leaves it.
struct LatentModel {
  std::unique_ptr<Trainer> trainer;
  ProfileScaling scaling;            // empty when the folder has no scaling.h5 (trained without --zscore)
  std::vector<std::string> genes;    // the gene ids it was trained on (may be empty)
  std::filesystem::path checkpoint;  // the file loaded
};

// The AutoencoderParams a checkpoint stores as text (unknown names are ignored; device is forced to cpu).
AutoencoderParams params_from_text(const std::vector<std::string>& names, const std::vector<std::string>& values);

// Collective over ctx (the Trainer is). folder: a `tessera train --out` folder (its checkpoints/latest, and
// scaling.h5 when present) or a checkpoints folder itself. Throws tessera::Error naming the folder when it holds
// no checkpoint, or a scaling.h5 whose gene count differs from the model's.
LatentModel load_latent_model(const engine::Context& ctx, const std::filesystem::path& folder);

class LatentPairs : public search::PairSignature {
 public:
  // Collective over ctx. signatures: genes x n (library row order); controls: genes x cells; cell_of: per
  // signature its column of controls. model_rows: for each model input gene, its library row (a permutation of
  // the library's rows); empty = the library's row order. Throws tessera::Error when the model's gene count is
  // not the library's, the scaling does not match, or a cell index is out of range. Only rank 0 uses `model`.
  LatentPairs(const engine::Context& ctx, const Trainer& model, const ProfileScaling& scaling,
              const Eigen::MatrixXf& signatures, const Eigen::MatrixXf& controls, std::span<const std::int64_t> cell_of,
              std::span<const int> model_rows = {});

  bool combine(std::int64_t i, std::int64_t j, std::span<float> out) override;

  // p_k of every signature: genes (library order) x n. A pair of one cell type is the sum of two columns.
  const Eigen::MatrixXf& decoded_shifts() const { return decoded_; }
  std::int64_t latent_width() const { return width_; }

 private:
  Eigen::MatrixXf decoded_;
  std::vector<std::int64_t> cell_of_;
  std::int64_t width_ = 0;
};

}  // namespace tessera::solvers::autoencoder
