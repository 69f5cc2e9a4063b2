#include "solvers/autoencoder/checkpoint.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <system_error>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/hdf5_file.h"

namespace tessera::solvers::autoencoder {

namespace fs = std::filesystem;

namespace {

std::vector<double> to_double(const std::vector<float>& values) { return {values.begin(), values.end()}; }

std::vector<float> to_float(const std::vector<double>& values) { return {values.begin(), values.end()}; }

void write_floats(io::Hdf5Writer& out, const std::string& name, const std::vector<float>& values) {
  out.write_vector(name, to_double(values));
}

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

void check_version(const io::Hdf5Reader& in, const fs::path& file, const std::string& section) {
  const double version = in.read_number_attribute(section, "version");
  TESSERA_CHECK(version == kCheckpointVersion, "checkpoint '", file.string(), "' section ", section, " has version ",
                version, " but this Tessera reads version ", kCheckpointVersion,
                "; resume with the Tessera that wrote it or start a new run");
}

}  // namespace

fs::path write_checkpoint(const fs::path& folder, const TrainingState& state) {
  const fs::path file = folder / ("step-" + std::to_string(state.global_step) + ".h5");
  {
    io::Hdf5Writer out(file);
    out.write_attribute("/checkpoint", "format", kCheckpointFormat);
    out.write_attribute("/checkpoint", "version", double(kCheckpointVersion));
    for (const char* section : {"/model", "/optimizer", "/progress", "/rng", "/params", "/data"})
      out.write_attribute(section, "version", double(kCheckpointVersion));
    out.write_ints("/model/count", {std::int64_t(state.parameters.size())});
    for (std::size_t i = 0; i < state.parameters.size(); ++i) {
      out.write_ints("/model/shape_" + std::to_string(i), state.shapes[i]);
      write_floats(out, "/model/param_" + std::to_string(i), state.parameters[i]);
    }
    out.write_ints("/optimizer/step", {state.optimizer_step});
    out.write_ints("/optimizer/has_moments", {state.adam_m.empty() ? 0 : 1});
    for (std::size_t i = 0; i < state.adam_m.size(); ++i) {
      write_floats(out, "/optimizer/m_" + std::to_string(i), state.adam_m[i]);
      write_floats(out, "/optimizer/v_" + std::to_string(i), state.adam_v[i]);
    }
    out.write_ints("/progress/counters", {state.epoch, state.step_in_epoch, state.global_step, state.num_ranks,
                                          state.num_genes, state.converged ? 1 : 0});
    out.write_vector("/progress/epoch_loss_sum", {state.epoch_loss_sum});
    if (!state.epoch_losses.empty()) out.write_vector("/progress/epoch_losses", state.epoch_losses);
    // Two 32-bit halves: HDF5 int64 holds any uint64 seed bit pattern that way without sign trouble.
    out.write_ints("/rng/seed_words", {std::int64_t(state.seed >> 32), std::int64_t(state.seed & 0xffffffffu)});
    out.write_strings("/params/names", state.param_names);
    out.write_strings("/params/values", state.param_values);
    if (!state.genes.empty()) out.write_strings("/data/genes", state.genes);
    out.close(io::Durability::kFolder);
  }
  // kFolder on both: the pointer's rename must not reach the disk before the checkpoint's does.
  io::write_bytes_atomically(folder / "latest", file.filename().string() + "\n", io::Durability::kFolder);
  // Keep the newest two: the pointer names the newest, the one before is a spare if the newest is damaged later.
  auto files = checkpoint_files(folder);
  std::error_code ignored;
  for (std::size_t i = 0; i + 2 < files.size(); ++i) fs::remove(files[i].second, ignored);
  return file;
}

TrainingState read_checkpoint(const fs::path& file) {
  TrainingState state;
  const std::string where = "checkpoint '" + file.string() + "'";
  try {
    io::Hdf5Reader in(file);
    TESSERA_CHECK(in.has("/checkpoint"), where, " is an HDF5 file but not a Tessera autoencoder checkpoint (no ",
                  "/checkpoint group); pass a file written by `tessera train`");
    const std::string format = in.read_string_attribute("/checkpoint", "format");
    TESSERA_CHECK(format == kCheckpointFormat, where, " has format '", format, "', expected '", kCheckpointFormat,
                  "'; pass a file written by `tessera train`");
    for (const char* section : {"/checkpoint", "/model", "/optimizer", "/progress", "/rng", "/params", "/data"})
      check_version(in, file, section);

    const auto count = in.read_ints("/model/count");
    TESSERA_CHECK(count.size() == 1 && count[0] >= 0 && count[0] < 1000, where, ": bad /model/count");
    const bool has_moments = in.read_ints("/optimizer/has_moments").at(0) != 0;
    for (std::int64_t i = 0; i < count[0]; ++i) {
      const std::string index = std::to_string(i);
      state.shapes.push_back(in.read_ints("/model/shape_" + index));
      state.parameters.push_back(to_float(in.read_vector("/model/param_" + index)));
      const auto& shape = state.shapes.back();
      TESSERA_CHECK(shape.size() == 2 && shape[0] * shape[1] == std::int64_t(state.parameters.back().size()), where,
                    ": /model/param_", i, " holds ", state.parameters.back().size(),
                    " values, which does not match its shape; the file is damaged");
      if (has_moments) {
        state.adam_m.push_back(to_float(in.read_vector("/optimizer/m_" + index)));
        state.adam_v.push_back(to_float(in.read_vector("/optimizer/v_" + index)));
        TESSERA_CHECK(state.adam_m.back().size() == state.parameters.back().size() &&
                          state.adam_v.back().size() == state.parameters.back().size(),
                      where, ": Adam moments of parameter ", i, " do not match its size; the file is damaged");
      }
    }
    state.optimizer_step = in.read_ints("/optimizer/step").at(0);
    const auto counters = in.read_ints("/progress/counters");
    TESSERA_CHECK(counters.size() == 6, where, ": /progress/counters has ", counters.size(), " values, expected 6");
    state.epoch = counters[0];
    state.step_in_epoch = counters[1];
    state.global_step = counters[2];
    state.num_ranks = counters[3];
    state.num_genes = counters[4];
    state.converged = counters[5] != 0;
    state.epoch_loss_sum = in.read_vector("/progress/epoch_loss_sum").at(0);
    if (in.has("/progress/epoch_losses")) state.epoch_losses = in.read_vector("/progress/epoch_losses");
    const auto seed = in.read_ints("/rng/seed_words");
    TESSERA_CHECK(seed.size() == 2, where, ": /rng/seed_words must hold 2 values");
    state.seed = (std::uint64_t(seed[0]) << 32) | std::uint64_t(seed[1]);
    state.param_names = in.read_strings("/params/names");
    state.param_values = in.read_strings("/params/values");
    TESSERA_CHECK(state.param_names.size() == state.param_values.size(), where,
                  ": /params/names and /params/values differ in length");
    if (in.has("/data/genes")) state.genes = in.read_strings("/data/genes");
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.find(file.string()) != std::string::npos) throw;
    TESSERA_FAIL(where, " cannot be read: ", message);
  }
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
