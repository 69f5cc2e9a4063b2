// The NTK imputer: kernel regression with the neural tangent kernel of an infinitely wide ReLU network on
// (cell type, drug) pair features (Radhakrishnan, Stefanakis, Belkin, Uhler, PNAS 2022).
//
// impute() regresses every gene at once on the training pairs:
//   Y_query^T = K_cross^T K_train^-1 Y_train^T
// with K_train[i, j] = NTK(rho_ij) over training pairs (one-hot term on its diagonal) and K_cross between
// training and query pairs (solvers/ntk/kernel/features.h, solvers/ntk/kernel/kernel.h). No ridge is added unless the
// kernel is not numerically positive definite (then a stated jitter, solvers/ntk/solve/exact.h).
//
// Training rows: the entries flagged in `train` that the table marks observed; with the reference prior the
// reference cell types' entries only build the prior and are not rows of the regression (as in the published
// code, where the reference cell type is removed from the data after the prior is made), unless
// ntk_reference_in_kernel is set. ntk_reference_cell names the reference cell type(s) (comma list); empty means
// the cell type with the most training signatures (MCF7 in CMap), chosen per call and logged.
//
// Solvers (the generic kernel-regression layer, solvers/ntk/solve/kernel_regression.h): ntk_solver = exact
// (Cholesky, solve/exact.h), matrix_free (PCG with a Nystrom preconditioner, solve/matrix_free.h; lambda 0, so it
// converges to the same interpolant) or auto (solve/solver_choice.h): exact when its memory per rank fits
// ntk_memory_gb (default: half the node's physical memory divided by the ranks on the node), else matrix-free,
// whose batches of genes then fit the same ntk_memory_gb; with ntk_max_minutes, a solver whose estimated time
// exceeds it is passed over, and when neither exact solve fits, auto picks nystrom (Falkon-style Nystrom kernel
// ridge regression on ntk_centres centres, solve/nystrom_regression.h: an approximation of the interpolant).
//
// Preemption: the matrix-free solve polls engine::stop_signalled() before every PCG iteration. With
// ntk_checkpoint_dir set, a stop writes the CG state to <dir>/ntk_cg_<hash>.h5 (the hash names the problem: the
// training rows, the queries and the kernel's parameters) and impute() throws engine::StopRequested on every rank
// (the command exits with the requeue code); the same call later resumes from that file and returns the same
// bits as an uninterrupted run on the same rank count. The exact solver is not interruptible (one factorisation).
//
// Collective over ctx (impute() is collective): every rank passes the same table, mask and queries and
// gets the same genes x queries predictions; the kernel and the solve are spread over the ranks.
#pragma once

#include <string>
#include <string_view>

#include "solvers/imputation/imputer.h"
#include "solvers/ntk/kernel/features.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/solve/kernel_regression.h"

namespace tessera::solvers::ntk {

struct NtkParams {
  double alpha = 0.75;  // weight of the cell block (published: 0.75)
  double beta = 1.5;    // weight of the one-hot block (published: 1.5)
  int depth = 1;        // hidden layers of the ReLU network (published: 1)
  double bias = 0.0;    // first-layer bias (published: none)
  PriorKind prior = PriorKind::kReference;
  std::string reference_cell;        // comma list of cell ids; empty = the cell type with most training entries
  bool reference_in_kernel = false;  // also use the reference cell types' entries as regression rows
  KernelSolveParams solve;           // how the kernel system is solved (the knobs below name some of its fields)

  // Every knob, names prefixed ntk_. Each range is written once, by the struct that uses the knob: depth and bias
  // by NtkShape (the kernel), the solver knobs by KernelSolveParams.
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("ntk_alpha", self.alpha, "NTK: weight alpha of the cell block of the pair features")
                .at_least(0.0));
    declare(engine::knob("ntk_beta", self.beta, "NTK: weight beta of the one-hot block of the pair features")
                .at_least(0.0));
    NtkShape::declare_knobs(self, declare);  // ntk_depth, ntk_bias: the members depth and bias
    declare(engine::knob("ntk_prior", self.prior,
                         "NTK: drug prior: reference (drug signatures in a reference cell type, the published prior), "
                         "all_cells (mean over all cell types) or similarity (weighted by cell-type similarity)"));
    declare(engine::knob("ntk_reference_cell", self.reference_cell,
                         "NTK: reference cell type(s) of the reference prior (comma list; empty = the most measured "
                         "one)"));
    declare(engine::knob("ntk_reference_in_kernel", self.reference_in_kernel,
                         "NTK: also regress on the reference cell types' entries (the published code does not)"));
    KernelSolveParams::declare_knobs(self.solve, declare);
  }
  // Throws tessera::Error naming the bad knob (as ntk_<name>) and its allowed values, or a bad field of solve
  // that is not a knob.
  void validate() const;
};

// Before the pair features are built: an error when the prior's tables (PairFeatures::table_bytes) need more than
// this rank can get, with the GB needed and the fix (as FaLRTC's check does for its tensor).
void check_prior_fits(PriorKind prior, double needed_bytes, double available_bytes);

class NtkImputer : public imputation::Imputer {
 public:
  // Validates params.
  explicit NtkImputer(const NtkParams& params = {});

  std::string name() const override { return "ntk"; }
  // Collective solves only when the kernel system of every training entry does not fit one rank's share of
  // the node (solves_alone, solvers/ntk/solve/kernel_regression.h).
  bool distributes_itself(const engine::Context& ctx, const io::PerturbationTable& table) const override;

  // Collective. Throws tessera::Error for a bad mask or query, NaN in a training signature, an unknown
  // reference cell type, no training pair, or a solver that cannot run.
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;

  const NtkParams& params() const { return params_; }

 private:
  NtkParams params_;
};

// The cell types the reference prior uses: params.reference_cell resolved against the table, or (empty) the
// cell type with the most training entries (the first in table order on a tie). Local.
std::vector<std::int64_t> resolve_reference_cells(const NtkParams& params, const io::PerturbationTable& table,
                                                  const std::vector<std::uint8_t>& train);

// The bytes that name an NTK for the kernel solver's checkpoint file (kernel_regression's kernel_label): the
// kernel's knobs, the prior's name and the reference cell types, everything that changes the kernel matrix.
std::string ntk_kernel_label(const NtkParams& params, std::string_view prior_name);

}  // namespace tessera::solvers::ntk
