#include "solvers/autoencoder/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
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
#include "solvers/autoencoder/network.h"

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

torch::Tensor as_rows(const Eigen::MatrixXf& matrix) {
  // Eigen column-major genes x n is row-major [n, genes]: the same memory, no copy.
  return torch::from_blob(const_cast<float*>(matrix.data()), {matrix.cols(), matrix.rows()}, torch::kFloat32);
}

Eigen::MatrixXf to_columns(const torch::Tensor& rows) {
  const torch::Tensor t = rows.contiguous();
  Eigen::MatrixXf out(t.size(1), t.size(0));
  std::memcpy(out.data(), t.data_ptr<float>(), sizeof(float) * std::size_t(t.numel()));
  return out;
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
  Network network;
  Optimizer optimizer;
  std::int64_t epoch = 0, step_in_epoch = 0, global_step = 0;
  double epoch_loss_sum = 0;
  std::vector<double> epoch_losses;
  bool converged = false;
  std::vector<float> bucket;        // flat gradients of all parameters (multi-rank only)
  std::vector<std::int64_t> order;  // permutation of the current epoch
  std::int64_t order_epoch = -1;

  Impl(const engine::Context& c, const AutoencoderParams& p, std::int64_t num_genes)
      : ctx(c), params(p), network(p, num_genes), optimizer(p, network.parameters()) {}

  void broadcast_parameters() {
    if (ctx.size() == 1) return;
    std::vector<double> values;
    values.reserve(std::size_t(network.num_values()));
    for (const auto& p : network.parameters()) {
      const float* data = p.data_ptr<float>();
      values.insert(values.end(), data, data + p.numel());
    }
    engine::broadcast(ctx, std::span<double>(values));
    std::size_t offset = 0;
    for (auto& p : network.parameters()) {
      float* data = p.data_ptr<float>();
      for (std::int64_t k = 0; k < p.numel(); ++k) data[k] = float(values[offset++]);
    }
  }

  // Sums the gradients over ranks: copy into the flat bucket buffer in parameter order, allreduce it in
  // fixed-size chunks, copy back.
  void allreduce_gradients() {
    if (ctx.size() == 1) return;
    auto& parameters = network.parameters();
    bucket.resize(std::size_t(network.num_values()));
    std::size_t offset = 0;
    for (auto& p : parameters) {
      std::memcpy(bucket.data() + offset, p.grad().data_ptr<float>(), sizeof(float) * std::size_t(p.numel()));
      offset += std::size_t(p.numel());
    }
    for (std::size_t begin = 0; begin < bucket.size(); begin += kBucketFloats) {
      const std::size_t size = std::min(kBucketFloats, bucket.size() - begin);
      engine::allreduce_sum(ctx, std::span<float>(bucket.data() + begin, size));
    }
    offset = 0;
    for (auto& p : parameters) {
      std::memcpy(p.mutable_grad().data_ptr<float>(), bucket.data() + offset, sizeof(float) * std::size_t(p.numel()));
      offset += std::size_t(p.numel());
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
  double step(const Eigen::MatrixXf& data, torch::Tensor& batch) {
    const std::int64_t n = data.cols(), d = data.rows();
    const std::int64_t batch_size = params.batch_size;
    const auto& perm = permutation(n);
    const std::int64_t begin = step_in_epoch * batch_size;
    const std::int64_t global = std::min(batch_size, n - begin);
    const engine::BlockRange shard = engine::block_range(global, ctx.size(), ctx.rank());

    auto& parameters = network.parameters();
    for (auto& p : parameters) p.mutable_grad() = torch::Tensor();
    double local_loss = 0;
    if (shard.size() > 0) {
      if (batch.size(0) != shard.size()) batch = torch::empty({shard.size(), d}, torch::kFloat32);
      float* rows = batch.data_ptr<float>();
      for (std::int64_t i = 0; i < shard.size(); ++i)
        std::memcpy(rows + i * d, data.col(perm[std::size_t(begin + shard.begin + i)]).data(), sizeof(float) * d);
      const torch::Tensor reconstruction = network.decode(network.encode(batch));
      // Sum over the shard of per-sample MSE, divided by the GLOBAL batch size: the rank sum is the batch mean.
      const torch::Tensor loss_sum = (reconstruction - batch).pow(2).sum() / double(d);
      (loss_sum / double(global)).backward();
      local_loss = loss_sum.item<double>();
    } else {
      for (auto& p : parameters) p.mutable_grad() = torch::zeros_like(p);
    }
    allreduce_gradients();
    optimizer.step(parameters);
    return engine::allreduce_sum(ctx, local_loss);
  }

  TrainingState state(const std::vector<std::string>& genes) const {
    TrainingState s;
    auto flat = [](const torch::Tensor& t) {
      const torch::Tensor c = t.contiguous();
      return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    };
    for (const auto& p : network.parameters()) {
      s.shapes.push_back({p.size(0), p.dim() > 1 ? p.size(1) : 1});
      s.parameters.push_back(flat(p));
    }
    auto& opt = const_cast<Optimizer&>(optimizer);
    for (const auto& m : opt.first_moments()) s.adam_m.push_back(flat(m));
    for (const auto& v : opt.second_moments()) s.adam_v.push_back(flat(v));
    s.optimizer_step = optimizer.step_count();
    s.epoch = epoch;
    s.step_in_epoch = step_in_epoch;
    s.global_step = global_step;
    s.num_ranks = ctx.size();
    s.num_genes = network.num_genes();
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
    auto& parameters = network.parameters();
    TESSERA_CHECK(s.parameters.size() == parameters.size(), "checkpoint holds ", s.parameters.size(),
                  " parameter tensors, this model has ", parameters.size(), "; resume with the same ae_* options");
    TESSERA_CHECK(s.num_genes == network.num_genes(), "checkpoint was trained on ", s.num_genes,
                  " genes, this run has ", network.num_genes(), "; resume with the same input and gene list");
    const auto mine = params_as_text(params);
    for (std::size_t i = 0; i < s.param_names.size(); ++i) {
      if (!is_architecture_knob(s.param_names[i])) continue;
      for (const auto& [name, value] : mine)
        TESSERA_CHECK(name != s.param_names[i] || value == s.param_values[i], "checkpoint was trained with ", name, "=",
                      s.param_values[i], " but this run asks for ", name, "=", value,
                      "; resume with the checkpoint's options or start a new run in another folder");
    }
    torch::NoGradGuard no_grad;
    auto copy_into = [](torch::Tensor& t, const std::vector<float>& values, const char* what, std::size_t i) {
      TESSERA_CHECK(std::int64_t(values.size()) == t.numel(), "checkpoint ", what, " ", i, " holds ", values.size(),
                    " values, the model expects ", t.numel(), "; resume with the same ae_* options");
      std::memcpy(t.data_ptr<float>(), values.data(), sizeof(float) * values.size());
    };
    for (std::size_t i = 0; i < parameters.size(); ++i) copy_into(parameters[i], s.parameters[i], "parameter", i);
    if (optimizer.is_adam()) {
      TESSERA_CHECK(s.adam_m.size() == parameters.size() && s.adam_v.size() == parameters.size(),
                    "checkpoint has no Adam moments for this model (was it trained with ae_optimizer=sgd?)");
      for (std::size_t i = 0; i < parameters.size(); ++i) {
        copy_into(optimizer.first_moments()[i], s.adam_m[i], "Adam first moment", i);
        copy_into(optimizer.second_moments()[i], s.adam_v[i], "Adam second moment", i);
      }
    }
    optimizer.set_step_count(s.optimizer_step);
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
  switch (params.device) {
    case Device::kCpu:
      break;
    case Device::kCuda:
      TESSERA_CHECK(torch::cuda::is_available(), "ae_device=cuda: this Tessera was built without CUDA (LibTorch ",
                    TORCH_VERSION, " CPU only); use ae_device=cpu or rebuild against a CUDA LibTorch");
      TESSERA_FAIL("ae_device=cuda is not implemented yet (NCCL gradient allreduce is planned); use ae_device=cpu");
  }
  if (params.threads > 0) torch::set_num_threads(params.threads);
  impl_ = std::make_unique<Impl>(ctx, params, num_genes);
  if (ctx.is_root()) impl_->network.initialise(params.seed);
  impl_->broadcast_parameters();
}

Trainer::~Trainer() = default;

TrainResult Trainer::fit(const Eigen::MatrixXf& data, const TrainOptions& options) {
  auto& s = *impl_;
  const std::int64_t n = data.cols();
  TESSERA_CHECK(data.rows() == s.network.num_genes(), "training data has ", data.rows(), " genes, the model ",
                s.network.num_genes());
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
  torch::Tensor batch = torch::empty({0, s.network.num_genes()}, torch::kFloat32);
  const auto start = std::chrono::steady_clock::now();
  while (!s.converged && s.epoch < s.params.max_epochs) {
    const std::int64_t begin = s.step_in_epoch * s.params.batch_size;
    s.epoch_loss_sum += s.step(data, batch);
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
  TESSERA_CHECK(samples.rows() == impl_->network.num_genes(), "encode: samples have ", samples.rows(),
                " genes, the model ", impl_->network.num_genes());
  torch::NoGradGuard no_grad;
  return to_columns(impl_->network.encode(as_rows(samples)));
}

Eigen::MatrixXf Trainer::decode(const Eigen::MatrixXf& codes) const {
  TESSERA_CHECK(codes.rows() == impl_->params.width, "decode: codes have ", codes.rows(), " rows, the latent ",
                impl_->params.width);
  torch::NoGradGuard no_grad;
  return to_columns(impl_->network.decode(as_rows(codes)));
}

double Trainer::reconstruction_loss(const Eigen::MatrixXf& samples) const {
  const Eigen::MatrixXf r = decode(encode(samples));
  return double((r - samples).squaredNorm()) / double(samples.rows()) /
         double(std::max<Eigen::Index>(1, samples.cols()));
}

std::vector<float> Trainer::flat_parameters() const {
  std::vector<float> out;
  for (const auto& p : impl_->network.parameters()) {
    const float* data = p.data_ptr<float>();
    out.insert(out.end(), data, data + p.numel());
  }
  return out;
}

TrainingState Trainer::state() const { return impl_->state({}); }
void Trainer::load_state(const TrainingState& state) { impl_->load(state); }
const AutoencoderParams& Trainer::params() const { return impl_->params; }
std::int64_t Trainer::num_genes() const { return impl_->network.num_genes(); }

}  // namespace tessera::solvers::autoencoder
