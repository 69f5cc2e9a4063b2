// A single-cell Perturb-seq screen (counts per cell, as scPerturb / GEARS / Norman et al. 2019 distribute them),
// simulated on top of the causal screen of cmap_simulator.h, with the ground truth that pseudobulk converges to.
//
// Model:
//   * cell types (contexts) and single perturbations are cmap_simulator's cell types and drugs: the bulk simulator
//     runs with num_cells = cell_types and num_drugs = singles and the caller's network and drug knobs; its exact
//     signatures sig(c, s) (log2 units) give each single's effect on the log rate of every gene,
//     effect(c, s) = ln 2 * sig(c, s), so downstream genes respond through the same network;
//   * `pairs` distinct combinations "A+B" of singles (parts sorted, io/combinations.h's canonical name), drawn
//     uniformly; effect(c, A+B) = effect(c, A) + effect(c, B) + interaction, where the interaction is
//     interaction_sd * N(0, 1) on each gene that A or B changes, drawn per (cell type, pair); with the default
//     interaction_sd = 0 the pair is exactly additive on this effect (log rate) scale, i.e. multiplicative on the
//     rates. In normalize_total units (the truth below) a pair's change is then NOT exactly the sum of its parts'
//     changes (the product term and the renormalisation differ; measured at the defaults with --seed 4, 10 singles,
//     12 pairs: median 2.6%, largest 37% of the pair's norm): exact additivity there cannot hold in general, since
//     two strong knock-downs of one gene would drive its expected share below zero;
//   * baseline rates of cell type c: rate0(g, c) = library_size * 2^mu(g, c) / sum_g 2^mu(g, c), mu = the bulk
//     simulator's baseline means (log2): a control cell has library_size counts on average;
//   * the mean profile of (c, p) is rate(g, c, p) = rate0(g, c) * exp(effect(c, p)(g)); a cell of the group draws a
//     size factor f = exp(library_sd * z - library_sd^2 / 2) (mean 1) and counts x_g ~ Poisson(f * rate(g, c, p));
//   * which groups are measured: each (cell type, perturbation) with chance measured_share, every perturbation in
//     at least one cell type; every cell type has its control cells.
//
// Ground truth (GroundTruth of cmap_simulator.h, so `tessera evaluate --ground-truth` reads it): drugs = every
// perturbation (singles and pairs, sorted names), observed = measured, and for every (c, p), measured or not,
// signatures(:, entry(c, p)) = target_sum * (pi(c, p) - pi(c, ctrl)), pi = rate / sum_g rate: the expected change
// of the group mean of normalize_total counts (counts / cell total * target_sum, WITHOUT log1p) from the control's.
// Given a cell's total n > 0 its Poisson counts are multinomial(n, pi), so E[x_g / n * target_sum] is exactly
// target_sum * pi_g whatever the size factor: pseudobulk of many cells converges to the truth (cells with total 0
// are excluded; at the defaults they do not occur). log1p would bias the mean (Jensen), so the truth is not in
// log1p units. The truth's network, intercepts and baseline_means are the bulk simulator's; params is the bulk
// SimulationParams it ran with (num_drugs = singles); a pair's intervention lists hold both parts' targets (kind:
// its first part's), for reference only: its signature follows the additive model above, not the SEM.
//
// Deterministic from the seed (SimulationParams::seed): each part draws from its own engine::RandomStream indexed
// by the unit of work, so the screen is bit-identical run to run and independent of who computes it. Local.
#pragma once

#include <Eigen/Dense>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "io/h5ad_writer.h"
#include "io/meta_table.h"
#include "solvers/simulation/cmap_simulator.h"

namespace tessera::solvers::simulation {

// The control perturbation's name in the file (scPerturb's and GEARS's "ctrl").
inline constexpr const char* kSingleCellControl = "ctrl";

struct SingleCellParams {
  int cell_types = 3;            // contexts
  int singles = 8;               // single perturbations
  int pairs = 6;                 // combinations "A+B" of two singles
  int cells_per_group = 50;      // cells per measured (cell type, perturbation)
  int control_cells = 200;       // control cells per cell type
  double measured_share = 0.75;  // chance that a (cell type, perturbation) group is measured
  double library_size = 500;     // mean total count of a control cell (at 978 genes: ~25% of counts nonzero)
  double library_sd = 0.3;       // sd of the log size factor of a cell
  double interaction_sd = 0;     // sd of a pair's interaction on the log rate of each gene its parts change
  double target_sum = 10000;     // normalize_total's target: the unit of the ground truth

  void validate() const;
  std::string describe() const;

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("cell_types", self.cell_types, "single-cell screen: cell types (contexts)").in(1, 1000));
    declare(engine::knob("singles", self.singles, "single-cell screen: single perturbations").in(1, 10000));
    declare(engine::knob("pairs", self.pairs, "single-cell screen: combinations A+B of two singles").in(0, 1000000));
    declare(engine::knob("cells_per_group", self.cells_per_group,
                         "single-cell screen: cells per measured (cell type, perturbation)")
                .in(1, 1000000));
    declare(engine::knob("control_cells", self.control_cells, "single-cell screen: control cells per cell type")
                .in(1, 10000000));
    declare(engine::knob("measured_share", self.measured_share,
                         "single-cell screen: chance that a (cell type, perturbation) group is measured")
                .in(0.0, 1.0));
    declare(engine::knob("library_size", self.library_size, "single-cell screen: mean total count of a control cell")
                .in(1.0, 1e7));
    declare(engine::knob("library_sd", self.library_sd, "single-cell screen: sd of the log size factor of a cell")
                .in(0.0, 3.0));
    declare(engine::knob("interaction_sd", self.interaction_sd,
                         "single-cell screen: sd of a pair's interaction on the log rate of each gene its parts "
                         "change (0: exactly additive)")
                .in(0.0, 10.0));
    declare(engine::knob("target_sum", self.target_sum,
                         "single-cell screen: normalize_total target, the unit of the ground truth")
                .in(1e-6, 1e12));
  }
};

struct SingleCellScreen {
  std::vector<std::string> genes;       // var index (the truth's gene ids)
  io::MetaTable obs;                    // cells: perturbation, cell_type, condition (categorical in the file)
  io::CsrMatrix counts;                 // cells x genes, integer counts stored as float32
  Eigen::MatrixXd control_proportions;  // genes x cell types: pi(c, ctrl), the expected share of each gene
  GroundTruth truth;                    // see above
  std::vector<std::vector<int>> parts;  // per perturbation (truth.drugs order): indices of its singles
};

// The bulk simulator's parameters the single-cell screen runs with: `network` with num_cells = cell_types and
// num_drugs = singles, and the bulk screen's own knobs (replicates, mask) at their cheapest, since only its truth
// is used.
SimulationParams single_cell_base_params(const SimulationParams& network, const SingleCellParams& params);

// Validates both, then simulates. Deterministic from network.seed. Local.
SingleCellScreen simulate_single_cell(const SimulationParams& network, const SingleCellParams& params);

// GEARS's condition of a perturbation name: "ctrl", "A+ctrl" for a single, the name itself for a combination.
std::string gears_condition(const std::string& perturbation);

// Writes the screen as .h5ad (io::write_h5ad_csr, io/h5ad_writer.h), atomically. Local.
void write_single_cell_screen(const std::filesystem::path& path, const SingleCellScreen& screen);

}  // namespace tessera::solvers::simulation
