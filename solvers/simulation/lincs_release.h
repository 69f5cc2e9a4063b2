// A simulated LINCS "beta" release at full scale: a level 5 GCTX of signatures written by every rank in slabs
// (io/gctx_writer.h), the side tables siginfo_beta.txt and geneinfo_beta.txt, and a small truth file from which
// the true signature of any (cell, compound) pair can be recomputed (lincs_true_signature).
//
// Model. The cells x compounds x genes tensor of true signatures is never formed: it is a rank-R CP model,
//     truth(g, c, d) = a_d * sum_k L(g, k) * u(c, k) * v(d, k),
// with gene loadings L(g, k) ~ N(0, 1/R), cell factors u(c, k) = 1 + cell_sd * N(0, 1) (so a compound acts alike
// in every cell: the expected correlation of one compound's signatures in two cells is about 1 / (1 + cell_sd^2)),
// compound factors v(d, k) ~ N(0, 1) and a compound's strength a_d = signal * exp(strength_sd * N(0, 1)) /
// exp(strength_sd^2 / 2) (mean `signal`; most compounds weak, a few strong, as in CMap). The model is
// R * (genes + cells + compounds) + compounds numbers. An observed signature is truth + noise: noise ~ N(0, noise^2)
// per gene for gold signatures, twice that sd for the others (is_gold marks the reproducible ones). DMSO controls
// (pert_type ctl_vehicle) have truth 0. Dose and time are metadata only: the truth of a pair does not depend on them.
//
// Which pairs are observed: exactly round(observed * cells * compounds) treated signatures, one per observed pair.
// Every compound is measured in at least one cell (when there are at least as many signatures as compounds); the
// rest are spread by compound popularity (log-normal, sd popularity_sd), capped at one per cell, and each compound's
// cells are drawn without replacement with odds following a log-normal cell weight (a few cell lines measure most
// compounds, as LINCS's core lines do). Each cell also gets dmso_per_cell controls.
//
// Determinism: every number comes from an engine::RandomStream named by the unit it belongs to (gene g, cell c,
// compound d, signature pair c * compounds + d), never by the rank, and each value is computed by the same scalar
// loop wherever it is computed, so the GCTX is bit-identical for any rank count, and lincs_true_signature gives the
// exact doubles the generator added noise to.
//
// Names follow LINCS beta: cell_iname "CELL001", pert_id "BRD-K00000001", cmap_name "sim-00000001", sig_id
// "SIM001_CELL001_24H:BRD-K00000001:10" (plate SIM<batch>, batch = one per 1,000 compounds), controls
// "CTL001_CELL001_24H:DMSO:<k>" with pert_id and cmap_name DMSO. Genes: Entrez-like integer ids; the first 978 of
// the 12,328 are feature_space "landmark", the next 9,196 "best inferred", the last 2,154 "inferred" (LINCS's
// counts); --genes G writes the first G.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/parameters.h"

namespace tessera::solvers::simulation {

inline constexpr int kLincsLandmarkGenes = 978;
inline constexpr int kLincsBestInferredGenes = 9196;
inline constexpr int kLincsAllGenes = 12328;

struct LincsReleaseParams {
  std::uint64_t seed = 1;  // not a knob here: `tessera simulate` shares --seed with the screen simulation
  int cells = 230;
  int compounds = 20000;
  double observed = 0.04;  // share of (cell, compound) pairs with a signature
  int genes = kLincsLandmarkGenes;
  int factors = 10;             // R, the rank of the model
  double signal = 1.0;          // mean compound strength
  double strength_sd = 0.75;    // sd of log strength
  double cell_sd = 0.5;         // sd of the cell factors around 1
  double noise = 0.5;           // noise sd of gold signatures (others: twice that)
  double gold_share = 0.6;      // share of treated signatures that are is_gold
  int dmso_per_cell = 4;        // DMSO controls per cell
  double popularity_sd = 0.8;   // sd of log compound popularity
  double cell_weight_sd = 1.0;  // sd of log cell weight
  int write_chunk = 1000;       // signatures generated and written per slab (bounds each rank's memory)

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("cells", self.cells, "release mode: cell lines").in(1, 100000));
    declare(engine::knob("compounds", self.compounds, "release mode: compounds").in(1, 10000000));
    declare(engine::knob("observed", self.observed, "release mode: share of (cell, compound) pairs with a signature")
                .in(0.0, 1.0));
    declare(
        engine::knob("genes", self.genes, "release mode: genes (978 landmarks first, then best inferred and inferred)")
            .in(1, kLincsAllGenes));
    declare(engine::knob("factors", self.factors, "release mode: rank of the low-rank (CP) model").in(1, 1000));
    declare(engine::knob("signal", self.signal, "release mode: mean compound strength").in(0.0, 1e3));
    declare(engine::knob("strength_sd", self.strength_sd, "release mode: sd of log compound strength").in(0.0, 5.0));
    declare(engine::knob("cell_sd", self.cell_sd, "release mode: sd of the cell factors around 1").in(0.0, 100.0));
    declare(
        engine::knob("noise", self.noise, "release mode: noise sd of gold signatures (others: twice)").in(0.0, 1e3));
    declare(
        engine::knob("gold_share", self.gold_share, "release mode: share of signatures that are is_gold").in(0.0, 1.0));
    declare(engine::knob("dmso_per_cell", self.dmso_per_cell, "release mode: DMSO controls per cell").in(0, 10000));
    declare(
        engine::knob("popularity_sd", self.popularity_sd, "release mode: sd of log compound popularity").in(0.0, 5.0));
    declare(engine::knob("cell_weight_sd", self.cell_weight_sd, "release mode: sd of log cell weight").in(0.0, 5.0));
    declare(engine::knob("write_chunk", self.write_chunk,
                         "release mode: signatures per written slab (bounds each rank's memory)")
                .in(1, 1000000));
  }

  void validate() const;
  std::string describe() const;
  std::int64_t treated_signatures() const;  // round(observed * cells * compounds)
  std::int64_t total_signatures() const { return treated_signatures() + std::int64_t(cells) * dmso_per_cell; }
};

// The model: everything needed to recompute any pair's true signature. Small (R x (genes + cells + compounds)).
struct LincsModel {
  LincsReleaseParams params;
  Eigen::MatrixXd gene_loadings;      // genes x R
  Eigen::MatrixXd cell_factors;       // cells x R
  Eigen::MatrixXd compound_factors;   // compounds x R
  Eigen::VectorXd compound_strength;  // compounds
};

// Local, deterministic from params.
LincsModel make_lincs_model(const LincsReleaseParams& params);

// The noise-free signature of (cell, compound) (0-based indices): genes values, in double. Local.
Eigen::VectorXd lincs_true_signature(const LincsModel& model, int cell, int compound);

// One signature (column) of the release.
struct LincsSignature {
  std::int32_t cell = 0;
  std::int32_t compound = -1;  // -1: a DMSO control
  std::int32_t control = 0;    // the control's number within its cell (controls only)
  std::uint8_t dose = 0;       // index into the dose list
  bool short_time = false;     // 6 h instead of 24 h
  bool gold = false;
  bool qc_pass = false;
};

// Every signature in file order: per cell, its controls, then its observed compounds in compound order. Local,
// deterministic from params (each rank computes the same list; 16 bytes a signature).
std::vector<LincsSignature> lincs_signatures(const LincsReleaseParams& params);

// The names of the release (LINCS beta style, see above).
std::string lincs_cell_name(const LincsReleaseParams& params, int cell);
std::string lincs_pert_id(int compound);
std::string lincs_sig_id(const LincsReleaseParams& params, const LincsSignature& signature);
std::int64_t lincs_gene_id(int gene);

// The output files of a release in `folder`.
struct LincsReleaseFiles {
  std::filesystem::path gctx, siginfo, geneinfo, truth;
};
LincsReleaseFiles lincs_release_files(const std::filesystem::path& folder, const LincsReleaseParams& params);

// Collective over ctx: writes the release into `folder` (created when missing). Each rank generates and writes its
// block of signatures, write_chunk at a time; rank 0 writes the side tables and the truth file (atomically).
// progress(done, total) is called on every rank after each slab with the global count of signatures written so far
// (estimated: this rank's count times the rank count).
LincsReleaseFiles write_lincs_release(const std::filesystem::path& folder, const LincsReleaseParams& params,
                                      const engine::Context& ctx,
                                      const std::function<void(std::int64_t, std::int64_t)>& progress = {});

// The model stored in a truth file written by write_lincs_release; an Error naming the file when it is not one.
LincsModel read_lincs_truth(const std::filesystem::path& path);

}  // namespace tessera::solvers::simulation
