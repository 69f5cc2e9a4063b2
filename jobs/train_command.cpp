// `tessera train`: train the autoencoder (solvers/autoencoder/) on the profiles of a GCTX file, data-parallel
// over the ranks, with checkpoints and resume. Compiled only in builds with LibTorch (jobs/CMakeLists.txt);
// otherwise jobs/commands.cpp answers `tessera train` with "built without LibTorch".
//
// Outputs in --out: checkpoints/ (step-*.h5 and `latest`, solvers/autoencoder/checkpoint.h; the last one is the
// trained model), loss.csv (mean training loss per epoch), latent.gctx (the latent code of every input profile,
// width x samples, with the input's column metadata) and, with --zscore, scaling.h5 (per-gene mean and scale).
// A SIGUSR1/SIGUSR2/SIGTERM makes every rank stop at the next step, checkpoint, and exit with kExitRequeue (75);
// run again with --resume to continue bit-identically (same ranks and ae_threads).
//
// Test hook: with TESSERA_TEST_TRAIN_SIGNAL_AT_STEP=k in the environment, rank 0 raises SIGUSR2 on itself right
// after global step k, so the run stops at step k exactly as a signalled one does (the other ranks learn it at
// the same step's collective poll). It lets tests/jobs/test_train_command.cpp interrupt a run at a known step
// instead of racing a kill against the training; nothing else sets it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/fatal.h"
#include "engine/log.h"
#include "engine/signals.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "io/gctx.h"
#include "io/hdf5_file.h"
#include "jobs/commands.h"
#include "jobs/run_record.h"
#include "jobs/signature_file.h"
#include "jobs/table_input.h"
#include "solvers/autoencoder/alignment.h"
#include "solvers/autoencoder/preprocess.h"
#include "solvers/autoencoder/trainer.h"

namespace tessera::jobs {

namespace fs = std::filesystem;
namespace ae = solvers::autoencoder;

namespace {

po::options_description train_options(ae::AutoencoderParams& params) {
  po::options_description options("train options");
  options.add_options()("input,i", po::value<std::string>(),
                        "GCTX or GCT file of profiles (any level), genes x samples")(
      "out,o", po::value<std::string>()->default_value("tessera-train"), "output folder")(
      "resume", po::bool_switch(), "continue from <out>/checkpoints/latest when it exists")(
      "checkpoint-every", po::value<std::int64_t>()->default_value(0),
      "also checkpoint every N steps (0: at epoch ends, on a signal and at the end only)")(
      "log2", po::bool_switch(), "preprocess: log2(x + 1) (raw or level-3 expression)")(
      "minmax", po::bool_switch(), "preprocess: scale each sample to [0, 1] (Belyaeva et al.)")(
      "zscore", po::bool_switch(), "preprocess: z-score each gene over the samples")(
      "genes", po::value<std::vector<std::string>>()->multitoken(),
      "train on these gene ids only (comma list, or @file with one id per line), e.g. the 978 landmarks")(
      "alignment", po::value<std::vector<std::string>>()->multitoken(),
      "after training, cell types A,B: for each perturbation measured in both, the cosine of its signatures in "
      "the input and in the latent space (alignment.csv; the table is built from --input with the options below)");
  add_report_option(options);
  po::options_description table("table options for --alignment");
  add_aggregation_options(table);
  options.add(table);
  po::options_description knobs("autoencoder parameters");
  add_knob_options(knobs, params);
  options.add(knobs);
  return options;
}

std::vector<std::string> gene_list(const po::variables_map& vm) {
  if (!vm.count("genes")) return {};
  std::vector<std::string> genes;
  for (const auto& item : split_list(vm["genes"].as<std::vector<std::string>>())) {
    if (item.empty() || item[0] != '@') {
      genes.push_back(item);
      continue;
    }
    std::ifstream in(item.substr(1));
    TESSERA_CHECK(in, "--genes: cannot open gene list file '", item.substr(1), "'");
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#') genes.push_back(line.substr(0, line.find_last_not_of(" \t\r") + 1));
  }
  return genes;
}

void write_outputs(const fs::path& out, const ae::Trainer& trainer, const ae::TrainResult& result,
                   const ae::PreprocessedData& data, const io::GeneMatrix& input) {
  io::CsvTable loss{{"epoch", "loss"}, {}, {}};
  for (std::size_t e = 0; e < result.epoch_losses.size(); ++e)
    loss.rows.push_back({std::to_string(e + 1), std::to_string(result.epoch_losses[e])});
  io::write_csv(out / "loss.csv", loss);

  io::GeneMatrix latent;
  latent.values = trainer.encode(data.samples);
  for (Eigen::Index i = 0; i < latent.values.rows(); ++i)
    latent.rows.ids.push_back(std::string("z").append(std::to_string(i)));
  latent.cols = input.cols;
  io::write_gctx(out / "latent.gctx", latent);

  if (!data.scaling.empty()) {
    io::Hdf5Writer file(out / "scaling.h5");
    file.write_strings("/genes", data.genes);
    file.write_vector("/mean", {data.scaling.mean.begin(), data.scaling.mean.end()});
    file.write_vector("/scale", {data.scaling.scale.begin(), data.scaling.scale.end()});
    file.close();
  }
}

// The step of the TESSERA_TEST_TRAIN_SIGNAL_AT_STEP test hook (see the top of this file); 0 when it is unset.
std::int64_t test_signal_step() {
  const char* text = std::getenv("TESSERA_TEST_TRAIN_SIGNAL_AT_STEP");
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  const long long step = std::strtoll(text, &end, 10);
  TESSERA_CHECK(*end == '\0' && step >= 1, "TESSERA_TEST_TRAIN_SIGNAL_AT_STEP must be a step >= 1 (got '", text, "')");
  return step;
}

// Collective (the table is built on every rank); rank 0 writes <out>/alignment.csv and prints the means.
void report_alignment(const engine::Context& world, const po::variables_map& vm, const ae::Trainer& trainer,
                      const ae::PreprocessedData& data, const std::vector<std::string>& cells, const fs::path& out) {
  const auto input = load_table(world, vm["input"].as<std::string>(), aggregation_options(vm), 0);
  if (!world.is_root()) return;
  const auto rows = ae::alignment_report(trainer, input.table, cells[0], cells[1], data.scaling);
  io::CsvTable table{{"pert_id", "input_cosine", "latent_cosine"}, {}, {}};
  double input_sum = 0, latent_sum = 0;
  for (const auto& row : rows) {
    table.rows.push_back({row.pert, std::to_string(row.input_cosine), std::to_string(row.latent_cosine)});
    input_sum += row.input_cosine;
    latent_sum += row.latent_cosine;
  }
  io::write_csv(out / "alignment.csv", table);
  const double n = std::max<double>(1, double(rows.size()));
  std::printf(
      "Alignment of %s and %s over %zu shared perturbations: mean cosine %.4f in the input space, %.4f in "
      "the latent space\nWrote %s/alignment.csv\n",
      cells[0].c_str(), cells[1].c_str(), rows.size(), input_sum / n, latent_sum / n, out.c_str());
  std::fflush(stdout);
}

}  // namespace

int run_train(const engine::Context& world, const std::vector<std::string>& args) {
  ae::AutoencoderParams params;
  const auto parsed = parse_options(world, spec_of("train"), train_options(params), args);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  TESSERA_CHECK(vm.count("input"), "tessera train needs --input (a GCTX or GCT file of profiles)");
  params.validate();
  ae::PreprocessOptions preprocess_options;
  preprocess_options.log2 = vm["log2"].as<bool>();
  preprocess_options.minmax = vm["minmax"].as<bool>();
  preprocess_options.zscore = vm["zscore"].as<bool>();
  preprocess_options.genes = gene_list(vm);
  const fs::path out = vm["out"].as<std::string>();
  const std::int64_t checkpoint_every = vm["checkpoint-every"].as<std::int64_t>();
  TESSERA_CHECK(checkpoint_every >= 0, "--checkpoint-every must be >= 0");
  std::vector<std::string> alignment_cells;
  if (vm.count("alignment")) {
    alignment_cells = split_list(vm["alignment"].as<std::vector<std::string>>());
    TESSERA_CHECK(alignment_cells.size() == 2, "--alignment takes two cell types, A,B (got ", alignment_cells.size(),
                  ")");
    // The report rebuilds signatures from the raw table; only a per-gene z-score can be replayed on them.
    TESSERA_CHECK(!preprocess_options.log2 && !preprocess_options.minmax && preprocess_options.genes.empty(),
                  "--alignment works with --zscore or no preprocessing; drop --log2, --minmax and --genes (transform "
                  "the input file first instead)");
  }
  // Stop signals: jobs/main.cpp installed the handlers before MPI started, so a signal at any time, even during the
  // read below, stops training at its first step with a checkpoint (trainer.h).

  // Every rank holds every profile: the epoch permutation picks each rank's shard of each batch.
  const auto input = read_whole_signature_file(world, vm["input"].as<std::string>());
  const auto data = ae::preprocess(input, preprocess_options);
  engine::info("train: ", data.samples.cols(), " profiles x ", data.samples.rows(), " genes on ", world.size(),
               " rank(s); width ", params.width, ", depth ", params.depth, ", batch ", params.batch_size);

  ae::Trainer trainer(world, params, data.samples.rows());
  ae::TrainOptions options;
  options.checkpoint_folder = out / "checkpoints";
  options.resume = vm["resume"].as<bool>();
  options.checkpoint_every_steps = checkpoint_every;
  options.genes = data.genes;
  if (const std::int64_t step = test_signal_step(); step > 0 && world.is_root())
    options.after_step = [step](std::int64_t done) {
      if (done == step) std::raise(SIGUSR2);
    };
  const auto result = trainer.fit(data.samples, options);
  if (result.stopped) {
    engine::info("train: stopped on ", engine::signal_name(engine::stop_signal_number()), " at step ", result.steps,
                 "; checkpoint in ", options.checkpoint_folder.string(), "; exiting with ", engine::kExitRequeue,
                 " (requeue, then run again with --resume)");
    return engine::kExitRequeue;
  }
  if (world.is_root()) {
    write_outputs(out, trainer, result, data, input);
    write_options_file(world, spec_of("train"), vm, out / "options.ini");
    std::printf(
        "Trained %lld epoch(s), %lld step(s), final loss %.6g%s; %.1f samples/s over %d rank(s)\n"
        "Wrote %s/{checkpoints/, loss.csv, latent.gctx%s}\n",
        (long long)result.epochs, (long long)result.steps, result.final_loss,
        result.converged ? " (below the threshold)" : "",
        result.seconds > 0 ? double(result.samples_processed) / result.seconds : 0.0, world.size(), out.c_str(),
        data.scaling.empty() ? "" : ", scaling.h5");
    std::fflush(stdout);
  }
  if (!alignment_cells.empty()) report_alignment(world, vm, trainer, data, alignment_cells, out);
  write_report_if_asked(world, vm, out);
  return 0;
}

}  // namespace tessera::jobs
