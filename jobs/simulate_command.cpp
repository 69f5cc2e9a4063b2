// `tessera simulate`: write a simulated CMap-like screen (GCTX, or GCT text for a .gct name) and its ground
// truth (HDF5); or, with --release beta, a LINCS-shaped release at full scale (solvers/simulation/lincs_release.h):
// DIR/level5_beta_<all|trt_cp>_n<signatures>x<genes>.gctx written by every rank in slabs, DIR/siginfo_beta.txt,
// DIR/geneinfo_beta.txt and DIR/truth.h5.
// Every knob of SimulationParams (--num-genes, --density, ...) and of LincsReleaseParams (--cells, --compounds,
// --observed, --genes, ...) is an option, declared once in its struct; --seed serves both modes.
#include <chrono>
#include <cstdio>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/progress.h"
#include "io/gct.h"
#include "io/gctx.h"
#include "jobs/commands.h"
#include "solvers/simulation/cmap_simulator.h"
#include "solvers/simulation/lincs_release.h"

namespace tessera::jobs {

namespace {

namespace fs = std::filesystem;

// The release mode: distributed, every rank writes its slab of signatures; rank 0 prints progress and the rate.
int run_release(const engine::Context& world, const fs::path& out, solvers::simulation::LincsReleaseParams params) {
  params.validate();
  engine::info("simulating a LINCS beta release: ", params.describe(), " (", params.total_signatures(),
               " signatures on ", world.size(), " ranks)");
  const auto start = std::chrono::steady_clock::now();
  engine::Progress progress("simulate --release", params.total_signatures(), "signatures");
  const auto files = solvers::simulation::write_lincs_release(
      out, params, world, [&](std::int64_t done, std::int64_t total) { progress.update(std::min(done, total)); });
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (world.is_root()) {
    std::printf(
        "Simulated %lld signatures (%lld treated: %d cells x %d compounds at %.4g observed, %lld DMSO) x %d genes in "
        "%.1f s (%.0f signatures/s on %d ranks)\nWrote %s, %s, %s and %s\n",
        (long long)params.total_signatures(), (long long)params.treated_signatures(), params.cells, params.compounds,
        params.observed, (long long)(params.total_signatures() - params.treated_signatures()), params.genes, seconds,
        double(params.total_signatures()) / std::max(seconds, 1e-9), world.size(), files.gctx.string().c_str(),
        files.siginfo.string().c_str(), files.geneinfo.string().c_str(), files.truth.string().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int run_simulate(const engine::Context& world, const std::vector<std::string>& args) {
  solvers::simulation::SimulationParams params;
  solvers::simulation::LincsReleaseParams release;
  po::options_description options("simulate options");
  options.add_options()("out,o", po::value<std::string>()->default_value("simulated.gctx"),
                        "file of the simulated samples: GCT text when the name ends in .gct, else GCTX; with "
                        "--release, the output folder")(
      "truth", po::value<std::string>()->default_value("simulated_truth.h5"), "HDF5 file of the ground truth")(
      "release", po::value<std::string>(),
      "write a LINCS-shaped release instead (only `beta`): the level 5 GCTX, siginfo_beta.txt, "
      "geneinfo_beta.txt and truth.h5 in the --out folder, sized by the release-mode options");
  add_knob_options(options, params);
  add_knob_options(options, release);
  const auto vm = parse_options(world, spec_of("simulate"), options, args);
  if (!vm) return 0;

  // An option of the other mode would be silently ignored: refuse it (--seed serves both).
  const bool release_mode = vm->count("release") > 0;
  auto refuse_other_mode = [&](const auto& knob) {
    const std::string option = knob.option();
    TESSERA_CHECK(option == "seed" || (*vm)[option].defaulted(), "simulate: --", option, " is an option of the ",
                  release_mode ? "screen simulation (without --release)" : "release mode",
                  release_mode ? "; drop it, or drop --release" : "; add --release beta, or drop it");
  };
  if (release_mode)
    engine::declare_each(params, refuse_other_mode);
  else
    engine::declare_each(release, refuse_other_mode);

  if (release_mode) {
    const std::string name = (*vm)["release"].as<std::string>();
    TESSERA_CHECK(name == "beta", "simulate: --release '", name,
                  "' is not a release this simulator knows; the only one is `beta` (LINCS 2020)");
    TESSERA_CHECK(!(*vm)["out"].defaulted(), "simulate --release: give the output folder with --out DIR");
    release.seed = params.seed;
    return run_release(world, (*vm)["out"].as<std::string>(), release);
  }

  params.validate();
  engine::info("simulating: ", params.describe());
  const auto screen = solvers::simulation::simulate_screen(params);
  // The simulation is deterministic, so one rank simulates and writes; the others have nothing to add.
  if (world.is_root()) {
    // The format follows the name, as every reader of signature files (jobs/signature_file.h) expects it to.
    const std::filesystem::path out = (*vm)["out"].as<std::string>();
    if (out.extension() == ".gct")
      io::write_gct(out, screen.samples);
    else
      io::write_gctx(out, screen.samples);
    solvers::simulation::write_ground_truth((*vm)["truth"].as<std::string>(), screen.truth);
    std::int64_t observed = 0;
    for (auto o : screen.truth.observed) observed += o;
    std::printf(
        "Simulated %d genes x %lld profiles: %zu cell types x %zu drugs, %lld pairs observed (%.1f%%)\n"
        "Wrote %s (samples) and %s (ground truth)\n",
        params.num_genes, (long long)screen.samples.num_signatures(), screen.truth.cells.size(),
        screen.truth.drugs.size(), (long long)observed, 100.0 * observed / screen.truth.observed.size(),
        (*vm)["out"].as<std::string>().c_str(), (*vm)["truth"].as<std::string>().c_str());
  }
  world.barrier();
  return 0;
}

}  // namespace tessera::jobs
