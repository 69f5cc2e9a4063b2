// `tessera simulate`: write a simulated CMap-like screen (GCTX, or GCT text for a .gct name) and its ground
// truth (HDF5).
// Every knob of SimulationParams is an option (--num-genes, --density, ...), declared once in the struct.
#include <cstdio>

#include "engine/log.h"
#include "io/gct.h"
#include "io/gctx.h"
#include "jobs/commands.h"
#include "solvers/simulation/cmap_simulator.h"

namespace tessera::jobs {

int run_simulate(const engine::Context& world, const std::vector<std::string>& args) {
  solvers::simulation::SimulationParams params;
  po::options_description options("simulate options");
  options.add_options()("out,o", po::value<std::string>()->default_value("simulated.gctx"),
                        "file of the simulated samples: GCT text when the name ends in .gct, else GCTX")(
      "truth", po::value<std::string>()->default_value("simulated_truth.h5"), "HDF5 file of the ground truth");
  add_knob_options(options, params);
  const auto vm = parse_options(world, spec_of("simulate"), options, args);
  if (!vm) return 0;
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
