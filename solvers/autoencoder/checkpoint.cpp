#include "solvers/autoencoder/checkpoint.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <system_error>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"

namespace tessera::solvers::autoencoder {

namespace fs = std::filesystem;

namespace {

// The layout of version 1 is the io/checkpoint.h layout (it was its model), so files of earlier Tesseras still load.
// The fingerprint is empty: the trainer compares the stored configuration itself (Trainer::load_state), because
// some knobs (epochs, learning rate) may change on a resume and others (the architecture) may not.
const io::CheckpointKind kKind{kCheckpointFormat, kCheckpointVersion, "autoencoder"};
constexpr const char* kFix = "pass a checkpoint written by `tessera train`, or start a new run without --resume";

std::vector<double> to_double(const std::vector<float>& values) { return {values.begin(), values.end()}; }

std::vector<float> to_float(const std::vector<double>& values) { return {values.begin(), values.end()}; }

// The checkpoint files of a folder by step, oldest first.
std::vector<std::pair<std::int64_t, fs::path>> checkpoint_files(const fs::path& folder) {
  static const std::regex pattern(R"(step-(\d+)\.h5)");
  std::vector<std::pair<std::int64_t, fs::path>> files;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(folder, ec)) {
    std::smatch match;
    const std::string name = item.path().filename().string();
    if (std::regex_match(name, match, pattern)) files.emplace_back(std::stoll(match[1].str()), item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

fs::path write_checkpoint(const fs::path& folder, const TrainingState& state) {
  const fs::path file = folder / ("step-" + std::to_string(state.global_step) + ".h5");
  io::write_checkpoint(file, kKind, io::Fingerprint(), [&](io::CheckpointWriter& out) {
    for (const char* section : {"model", "optimizer", "progress", "rng", "params", "data"}) out.add_section(section);
    out.put_ints("model", "count", {std::int64_t(state.parameters.size())});
    for (std::size_t i = 0; i < state.parameters.size(); ++i) {
      out.put_ints("model", "shape_" + std::to_string(i), state.shapes[i]);
      out.put_numbers("model", "param_" + std::to_string(i), to_double(state.parameters[i]));
    }
    out.put_ints("optimizer", "step", {state.optimizer_step});
    out.put_ints("optimizer", "has_moments", {state.adam_m.empty() ? 0 : 1});
    for (std::size_t i = 0; i < state.adam_m.size(); ++i) {
      out.put_numbers("optimizer", "m_" + std::to_string(i), to_double(state.adam_m[i]));
      out.put_numbers("optimizer", "v_" + std::to_string(i), to_double(state.adam_v[i]));
    }
    out.put_ints("progress", "counters",
                 {state.epoch, state.step_in_epoch, state.global_step, state.num_ranks, state.num_genes,
                  state.converged ? 1 : 0});
    out.put_numbers("progress", "epoch_loss_sum", {state.epoch_loss_sum});
    if (!state.epoch_losses.empty()) out.put_numbers("progress", "epoch_losses", state.epoch_losses);
    // Two 32-bit halves: HDF5 int64 holds any uint64 seed bit pattern that way without sign trouble.
    out.put_ints("rng", "seed_words", {std::int64_t(state.seed >> 32), std::int64_t(state.seed & 0xffffffffu)});
    out.put_strings("params", "names", state.param_names);
    out.put_strings("params", "values", state.param_values);
    if (!state.genes.empty()) out.put_strings("data", "genes", state.genes);
  });
  // kFolder on both: the pointer's rename must not reach the disk before the checkpoint's does.
  io::write_bytes_atomically(folder / "latest", file.filename().string() + "\n", io::Durability::kFolder);
  // Keep the newest two: the pointer names the newest, the one before is a spare if the newest is damaged later.
  auto files = checkpoint_files(folder);
  std::error_code ignored;
  for (std::size_t i = 0; i + 2 < files.size(); ++i) fs::remove(files[i].second, ignored);
  return file;
}

TrainingState read_checkpoint(const fs::path& file) {
  const io::CheckpointReader in(file, kKind, kFix);
  TrainingState state;
  const auto count = in.get_ints("model", "count");
  if (!(count.size() == 1 && count[0] >= 0 && count[0] < 1000)) in.fail("has a bad /model/count");
  const bool has_moments = in.get_ints("optimizer", "has_moments").at(0) != 0;
  for (std::int64_t i = 0; i < count[0]; ++i) {
    const std::string index = std::to_string(i);
    state.shapes.push_back(in.get_ints("model", "shape_" + index));
    state.parameters.push_back(to_float(in.get_numbers("model", "param_" + index)));
    const auto& shape = state.shapes.back();
    if (!(shape.size() == 2 && shape[0] * shape[1] == std::int64_t(state.parameters.back().size())))
      in.fail(detail::concat("holds ", state.parameters.back().size(), " values in /model/param_", i,
                             ", which does not match its shape; the file is damaged"));
    if (has_moments) {
      state.adam_m.push_back(to_float(in.get_numbers("optimizer", "m_" + index)));
      state.adam_v.push_back(to_float(in.get_numbers("optimizer", "v_" + index)));
      if (state.adam_m.back().size() != state.parameters.back().size() ||
          state.adam_v.back().size() != state.parameters.back().size())
        in.fail(
            detail::concat("has Adam moments of parameter ", i, " that do not match its size; the file is damaged"));
    }
  }
  state.optimizer_step = in.get_ints("optimizer", "step").at(0);
  const auto counters = in.get_ints("progress", "counters");
  if (counters.size() != 6)
    in.fail(detail::concat("has ", counters.size(), " values in /progress/counters, expected 6"));
  state.epoch = counters[0];
  state.step_in_epoch = counters[1];
  state.global_step = counters[2];
  state.num_ranks = counters[3];
  state.num_genes = counters[4];
  state.converged = counters[5] != 0;
  state.epoch_loss_sum = in.get_numbers("progress", "epoch_loss_sum").at(0);
  if (in.has("progress", "epoch_losses")) state.epoch_losses = in.get_numbers("progress", "epoch_losses");
  const auto seed = in.get_ints("rng", "seed_words");
  if (seed.size() != 2) in.fail("must hold 2 values in /rng/seed_words");
  state.seed = (std::uint64_t(seed[0]) << 32) | std::uint64_t(seed[1]);
  state.param_names = in.get_strings("params", "names");
  state.param_values = in.get_strings("params", "values");
  if (state.param_names.size() != state.param_values.size())
    in.fail("has /params/names and /params/values of different lengths");
  if (in.has("data", "genes")) state.genes = in.get_strings("data", "genes");
  return state;
}

fs::path latest_checkpoint(const fs::path& folder) {
  const fs::path pointer = folder / "latest";
  if (!fs::exists(pointer)) return {};
  std::ifstream in(pointer);
  std::string name;
  std::getline(in, name);
  TESSERA_CHECK(!name.empty() && name.find('/') == std::string::npos, "checkpoint pointer '", pointer.string(),
                "' is empty or damaged; delete it to start over, or write the name of a step-*.h5 file into it");
  const fs::path file = folder / name;
  TESSERA_CHECK(fs::exists(file), "checkpoint pointer '", pointer.string(), "' names '", name,
                "', which does not exist; delete the pointer to start over");
  return file;
}

}  // namespace tessera::solvers::autoencoder
