// The alignment report of Belyaeva et al. (Nat. Commun. 2021, Fig. 3d): does the autoencoder's latent space
// make a drug's effect look alike across cell types? Torch-free header, local.
//
// For every perturbation measured in both cell types a and b, the cosine between its signatures in a and b
// in the input space, cos(y(a, d), y(b, d)), and in the latent space, cos(s(a, d), s(b, d)) with the latent
// signature s(c, d) = enc(controls[c] + y(c, d)) - enc(controls[c]) (solvers/autoencoder/latent_transport.h).
// Profiles pass through `scaling` (the per-gene scaling the model was trained with; empty = none) first.
#pragma once

#include <string>
#include <vector>

#include "io/perturbation_table.h"
#include "solvers/autoencoder/preprocess.h"
#include "solvers/autoencoder/trainer.h"

namespace tessera::solvers::autoencoder {

struct AlignmentRow {
  std::string pert;
  double input_cosine = 0;
  double latent_cosine = 0;
};

// Throws tessera::Error when a cell type is not in the table or the model's gene count differs.
std::vector<AlignmentRow> alignment_report(const Trainer& model, const io::PerturbationTable& table,
                                           const std::string& cell_a, const std::string& cell_b,
                                           const ProfileScaling& scaling = {});

}  // namespace tessera::solvers::autoencoder
