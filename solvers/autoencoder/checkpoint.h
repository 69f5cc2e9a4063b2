// Autoencoder training checkpoints: one HDF5 file per checkpoint plus a `latest` pointer. Torch-free.
//
// A checkpoint folder holds step-<global step>.h5 files and `latest`, a one-line text file naming the newest
// complete checkpoint. Both are written atomically (temporary + rename, folder fsync'ed), the checkpoint first and
// the pointer second, so a crash at any moment leaves `latest` naming a whole file. The two newest checkpoints
// are kept; older ones are deleted.
//
// File layout (io/checkpoint.h; every section carries a `version` attribute, checked on load):
//   /checkpoint           attributes format = "tessera-autoencoder-checkpoint", version
//   /fingerprint          empty: the trainer compares /params with its own configuration
//   /model/shape_<i>      int64 (rows, cols) of parameter i; /model/param_<i> its values (row-major, float
//                         stored as float64, so the round trip is exact)
//   /optimizer/m_<i>, /optimizer/v_<i>   Adam's first and second moments (absent for SGD); /optimizer/step
//   /progress/counters    int64 (epoch, step_in_epoch, global_step, num_ranks, num_genes, converged)
//   /progress/epoch_loss_sum, /progress/epoch_losses   the running epoch loss and the finished epochs' losses
//   /rng/seed_words       the seed: the epoch permutations and initial weights are pure functions of
//                         (seed, epoch), so (seed, epoch, step_in_epoch) is the whole random state
//   /params/names, /params/values   every AutoencoderParams knob as text (numbers to 17 significant digits,
//                         enums by their name: ae_activation = leaky_relu)
//   /data/genes           the gene ids the model was trained on (may be empty)
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::solvers::autoencoder {

inline constexpr int kCheckpointVersion = 1;
inline constexpr const char* kCheckpointFormat = "tessera-autoencoder-checkpoint";

struct TrainingState {
  std::vector<std::vector<std::int64_t>> shapes;  // per parameter: (rows, cols)
  std::vector<std::vector<float>> parameters;     // per parameter, row-major
  std::vector<std::vector<float>> adam_m;         // per parameter, or empty (SGD)
  std::vector<std::vector<float>> adam_v;
  std::int64_t optimizer_step = 0;
  std::int64_t epoch = 0;          // the epoch in progress (or the next one when step_in_epoch == 0)
  std::int64_t step_in_epoch = 0;  // steps of `epoch` already taken
  std::int64_t global_step = 0;
  std::int64_t num_ranks = 1;
  std::int64_t num_genes = 0;
  bool converged = false;
  double epoch_loss_sum = 0;         // sum of per-sample losses of `epoch` so far (global)
  std::vector<double> epoch_losses;  // mean loss of every finished epoch
  std::uint64_t seed = 0;
  std::vector<std::string> param_names, param_values;  // the configuration, as text
  std::vector<std::string> genes;
};

// Local (call on one rank): writes `state` to folder/step-<global_step>.h5 and points folder/latest at it.
// Returns the checkpoint's path.
std::filesystem::path write_checkpoint(const std::filesystem::path& folder, const TrainingState& state);

// Local: reads one checkpoint file. Throws tessera::Error naming the file when it is not HDF5, not a Tessera
// autoencoder checkpoint (foreign), of an unknown version, or inconsistent (truncated or corrupted sections).
TrainingState read_checkpoint(const std::filesystem::path& file);

// Local: the file `folder/latest` names, or an empty path when the folder has no `latest`.
std::filesystem::path latest_checkpoint(const std::filesystem::path& folder);

}  // namespace tessera::solvers::autoencoder
