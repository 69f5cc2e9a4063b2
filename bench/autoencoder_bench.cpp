// Autoencoder training throughput: samples/s of Trainer::fit (data-parallel over the MPI ranks) for the
// Belyaeva et al. model, to compare with the same model and loop in PyTorch (bench/autoencoder_pytorch.py).
//
//   autoencoder_bench [--genes=978] [--width=1024] [--batch=128] [--samples=8192] [--epochs=3] [--threads=0]
//   mpirun -np 2 autoencoder_bench ...
//
// Data: samples x genes standard normal profiles (engine::RandomStream), identical on every rank. The first
// epoch is a warm-up and not timed; the figure is global samples per second over the remaining epochs, wall
// time of rank 0, and per CPU second (user + system summed over ranks: the fair figure on a shared machine).
// --threads sets LibTorch's intra-op threads per rank (0 = LibTorch's default).
#include <cstdio>

#include "bench/bench_args.h"
#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/log.h"
#include "engine/random.h"
#include "solvers/autoencoder/trainer.h"

namespace ae = tessera::solvers::autoencoder;
namespace bench = tessera::bench;

namespace {

int run(const tessera::engine::Context& world, bench::BenchArgs& args) {
  const int genes = int(args.integer("genes", 978)), width = int(args.integer("width", 1024));
  const int batch = int(args.integer("batch", 128)), samples = int(args.integer("samples", 8192));
  const int epochs = int(args.integer("epochs", 3)), threads = int(args.integer("threads", 0));
  args.finish();
  tessera::engine::RandomStream random(1, "bench/autoencoder/data");
  Eigen::MatrixXf data(genes, samples);
  for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = float(random.normal());

  ae::AutoencoderParams params;
  params.width = width;
  params.batch_size = batch;
  params.threads = threads;
  params.max_epochs = 1;
  ae::Trainer trainer(world, params, genes);
  ae::TrainOptions options;
  options.poll_signals = true;  // as in production: one extra allreduce per step
  options.log_epochs = false;
  trainer.fit(data, options);  // warm-up epoch
  // Continue the same run for the timed epochs.
  auto state = trainer.state();
  params.max_epochs = 1 + epochs;
  ae::Trainer timed(world, params, genes);
  timed.load_state(state);
  const double cpu_start = bench::cpu_seconds();
  const auto result = timed.fit(data, options);
  const double cpu = tessera::engine::allreduce_sum(world, bench::cpu_seconds() - cpu_start);  // all ranks together
  if (world.is_root())
    std::printf(
        "autoencoder_bench: d=%d width=%d batch=%d samples=%d ranks=%d threads/rank=%d: %.0f samples/s, "
        "%.0f samples per CPU s (%.3f s wall, %.3f s CPU over all ranks, %lld samples, final loss %.5f)\n",
        genes, width, batch, samples, world.size(), threads,
        bench::rate(double(result.samples_processed), result.seconds),
        bench::rate(double(result.samples_processed), cpu), result.seconds, cpu, (long long)result.samples_processed,
        result.final_loss);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tessera::engine::MpiSession mpi(&argc, &argv);
  const tessera::engine::Context world;
  tessera::engine::init_logging(world.rank(), world.size(), tessera::engine::LogLevel::kWarn);
  bench::BenchArgs args(argc, argv,
                        "autoencoder_bench [--genes=978] [--width=1024] [--batch=128] [--samples=8192] [--epochs=3] "
                        "[--threads=0]");
  return bench::bench_main(world, [&] { return run(world, args); });
}
