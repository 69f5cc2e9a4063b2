// `tessera simulate`: write a simulated CMap-like screen (GCTX, or GCT text for a .gct name) and its ground
// truth (HDF5); or, with --release beta, a LINCS-shaped release at full scale (solvers/simulation/lincs_release.h):
// DIR/level5_beta_<all|trt_cp>_n<signatures>x<genes>.gctx written by every rank in slabs, DIR/siginfo_beta.txt,
// DIR/geneinfo_beta.txt and DIR/truth.h5.
// With --single-cell, a single-cell Perturb-seq screen (solvers/simulation/single_cell_screen.h): cell types x
// (controls, singles, pairs "A+B") as counts in a CSR .h5ad, and its ground truth in normalize_total units.
// Every knob of SimulationParams (--num-genes, --density, ...), of LincsReleaseParams (--cells, --compounds,
// --observed, --genes, ...) and of SingleCellParams (--cell-types, --singles, --pairs, ...) is an option, declared
// once in its struct; --seed serves every mode. An option of another mode is refused, not ignored.
#include <chrono>
#include <cstdio>
#include <set>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/progress.h"
#include "io/gct.h"
#include "io/gctx.h"
#include "io/h5ad.h"
#include "jobs/commands.h"
#include "solvers/simulation/cmap_simulator.h"
#include "solvers/simulation/lincs_release.h"
#include "solvers/simulation/single_cell_screen.h"

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

// The single-cell mode: the screen is deterministic and small, so rank 0 simulates and writes it alone (the bytes
// cannot depend on the rank count); the other ranks wait.
int run_single_cell(const engine::Context& world, const fs::path& out, const fs::path& truth_path,
                    const solvers::simulation::SimulationParams& network,
                    const solvers::simulation::SingleCellParams& params) {
  params.validate();
  const auto base = solvers::simulation::single_cell_base_params(network, params);
  base.validate();
  engine::info("simulating a single-cell screen: ", params.describe(), "; on the bulk simulator's ", base.describe());
  if (world.is_root()) {
    const auto screen = solvers::simulation::simulate_single_cell(network, params);
    solvers::simulation::write_single_cell_screen(out, screen);
    solvers::simulation::write_ground_truth(truth_path, screen.truth);
    std::int64_t measured = 0;
    for (auto o : screen.truth.observed) measured += o;
    const auto& x = screen.counts;
    std::printf(
        "Simulated %lld cells x %lld genes: %zu cell types x %d perturbations (%d singles, %d pairs), %lld of %zu "
        "groups measured, %lld nonzero counts (%.1f%%)\nWrote %s (counts) and %s (ground truth)\n",
        (long long)x.rows, (long long)x.cols, screen.truth.cells.size(), params.singles + params.pairs, params.singles,
        params.pairs, (long long)measured, screen.truth.observed.size(), (long long)x.nonzeros(),
        100.0 * double(x.nonzeros()) / (double(x.rows) * double(x.cols)), out.string().c_str(),
        truth_path.string().c_str());
    std::fflush(stdout);
  }
  world.barrier();
  return 0;
}

}  // namespace

int run_simulate(const engine::Context& world, const std::vector<std::string>& args) {
  solvers::simulation::SimulationParams params;
  solvers::simulation::LincsReleaseParams release;
  po::options_description options("simulate options");
  options.add_options()("out,o", po::value<std::string>()->default_value("simulated.gctx"),
                        "file of the simulated samples: GCT text when the name ends in .gct, else GCTX; with "
                        "--release, the output folder; with --single-cell, the .h5ad (default simulated.h5ad)")(
      "truth", po::value<std::string>()->default_value("simulated_truth.h5"), "HDF5 file of the ground truth")(
      "release", po::value<std::string>(),
      "write a LINCS-shaped release instead (only `beta`): the level 5 GCTX, siginfo_beta.txt, "
      "geneinfo_beta.txt and truth.h5 in the --out folder, sized by the release-mode options");
  options.add_options()("single-cell", po::bool_switch(),
                        "write a simulated single-cell Perturb-seq screen instead: counts of cell types x (controls, "
                        "singles, pairs A+B) as a CSR .h5ad (--out, default simulated.h5ad) and its ground truth in "
                        "normalize_total units (--truth), sized by the single-cell options (--cell-types, --singles, "
                        "--pairs, --cells-per-group, ...)");
  solvers::simulation::SingleCellParams single_cell;
  add_knob_options(options, params);
  add_knob_options(options, release);
  add_knob_options(options, single_cell);
  const auto vm = parse_options(world, spec_of("simulate"), options, args);
  if (!vm) return 0;

  // An option of another mode would be silently ignored: refuse it (--seed serves all).
  const bool release_mode = vm->count("release") > 0;
  const bool single_cell_mode = (*vm)["single-cell"].as<bool>();
  TESSERA_CHECK(!(release_mode && single_cell_mode),
                "simulate: --single-cell and --release are two different modes; give one of them");
  auto refuse_other_mode = [&](const auto& knob) {
    const std::string option = knob.option();
    TESSERA_CHECK(option == "seed" || (*vm)[option].defaulted(), "simulate: --", option, " is an option of the ",
                  release_mode ? "screen simulation (without --release)" : "release mode",
                  release_mode       ? "; drop it, or drop --release"
                  : single_cell_mode ? "; drop it, or drop --single-cell for --release beta"
                                     : "; add --release beta, or drop it");
  };
  auto refuse_single_cell = [&](const auto& knob) {
    const std::string option = knob.option();
    TESSERA_CHECK((*vm)[option].defaulted(), "simulate: --", option, " is an option of the single-cell screen; ",
                  release_mode ? "drop it, or drop --release for --single-cell" : "add --single-cell, or drop it");
  };
  // The bulk screen's own sizes and sampling knobs; the single-cell screen has its own (the network and drug knobs
  // serve both).
  const std::set<std::string> bulk_only{
      "num-cells",       "num-drugs",         "replicates", "controls-per-cell",   "measurement-sd",
      "reference-cells", "reference-density", "density",    "cell-density-spread", "popularity-skew"};
  auto refuse_bulk_only = [&](const auto& knob) {
    const std::string option = knob.option();
    TESSERA_CHECK(!bulk_only.count(option) || (*vm)[option].defaulted(), "simulate --single-cell: --", option,
                  " is an option of the bulk screen; the single-cell screen is sized by --cell-types, --singles, "
                  "--pairs, --cells-per-group, --control-cells and --measured-share");
  };
  if (release_mode) {
    engine::declare_each(params, refuse_other_mode);
    engine::declare_each(single_cell, refuse_single_cell);
  } else {
    engine::declare_each(release, refuse_other_mode);
    if (single_cell_mode)
      engine::declare_each(params, refuse_bulk_only);
    else
      engine::declare_each(single_cell, refuse_single_cell);
  }

  if (single_cell_mode) {
    const fs::path out =
        (*vm)["out"].defaulted() ? fs::path("simulated.h5ad") : fs::path((*vm)["out"].as<std::string>());
    TESSERA_CHECK(io::is_h5ad_path(out), "simulate --single-cell: --out '", out.string(),
                  "' must name an .h5ad file (the screen is written as AnnData); name it FILE.h5ad");
    return run_single_cell(world, out, (*vm)["truth"].as<std::string>(), params, single_cell);
  }

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
