// Synthetic interventions (Agarwal, Shah & Shen 2020, "Synthetic interventions"; Squires, Shen, Agarwal, Shah &
// Uhler, CLeaR 2022, "Causal imputation via synthetic interventions"): the signature of drug a in cell type c is
// a linear combination of the signatures of donor drugs in c, with coefficients learnt where a and the donors
// were all measured.
//
// Which dimension is regressed. SI is symmetric in its two axes; the CLeaR 2022 code (SyntheticInterventions with
// regression_dim = "intervention", its default for CMap) regresses over drugs, and so does the issue: "regress
// drug a's signatures on donor drugs' signatures over training cells where all are observed, and apply the
// coefficients in cell c". That is what is implemented: donors are drugs, the regression's samples are the
// (training cell type, gene) values. (The other reading, donors = cell types that measured a, weights learnt
// over the drugs shared with c, is the same estimator with the table transposed.)
//
// Definitions for a target entry (c, a). Training entries are those flagged in `train` that the table marks
// observed; nothing else is read, and the target entry itself never is.
//   cells(j)    the cell types other than c in which drug j trains;
//   candidates  the drugs j != a that train in cell type c;
//   donors      chosen greedily, as in the CLeaR code: start with T = cells(a) and no donor; repeatedly add the
//               candidate j that keeps the most training cell types |T n cells(j)| (ties: the lower drug index)
//               and set T = T n cells(j); stop when num_donors donors are chosen or when the best candidate
//               would leave no training cell type. (The CLeaR code keeps adding, past num_donors, donors that do
//               not shrink T; here num_donors is a hard cap, which bounds the cost per target.)
//   regression  X = the donors' signatures stacked over T (|T| x genes rows, one column per donor), y = a's
//               signatures stacked the same way; beta = the minimum-norm least-squares solution restricted to
//               the singular directions of X kept by the thresholding below (with `intercept`, X's columns and
//               y are first centred over the rows and b0 = mean(y) - mean(X) beta);
//   prediction  y(c, a) = sum_j beta_j y(c, donor_j) (+ b0);
//   fallback    when cells(a) is empty or no candidate shares a training cell type with a (no donor): the mean of
//               a's training signatures (the drug_mean baseline); when a has none, the mean of c's; when c has
//               none, the mean of all training signatures.
// Singular-value thresholding: with X's singular values s_1 >= s_2 >= ..., direction i is kept when
// s_i > sv_threshold x s_1 and s_i > s_1 x max(rows, donors) x machine epsilon (numerical rank), and i <= rank
// when rank > 0. sv_threshold = 0 and rank = 0 give plain minimum-norm least squares. The solve is a Householder
// QR of [X y] followed by a Jacobi SVD of the donors x donors factor R, which has the singular values of X: cost
// O(|T| x genes x donors^2) per target.
//
// Distribution (impute() is collective: distributes_itself() is true for every table): targets are independent, so the
// queries are spread over ranks in contiguous blocks (engine::block_range) and one allgatherv gives every rank all
// predictions. A target is computed by the same code whichever rank runs it, so results are bit-identical for
// any rank count (on nodes of one kind). This also spreads a single whole-table completion, which fold-level
// distribution could not. Stopping: the ranks agree on the stop flag every 16 targets (query_blocks.h); on a signal
// to any rank, every rank throws engine::StopRequested there.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/parameters.h"
#include "solvers/imputation/imputer.h"

namespace tessera::solvers::imputation {

struct SiParams {
  int num_donors = 10;        // most donor drugs per target
  double sv_threshold = 0.0;  // keep singular values > sv_threshold x the largest (0: all)
  int rank = 0;               // keep at most this many singular directions; 0 = no cap
  bool intercept = false;     // fit an intercept b0 (the CLeaR code does); default: y(c, a) = sum beta_j y(c, j)

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("si_num_donors", self.num_donors, "synthetic_interventions: most donor drugs per target")
                .at_least(1));
    declare(engine::knob("si_sv_threshold", self.sv_threshold,
                         "synthetic_interventions: keep singular values above this fraction of the largest (0 = all)")
                .at_least(0.0)
                .below(1.0));
    declare(engine::knob("si_rank", self.rank,
                         "synthetic_interventions: keep at most this many singular directions (0 = all)")
                .at_least(0));
    declare(engine::knob("si_intercept", self.intercept,
                         "synthetic_interventions: fit an intercept in the donor regression"));
  }
  // Throws tessera::Error naming the bad knob (si_num_donors, si_sv_threshold, si_rank) and its range.
  void validate() const { engine::check_knobs(*this); }
};

class SyntheticInterventions : public Imputer {
 public:
  // Validates params.
  explicit SyntheticInterventions(const SiParams& params = {});

  std::string name() const override { return "synthetic_interventions"; }

  // Collective over ctx. train: num_entries flags; queries: entry indices (any). Returns genes x queries.size(),
  // identical on every rank. Throws tessera::Error (on every rank alike) for a train mask of the wrong size, a
  // query out of range or no training entry at all.
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;

  bool distributes_itself(const engine::Context&, const io::PerturbationTable&) const override { return true; }

  const SiParams& params() const { return params_; }

 private:
  SiParams params_;
};

// The donors and training cell types chosen for target (cell, drug), as defined above; both ascending. Empty
// donors means the target falls back to the mean. Local.
struct SiDesign {
  std::vector<std::int64_t> donors;
  std::vector<std::int64_t> training_cells;
};
SiDesign si_design(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train, std::int64_t cell,
                   std::int64_t drug, int num_donors);

// Truncated-SVD least squares: beta = sum over kept i of v_i (u_i . y) / s_i for x = U S V^T (x: rows x cols,
// y: rows), keeping directions as defined above. Local.
Eigen::VectorXd truncated_least_squares(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double sv_threshold,
                                        int rank);

}  // namespace tessera::solvers::imputation
