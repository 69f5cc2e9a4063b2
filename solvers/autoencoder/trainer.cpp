#include "solvers/autoencoder/trainer.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>
#include <type_traits>

#include "engine/collectives.h"
#include "engine/log.h"
#include "engine/partition.h"
#include "engine/random.h"
#include "engine/signals.h"
#include "solvers/autoencoder/network_backend.h"

namespace tessera::solvers::autoencoder {

namespace {

// Gradients travel in buckets of at most this many floats (16 MiB): large enough that the latency of one
// allreduce is paid a few times per step, small enough that MPI need not stage huge temporaries.
constexpr std::size_t kBucketFloats = std::size_t(1) << 22;

// Knobs that change the model or its optimisation: a checkpoint written with other values cannot be resumed.
bool is_architecture_knob(const std::string& name) {
  return name == "ae_width" || name == "ae_depth" || name == "ae_activation" || name == "ae_leaky_slope" ||
         name == "ae_bias" || name == "ae_optimizer" || name == "ae_seed" || name == "ae_batch_size";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> params_as_text(const AutoencoderParams& params) {
  std::vector<std::pair<std::string, std::string>> out;
  engine::for_each_knob(params, [&](const char* name, const auto& value, const char*) {
    std::ostringstream text;
    // An enum knob is written by its table name (leaky_relu), as the command line spells it: the text, and so
    // the resume check of load(), stays the same as when these knobs were strings.
    if constexpr (std::is_enum_v<std::decay_t<decltype(value)>>)
      text << name_table(value).name(value);
    else
      text << std::setprecision(17) << std::boolalpha << value;
    out.emplace_back(name, text.str());
  });
  return out;
}

struct Trainer::Impl {
  engine::Context ctx;
  AutoencoderParams params;
  std::unique_ptr<NetworkBackend> network;
  std::int64_t epoch = 0, step_in_epoch = 0, global_step = 0;
  double epoch_loss_sum = 0;
  std::vector<double> epoch_losses;
  bool converged = false;
  std::vector<float> bucket;        // flat gradients of all parameters (multi-rank only)
  Eigen::MatrixXf shard_samples;    // this rank's samples of the current batch, genes x shard
  std::vector<std::int64_t> order;  // permutation of the current epoch
  std::int64_t order_epoch = -1;

  Impl(const engine::Context& c, const AutoencoderParams& p, std::int64_t num_genes)
      : ctx(c), params(p), network(make_network_backend(p, num_genes)) {}

  std::int64_t num_values() const {
    std::int64_t total = 0;
    for (std::size_t i = 0; i < network->num_tensors(); ++i) total += network->rows(i) * network->cols(i);
    return total;
  }

  void broadcast_parameters() {
    if (ctx.size() == 1) return;
    std::vector<double> values;
    values.reserve(std::size_t(num_values()));
    for (std::size_t i = 0; i < network->num_tensors(); ++i) {
      const auto p = network->values(i);
      values.insert(values.end(), p.begin(), p.end());
    }
    engine::broadcast(ctx, std::span<double>(values));
    std::size_t offset = 0;
    for (std::size_t i = 0; i < network->num_tensors(); ++i)
      for (float& value : network->values(i)) value = float(values[offset++]);
  }

  // Sums the gradients over ranks: copy into the flat bucket buffer in parameter order, allreduce it in
  // fixed-size chunks, copy back.
  void allreduce_gradients() {
    if (ctx.size() == 1) return;
    bucket.resize(std::size_t(num_values()));
    std::size_t offset = 0;
    for (std::size_t i = 0; i < network->num_tensors(); ++i) {
      const auto g = network->gradient(i);
      std::copy(g.begin(), g.end(), bucket.begin() + std::ptrdiff_t(offset));
      offset += g.size();
    }
    for (std::size_t begin = 0; begin < bucket.size(); begin += kBucketFloats) {
      const std::size_t size = std::min(kBucketFloats, bucket.size() - begin);
      engine::allreduce_sum(ctx, std::span<float>(bucket.data() + begin, size));
    }
    offset = 0;
    for (std::size_t i = 0; i < network->num_tensors(); ++i) {
      const auto g = network->gradient(i);
      std::copy_n(bucket.begin() + std::ptrdiff_t(offset), g.size(), g.begin());
      offset += g.size();
    }
  }

  const std::vector<std::int64_t>& permutation(std::int64_t n) {
    if (order_epoch != epoch || std::int64_t(order.size()) != n) {
      order.resize(std::size_t(n));
      std::iota(order.begin(), order.end(), std::int64_t(0));
      engine::RandomStream random(params.seed, "autoencoder/epoch", std::uint64_t(epoch));
      random.shuffle(order);
      order_epoch = epoch;
    }
    return order;
  }

  // One optimisation step on global batch `step_in_epoch` of the current epoch. Returns the global sum of the
  // batch's per-sample losses. Collective.
  double step(const Eigen::MatrixXf& data) {
    const std::int64_t n = data.cols();
    const std::int64_t batch_size = params.batch_size;
    const auto& perm = permutation(n);
    const std::int64_t begin = step_in_epoch * batch_size;
    const std::int64_t global = std::min(batch_size, n - begin);
    const engine::BlockRange shard = engine::block_range(global, ctx.size(), ctx.rank());

    shard_samples.resize(data.rows(), shard.size());
    for (std::int64_t i = 0; i < shard.size(); ++i)
      shard_samples.col(i) = data.col(perm[std::size_t(begin + shard.begin + i)]);
    // Sum over the shard of per-sample MSE, its gradient divided by the GLOBAL batch size: the rank sum is the
    // batch mean.
    const double local_loss = network->compute_gradient(shard_samples.data(), shard.size(), global);
    allreduce_gradients();
    network->step();
    return engine::allreduce_sum(ctx, local_loss);
  }

  TrainingState state(const std::vector<std::string>& genes) const {
    TrainingState s;
    auto flat = [](std::span<const float> values) { return std::vector<float>(values.begin(), values.end()); };
    for (std::size_t i = 0; i < network->num_tensors(); ++i) {
      s.shapes.push_back({network->rows(i), network->cols(i)});
      s.parameters.push_back(flat(network->values(i)));
      if (network->is_adam()) {
        s.adam_m.push_back(flat(network->first_moment(i)));
        s.adam_v.push_back(flat(network->second_moment(i)));
      }
    }
    s.optimizer_step = network->optimizer_steps();
    s.epoch = epoch;
    s.step_in_epoch = step_in_epoch;
    s.global_step = global_step;
    s.num_ranks = ctx.size();
    s.num_genes = network->num_genes();
    s.converged = converged;
    s.epoch_loss_sum = epoch_loss_sum;
    s.epoch_losses = epoch_losses;
    s.seed = params.seed;
    for (const auto& [name, value] : params_as_text(params)) {
      s.param_names.push_back(name);
      s.param_values.push_back(value);
    }
    s.genes = genes;
    return s;
  }

  void load(const TrainingState& s) {
    const std::size_t tensors = network->num_tensors();
    TESSERA_CHECK(s.parameters.size() == tensors, "checkpoint holds ", s.parameters.size(),
                  " parameter tensors, this model has ", tensors, "; resume with the same ae_* options");
    TESSERA_CHECK(s.num_genes == network->num_genes(), "checkpoint was trained on ", s.num_genes,
                  " genes, this run has ", network->num_genes(), "; resume with the same input and gene list");
    const auto mine = params_as_text(params);
    for (std::size_t i = 0; i < s.param_names.size(); ++i) {
      if (!is_architecture_knob(s.param_names[i])) continue;
      for (const auto& [name, value] : mine)
        TESSERA_CHECK(name != s.param_names[i] || value == s.param_values[i], "checkpoint was trained with ", name, "=",
                      s.param_values[i], " but this run asks for ", name, "=", value,
                      "; resume with the checkpoint's options or start a new run in another folder");
    }
    auto copy_into = [](std::span<float> target, const std::vector<float>& values, const char* what, std::size_t i) {
      TESSERA_CHECK(values.size() == target.size(), "checkpoint ", what, " ", i, " holds ", values.size(),
                    " values, the model expects ", target.size(), "; resume with the same ae_* options");
      std::copy(values.begin(), values.end(), target.begin());
    };
    for (std::size_t i = 0; i < tensors; ++i) copy_into(network->values(i), s.parameters[i], "parameter", i);
    if (network->is_adam()) {
      TESSERA_CHECK(s.adam_m.size() == tensors && s.adam_v.size() == tensors,
                    "checkpoint has no Adam moments for this model (was it trained with ae_optimizer=sgd?)");
      for (std::size_t i = 0; i < tensors; ++i) {
        copy_into(network->first_moment(i), s.adam_m[i], "Adam first moment", i);
        copy_into(network->second_moment(i), s.adam_v[i], "Adam second moment", i);
      }
    }
    network->set_optimizer_steps(s.optimizer_step);
    epoch = s.epoch;
    step_in_epoch = s.step_in_epoch;
    global_step = s.global_step;
    epoch_loss_sum = s.epoch_loss_sum;
    epoch_losses = s.epoch_losses;
    converged = s.converged;
    order_epoch = -1;
  }
};

Trainer::Trainer(const engine::Context& ctx, const AutoencoderParams& params, std::int64_t num_genes) {
  params.validate();
  impl_ = std::make_unique<Impl>(ctx, params, num_genes);
  if (ctx.is_root()) impl_->network->initialise(params.seed);
  impl_->broadcast_parameters();
}

Trainer::~Trainer() = default;

TrainResult Trainer::fit(const Eigen::MatrixXf& data, const TrainOptions& options) {
  auto& s = *impl_;
  const std::int64_t n = data.cols();
  TESSERA_CHECK(data.rows() == s.network->num_genes(), "training data has ", data.rows(), " genes, the model ",
                s.network->num_genes());
  TESSERA_CHECK(n >= 1, "no training samples");
  TESSERA_CHECK(data.allFinite(), "training data holds NaN or infinite values; filter or impute them first");
  TrainResult result;
  const bool checkpoints = !options.checkpoint_folder.empty();
  if (checkpoints && options.resume) {
    const auto file = latest_checkpoint(options.checkpoint_folder);
    if (!file.empty()) {
      const TrainingState state = read_checkpoint(file);
      s.load(state);
      if (state.num_ranks != s.ctx.size())
        engine::warn("checkpoint ", file.string(), " was written by ", state.num_ranks, " rank(s), this run has ",
                     s.ctx.size(), ": the steps are the same but float sums may round differently");
      engine::info("resuming from ", file.string(), " at epoch ", s.epoch, ", step ", s.global_step);
      result.resumed = true;
    }
  }
  const auto save = [&] {
    if (!checkpoints) return;
    if (s.ctx.is_root()) write_checkpoint(options.checkpoint_folder, s.state(options.genes));
    s.ctx.barrier();  // nobody leaves (and possibly exits) before the checkpoint is on disk
  };

  const std::int64_t steps_per_epoch = (n + s.params.batch_size - 1) / s.params.batch_size;
  TESSERA_CHECK(s.step_in_epoch < steps_per_epoch, "checkpoint is at step ", s.step_in_epoch,
                " of an epoch, but this data has only ", steps_per_epoch,
                " steps per epoch; resume with the same input");
  const auto start = std::chrono::steady_clock::now();
  while (!s.converged && s.epoch < s.params.max_epochs) {
    const std::int64_t begin = s.step_in_epoch * s.params.batch_size;
    s.epoch_loss_sum += s.step(data);
    result.samples_processed += std::min<std::int64_t>(s.params.batch_size, n - begin);
    ++s.step_in_epoch;
    ++s.global_step;
    if (s.step_in_epoch == steps_per_epoch) {
      const double loss = s.epoch_loss_sum / double(n);
      s.epoch_losses.push_back(loss);
      if (options.log_epochs)
        engine::info("autoencoder epoch ", s.epoch + 1, "/", s.params.max_epochs, ": loss ", loss);
      ++s.epoch;
      s.step_in_epoch = 0;
      s.epoch_loss_sum = 0;
      s.converged = s.params.loss_threshold > 0 && loss < s.params.loss_threshold;
    }
    if (options.after_step) options.after_step(s.global_step);
    const bool stop = options.poll_signals && engine::stop_requested(s.ctx);
    const bool finished = s.converged || s.epoch >= s.params.max_epochs;
    const bool periodic = options.checkpoint_every_steps > 0 && s.global_step % options.checkpoint_every_steps == 0;
    if (stop || finished || periodic || s.step_in_epoch == 0) save();
    if (stop && !finished) {
      engine::info("autoencoder: stop requested (signal ", engine::stop_signal_number(), "), stopped at step ",
                   s.global_step, checkpoints ? ", checkpoint written" : ", no checkpoint folder given");
      result.stopped = true;
      break;
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.epochs = s.epoch;
  result.steps = s.global_step;
  result.converged = s.converged;
  result.epoch_losses = s.epoch_losses;
  result.final_loss = s.epoch_losses.empty() ? std::numeric_limits<double>::quiet_NaN() : s.epoch_losses.back();
  return result;
}

Eigen::MatrixXf Trainer::encode(const Eigen::MatrixXf& samples) const {
  TESSERA_CHECK(samples.rows() == impl_->network->num_genes(), "encode: samples have ", samples.rows(),
                " genes, the model ", impl_->network->num_genes());
  return impl_->network->encode(samples);
}

Eigen::MatrixXf Trainer::decode(const Eigen::MatrixXf& codes) const {
  TESSERA_CHECK(codes.rows() == impl_->params.width, "decode: codes have ", codes.rows(), " rows, the latent ",
                impl_->params.width);
  return impl_->network->decode(codes);
}

double Trainer::reconstruction_loss(const Eigen::MatrixXf& samples) const {
  const Eigen::MatrixXf r = decode(encode(samples));
  return double((r - samples).squaredNorm()) / double(samples.rows()) /
         double(std::max<Eigen::Index>(1, samples.cols()));
}

std::vector<float> Trainer::flat_parameters() const {
  std::vector<float> out;
  for (std::size_t i = 0; i < impl_->network->num_tensors(); ++i) {
    const auto values = impl_->network->values(i);
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

TrainingState Trainer::state() const { return impl_->state({}); }
void Trainer::load_state(const TrainingState& state) { impl_->load(state); }
const AutoencoderParams& Trainer::params() const { return impl_->params; }
std::int64_t Trainer::num_genes() const { return impl_->network->num_genes(); }

}  // namespace tessera::solvers::autoencoder
