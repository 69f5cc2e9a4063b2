// A CMap/L1000-like perturbation screen simulated from a causal model, with its ground truth.
//
// Model (see gene_network.h for the SEM and intervention conventions):
//   * one random sparse gene-regulatory DAG shared by all cell types; cell type c has its own edge weights B_c
//     (a share of the edges redrawn) and its own means mu_c (a shared per-gene level plus a cell deviation); its
//     intercepts are b_c = (I - B_c) mu_c, so that mean expression sits on the L1000 Level 3 (log2) scale;
//   * drug d intervenes on a few target genes drawn from a shared pool (so drugs overlap), either by shifting
//     them or by a perfect intervention; each (cell, target) pair scales the drug's effect by its own response
//     factor, because a drug does not hit its targets equally hard in every cell type;
//   * the true signature of (c, d) is the exact change of the mean, computed in closed form;
//   * the screen holds expression-level profiles (like L1000 Level 3): per observed (c, d), `replicates` draws
//     from the interventional SEM, and per cell type `controls_per_cell` observational draws (DMSO), each plus
//     measurement noise. mean(treated) - mean(controls) is then an unbiased estimate of the true signature;
//   * which (c, d) are observed mimics CMap: reference cell types measure most drugs, the others few, and
//     popular drugs are measured in more cell types than the rest; every drug is observed at least once.
// Everything is deterministic from `seed`: each part draws from its own engine::RandomStream, indexed by the
// unit of work (cell, entry), so the result is bit-identical run to run. All calls are local (no MPI).
//
// Calibration of the defaults (tests/solvers/simulation/test_simulator.cpp, DefaultsAreCalibrated): the same drug in
// two cell types correlates with median r 0.75 (true signatures) and 0.25 (observed, aggregated), as in CMap (0.2-0.5);
// different drugs ~0.0 in two cell types (CMap ~0.05, from stress responses not modelled here).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "io/gene_matrix.h"
#include "solvers/simulation/gene_network.h"

namespace tessera::solvers::simulation {

struct SimulationParams {
  std::uint64_t seed = 1;  // every random draw derives from it
  int num_genes = 978;     // genes (the L1000 landmark count)
  int num_cells = 12;      // cell types
  int num_drugs = 200;     // drugs (compounds)
  // Network. Stability: a gene's variance grows along a path by about (in-degree * E[w^2]) per step; with
  // 1.5 parents and |w| ~ U(0.25, 0.75) (E[w^2] = 0.27) that factor is ~0.4 < 1, so variances stay O(1)
  // however long the chains (measured at the defaults: median 1.5, max 5.2 in units of noise_sd^2).
  double expected_parents = 1.5;  // mean number of regulators per gene (Poisson)
  double hub_share = 0.05;        // share of genes that are hub regulators (upstream)
  double hub_edge_share = 0.3;    // share of edges that start at a hub
  double weight_low = 0.25;       // |edge weight| ~ U(weight_low, weight_high), random sign
  double weight_high = 0.75;
  double noise_sd = 0.3;  // sd of each gene's own biological noise e_i (log2 units)
  // Cell types.
  double changed_edge_share = 0.1;  // share of edges whose weight each cell type redraws
  double mean_expression = 8.0;     // average log2 expression level of a gene
  double mean_expression_sd = 2.0;  // spread of the shared expression level across genes
  double cell_mean_sd = 0.5;        // cell-specific deviation of each gene's mean
  // Drugs.
  int targets_per_drug = 3;    // target genes per drug
  int target_pool_size = 100;  // druggable genes (drawn with odds ~ out-degree) that targets come from
  double effect_low = 1.0;     // |effect| on a target ~ U(effect_low, effect_high) (log2 units)
  double effect_high = 3.0;
  double perfect_share = 0.2;     // share of drugs that are perfect interventions (the others shift)
  double inhibition_share = 0.7;  // chance that a drug lowers a target (most compounds are inhibitors)
  double response_sd = 0.6;       // sd of the log response factor of each (cell, drug target)
  // Screen.
  int replicates = 3;                // treated profiles per observed (cell, drug)
  int controls_per_cell = 16;        // DMSO profiles per cell type
  double measurement_sd = 0.3;       // sd of the measurement noise added to every profile (log2 units)
  int reference_cells = 2;           // cell types that measure most drugs
  double reference_density = 0.9;    // share of drugs a reference cell type measures
  double density = 0.15;             // mean share of drugs each other cell type measures
  double cell_density_spread = 0.5;  // other cell types' densities ~ density * U(1 - spread, 1 + spread)
  double popularity_skew = 1.0;      // sd of the log popularity of drugs (0: all drugs equally popular)

  // Throws tessera::Error naming the first bad parameter, its value and its allowed range.
  void validate() const;
  // One line "seed=1 num_genes=978 ..." for logs: every knob in declaration order.
  std::string describe() const;

  // Every knob, with its allowed range (engine/parameters.h). Ranges that depend on another knob (weight_low <=
  // weight_high, targets_per_drug <= target_pool_size <= num_genes, effect_low <= effect_high, reference_cells
  // <= num_cells) are checked by validate().
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("seed", self.seed, "random seed (every random draw derives from it)"));
    declare(engine::knob("num_genes", self.num_genes, "genes (the L1000 landmark count)").in(1, 100000));
    declare(engine::knob("num_cells", self.num_cells, "cell types").in(1, 10000));
    declare(engine::knob("num_drugs", self.num_drugs, "drugs (compounds)").in(1, 1000000));
    declare(engine::knob("expected_parents", self.expected_parents, "mean number of regulators per gene (Poisson)")
                .in(0.0, 20.0));
    declare(
        engine::knob("hub_share", self.hub_share, "share of genes that are hub regulators (upstream)").in(0.0, 1.0));
    declare(engine::knob("hub_edge_share", self.hub_edge_share, "share of edges that start at a hub").in(0.0, 1.0));
    declare(engine::knob("weight_low", self.weight_low,
                         "|edge weight| ~ U(weight_low, weight_high), random sign; at most weight_high")
                .in(0.0, 1.0));
    declare(engine::knob("weight_high", self.weight_high, "largest |edge weight|").in(0.0, 1.0));
    declare(
        engine::knob("noise_sd", self.noise_sd, "sd of each gene's own biological noise (log2 units)").in(0.0, 100.0));
    declare(engine::knob("changed_edge_share", self.changed_edge_share,
                         "share of edges whose weight each cell type redraws")
                .in(0.0, 1.0));
    declare(
        engine::knob("mean_expression", self.mean_expression, "average log2 expression level of a gene").in(-1e6, 1e6));
    declare(engine::knob("mean_expression_sd", self.mean_expression_sd,
                         "spread of the shared expression level across genes")
                .in(0.0, 1e6));
    declare(
        engine::knob("cell_mean_sd", self.cell_mean_sd, "cell-specific deviation of each gene's mean").in(0.0, 1e6));
    declare(engine::knob("targets_per_drug", self.targets_per_drug, "target genes per drug; at most target_pool_size")
                .at_least(1));
    declare(engine::knob("target_pool_size", self.target_pool_size,
                         "druggable genes that targets come from; at most num_genes")
                .at_least(1));
    declare(engine::knob("effect_low", self.effect_low,
                         "|effect| on a target ~ U(effect_low, effect_high) (log2 units); at most effect_high")
                .in(0.0, 1e3));
    declare(engine::knob("effect_high", self.effect_high, "largest |effect| on a target (log2 units)").in(0.0, 1e3));
    declare(engine::knob("perfect_share", self.perfect_share,
                         "share of drugs that are perfect interventions (the others shift)")
                .in(0.0, 1.0));
    declare(engine::knob("inhibition_share", self.inhibition_share, "chance that a drug lowers a target").in(0.0, 1.0));
    declare(engine::knob("response_sd", self.response_sd, "sd of the log response factor of each (cell, drug target)")
                .in(0.0, 10.0));
    declare(engine::knob("replicates", self.replicates, "treated profiles per observed (cell, drug)").in(1, 10000000));
    declare(engine::knob("controls_per_cell", self.controls_per_cell, "DMSO profiles per cell type").in(1, 10000000));
    declare(engine::knob("measurement_sd", self.measurement_sd,
                         "sd of the measurement noise added to every profile (log2 units)")
                .in(0.0, 100.0));
    declare(
        engine::knob("reference_cells", self.reference_cells, "cell types that measure most drugs; at most num_cells")
            .at_least(0));
    declare(engine::knob("reference_density", self.reference_density, "share of drugs a reference cell type measures")
                .in(0.0, 1.0));
    declare(engine::knob("density", self.density, "mean share of drugs each other cell type measures").in(0.0, 1.0));
    declare(engine::knob("cell_density_spread", self.cell_density_spread,
                         "other cell types' densities ~ density * U(1 - spread, 1 + spread)")
                .in(0.0, 1.0));
    declare(engine::knob("popularity_skew", self.popularity_skew,
                         "sd of the log popularity of drugs (0: all drugs equally popular)")
                .in(0.0, 5.0));
  }
};

struct GroundTruth {
  SimulationParams params;                       // the parameters that made it
  std::vector<std::string> genes, cells, drugs;  // sorted ids ("g0001", "CELL01", "DRUG0001"), index = position
  std::vector<std::string> gene_symbols;         // per gene ("GENE0001")
  Eigen::MatrixXd signatures;           // genes x (cells * drugs), column cell * num_drugs + drug: exact mean change
  std::vector<std::uint8_t> observed;   // cells * drugs, same indexing: the mask the screen was sampled with
  std::vector<int> reference_cells;     // indices of the reference cell types
  Eigen::MatrixXd baseline_means;       // genes x cells: mu_c
  Eigen::MatrixXd intercepts;           // genes x cells: b_c = (I - B_c) mu_c
  GeneNetwork network;                  // the DAG: topological order and (parent, child) edges
  Eigen::MatrixXd edge_weights;         // edges x cells: column c holds B_c, edge e = network.edges()[e]
  std::vector<InterventionKind> kinds;  // per drug
  std::vector<std::int64_t> target_offsets;  // drugs + 1: drug d's targets are [offsets[d], offsets[d + 1])
  std::vector<int> target_genes;             // target gene index per slot
  Eigen::MatrixXd target_values;             // slots x cells: the shift delta, or the perfect value v, per cell

  std::int64_t num_entries() const { return std::int64_t(cells.size() * drugs.size()); }
  std::int64_t entry(std::int64_t cell, std::int64_t drug) const { return cell * std::int64_t(drugs.size()) + drug; }
  // The SEM of one cell type (points into this->network: keep the truth alive while using it).
  LinearSem sem(int cell) const;
  // Drug `drug` as applied in cell type `cell`.
  Intervention intervention(int cell, int drug) const;
};

struct SimulatedScreen {
  // Genes x profiles, float, like L1000 Level 3. Rows: id, pr_gene_symbol. Columns: id, cell_id, pert_id,
  // pert_iname, pert_idose, pert_itime, pert_type ("trt_cp" or "ctl_vehicle"; controls have pert_id "DMSO").
  // Column order: per cell type, its controls, then its observed drugs in order, replicates adjacent.
  io::GeneMatrix samples;
  GroundTruth truth;
};

// Validates params, then simulates. Deterministic from params (bit-identical run to run). Local.
SimulatedScreen simulate_screen(const SimulationParams& params);

// Writes the truth as HDF5 (group /truth, params as its attributes), atomically. Local.
void write_ground_truth(const std::filesystem::path& path, const GroundTruth& truth);
// Reads a file written by write_ground_truth; a clear Error when the file is not a Tessera truth file.
GroundTruth read_ground_truth(const std::filesystem::path& path);

}  // namespace tessera::solvers::simulation
