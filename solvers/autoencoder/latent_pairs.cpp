#include "solvers/autoencoder/latent_pairs.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <type_traits>

#include "engine/collectives.h"
#include "engine/error.h"
#include "io/hdf5_file.h"
#include "solvers/autoencoder/checkpoint.h"

namespace tessera::solvers::autoencoder {

namespace fs = std::filesystem;

namespace {

// Signatures encoded and decoded per batch: bounds the temporaries (genes and width x this many floats).
constexpr Eigen::Index kBatch = 2048;

template <typename T>
void set_from_text(T& value, const std::string& text, const std::string& name) {
  bool ok = true;
  if constexpr (std::is_same_v<T, std::string>) {
    value = text;
  } else if constexpr (std::is_enum_v<T>) {
    // Written by its table name (params_as_text); a name outside the table is unreadable.
    const auto named = name_table(T{}).find(text);
    ok = named.has_value();
    if (ok) value = *named;
  } else if constexpr (std::is_same_v<T, bool>) {
    ok = text == "true" || text == "false" || text == "1" || text == "0";
    value = text == "true" || text == "1";
  } else {
    char* end = nullptr;
    if constexpr (std::is_floating_point_v<T>)
      value = T(std::strtod(text.c_str(), &end));
    else if constexpr (std::is_signed_v<T>)
      value = T(std::strtoll(text.c_str(), &end, 10));
    else
      value = T(std::strtoull(text.c_str(), &end, 10));
    ok = !text.empty() && end != nullptr && *end == '\0';
  }
  TESSERA_CHECK(ok, "checkpoint parameter ", name, " has an unreadable value '", text, "'");
}

}  // namespace

AutoencoderParams params_from_text(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  TESSERA_CHECK(names.size() == values.size(), "checkpoint holds ", names.size(), " parameter names and ",
                values.size(), " values");
  AutoencoderParams params;
  engine::for_each_knob(params, [&](const char* name, auto& value, const char*) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) set_from_text(value, values[i], names[i]);
  });
  params.device = Device::kCpu;  // inference here is CPU-only whatever the model was trained on
  params.validate();
  return params;
}

LatentModel load_latent_model(const engine::Context& ctx, const fs::path& folder) {
  const bool train_folder = fs::exists(folder / "checkpoints" / "latest");
  const fs::path checkpoints = train_folder ? folder / "checkpoints" : folder;
  LatentModel model;
  model.checkpoint = latest_checkpoint(checkpoints);
  TESSERA_CHECK(!model.checkpoint.empty(), "--model ", folder.string(),
                ": no trained model (neither checkpoints/latest nor latest); give the --out folder of "
                "`tessera train`");
  const TrainingState state = read_checkpoint(model.checkpoint);
  const AutoencoderParams params = params_from_text(state.param_names, state.param_values);
  model.trainer = std::make_unique<Trainer>(ctx, params, state.num_genes);
  model.trainer->load_state(state);
  model.genes = state.genes;
  const fs::path scaling = (train_folder ? folder : folder.parent_path()) / "scaling.h5";
  if (fs::exists(scaling)) {
    io::Hdf5Reader file(scaling);
    const auto mean = file.read_vector("/mean");
    const auto scale = file.read_vector("/scale");
    TESSERA_CHECK(std::int64_t(mean.size()) == state.num_genes && mean.size() == scale.size(), scaling.string(), ": ",
                  mean.size(), " genes, the model in ", model.checkpoint.string(), " has ", state.num_genes);
    model.scaling.mean = Eigen::Map<const Eigen::VectorXd>(mean.data(), Eigen::Index(mean.size())).cast<float>();
    model.scaling.scale = Eigen::Map<const Eigen::VectorXd>(scale.data(), Eigen::Index(scale.size())).cast<float>();
  }
  return model;
}

LatentPairs::LatentPairs(const engine::Context& ctx, const Trainer& model, const ProfileScaling& scaling,
                         const Eigen::MatrixXf& signatures, const Eigen::MatrixXf& controls,
                         std::span<const std::int64_t> cell_of, std::span<const int> model_rows)
    : cell_of_(cell_of.begin(), cell_of.end()), width_(model.params().width) {
  const Eigen::Index genes = signatures.rows(), n = signatures.cols();
  TESSERA_CHECK(model.num_genes() == genes, "the autoencoder was trained on ", model.num_genes(),
                " genes, the library has ", genes,
                ": latent pairs need a model trained on the library's genes "
                "(tessera train --genes)");
  TESSERA_CHECK(controls.rows() == genes, "controls have ", controls.rows(), " genes, the library ", genes);
  TESSERA_CHECK(std::int64_t(cell_of.size()) == n, "cell_of has ", cell_of.size(), " entries for ", n, " signatures");
  for (auto c : cell_of) TESSERA_CHECK(c >= 0 && c < controls.cols(), "cell index ", c, " out of range");
  TESSERA_CHECK(scaling.empty() || (scaling.mean.size() == genes && scaling.scale.size() == genes),
                "the model's scaling has ", scaling.mean.size(), " genes, the library ", genes);
  TESSERA_CHECK(signatures.allFinite() && controls.allFinite(),
                "latent pairs: a library signature or control profile holds NaN or infinite values");
  std::vector<int> rows(model_rows.begin(), model_rows.end());
  if (rows.empty()) {
    rows.resize(std::size_t(genes));
    for (Eigen::Index g = 0; g < genes; ++g) rows[std::size_t(g)] = int(g);
  }
  TESSERA_CHECK(Eigen::Index(rows.size()) == genes, "model gene map has ", rows.size(), " rows for ", genes, " genes");
  {
    std::vector<bool> seen(std::size_t(genes), false);
    for (int r : rows) {
      TESSERA_CHECK(r >= 0 && r < genes && !seen[std::size_t(r)],
                    "model gene map is not a permutation of the "
                    "library's rows");
      seen[std::size_t(r)] = true;
    }
  }

  decoded_.resize(genes, n);
  if (ctx.is_root()) {
    // Everything in the model's gene order, then scattered back to the library's.
    auto to_model = [&](const Eigen::MatrixXf& library_order) {
      Eigen::MatrixXf out(genes, library_order.cols());
      for (Eigen::Index g = 0; g < genes; ++g) out.row(g) = library_order.row(rows[std::size_t(g)]);
      return out;
    };
    const Eigen::MatrixXf x = to_model(controls);
    const Eigen::MatrixXf base = model.decode(model.encode(scaling.apply(x)));  // dec(z_c), genes x cells
    Eigen::VectorXf scale = scaling.empty() ? Eigen::VectorXf::Ones(genes) : Eigen::VectorXf(scaling.scale);
    for (Eigen::Index begin = 0; begin < n; begin += kBatch) {
      const Eigen::Index count = std::min(kBatch, n - begin);
      Eigen::MatrixXf treated = to_model(signatures.middleCols(begin, count));
      for (Eigen::Index k = 0; k < count; ++k) treated.col(k) += x.col(cell_of_[std::size_t(begin + k)]);
      // z_c + delta_k = enc(std(x_c + y_k)): decode that code directly (no round trip through delta_k).
      Eigen::MatrixXf p = model.decode(model.encode(scaling.apply(treated)));
      for (Eigen::Index k = 0; k < count; ++k)
        p.col(k) = (p.col(k) - base.col(cell_of_[std::size_t(begin + k)])).cwiseProduct(scale);  // undo(a) - undo(b)
      for (Eigen::Index g = 0; g < genes; ++g) decoded_.block(rows[std::size_t(g)], begin, 1, count) = p.row(g);
    }
  }
  // Broadcast in slices of doubles (float -> double -> float is exact).
  std::vector<double> buffer;
  const Eigen::Index total = decoded_.size();
  const Eigen::Index slice = Eigen::Index(1) << 22;
  for (Eigen::Index begin = 0; begin < total; begin += slice) {
    const Eigen::Index count = std::min(slice, total - begin);
    buffer.assign(decoded_.data() + begin, decoded_.data() + begin + count);
    engine::broadcast(ctx, std::span<double>(buffer));
    for (Eigen::Index k = 0; k < count; ++k) decoded_.data()[begin + k] = float(buffer[std::size_t(k)]);
  }
}

bool LatentPairs::combine(std::int64_t i, std::int64_t j, std::span<float> out) {
  if (cell_of_[std::size_t(i)] != cell_of_[std::size_t(j)]) return false;
  Eigen::Map<Eigen::VectorXf>(out.data(), Eigen::Index(out.size())) = decoded_.col(i) + decoded_.col(j);
  return true;
}

}  // namespace tessera::solvers::autoencoder
