// How a pair candidate of `tessera rank --pairs` becomes one signature, when it is not the plain sum.
//
// rank_candidates() sums the two signatures itself (gene space, the default): that path makes no virtual call
// and is unchanged. A PairSignature replaces the sum, e.g. solvers/autoencoder/latent_pairs.h sums the two drugs'
// shifts in an autoencoder's latent space (Belyaeva et al. 2021). Header only and torch-free, so that a combiner
// may live in a library that solvers/search does not link (tessera_autoencoder) without a link cycle.
#pragma once

#include <cstdint>
#include <span>

namespace tessera::solvers::search {

class PairSignature {
 public:
  virtual ~PairSignature() = default;
  // Writes the signature of the pair (i, j), i < j library signatures, into out (the library's G genes, row
  // order). Returns false when (i, j) is not a combination this model defines (e.g. two cell types): the
  // candidate is then never ranked. Local; must be deterministic and give the same values on every rank, so
  // that 1, 2 or 3 ranks return the same table. Called once per pair by one thread.
  virtual bool combine(std::int64_t i, std::int64_t j, std::span<float> out) = 0;
};

}  // namespace tessera::solvers::search
