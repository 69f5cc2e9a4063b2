// FaLRTC: low-rank completion of the (drug x gene x cell) tensor (Liu, Musialski, Wonka & Ye, "Tensor Completion
// for Estimating Missing Values in Visual Data", TPAMI 2013, Algorithm FaLRTC), as Hodos et al. (PSB 2018) used
// it to impute CMap signatures.
//
// Problem. With T the tensor of tensor_unfolding.h (T[d, g, c] = table.values(g, c * drugs + d)) and Omega the
// training entries (whole gene fibers: (cell, drug) pairs flagged in `train` and observed in the table),
//     minimise  f_mu(X) = sum_i max_{||Y_i||_2 <= 1} alpha_i <X_(i), Y_i> - mu_i / 2 ||Y_i||_F^2
//     over X with X_Omega = T_Omega,
// the smoothed weighted sum of the nuclear norms of the three unfoldings. For singular values sigma of X_(i)
// and tau_i = mu_i / alpha_i, term i is sum_sigma [alpha_i^2 sigma^2 / (2 mu_i) if sigma <= tau_i, else
// alpha_i sigma - mu_i / 2], and its gradient is (alpha_i^2 / mu_i) fold_i(U min(S, tau_i) V^T).
//
// Iteration k = 1..iterations (FaLRTC.m, the authors' MATLAB code, step for step):
//   mu_i   = max(slope_i / k^P + offset_i, mu0_i): mu_i falls from mu1_i at k = 1 to mu0_i at k = K' and stays
//            there (see the schedule below);
//   repeat (line search on the Lipschitz constant L, which only grows, kept from one iteration to the next):
//     b   = (1 + sqrt(1 + 4 L B)) / (2 L)
//     X   = (b Z + B Y_{k-1}) / (B + b), observed entries reset to T
//     G   = sum_i (alpha_i^2 / mu_i) fold_i(U min(S, tau_i) V^T) of X, zero on observed entries
//     Y   = X - G / L
//     accept when f_mu(Y) <= f_mu(X) - ||G||^2 / (2 L)      (FaLRTC.m: (fx - fy) L >= ||G||^2, f doubled)
//     else L = L / C; if L already exceeded L_max = 10 sum_i 1 / mu0_i, stop (below)
//   Z = Z - b G, B = B + b, Y_k = Y; stop when ||Y_k - Y_{k-1}||_F / ||T_Omega||_F < tolerance.
// Start: X = Y = Z = T with every unobserved value set to the mean of all observed values (mean(M(Omega))),
// B = 0, L = lipschitz_start.
//
// Smoothing schedule (FaLRTC.m). mu0_i = mu_scale * a_i / sqrt(n_i) with a_i the weights as given (not
// normalised) and n_i the extent of mode i: Hodos' GetFaLRTCArgs sets mu = 0.01 * alpha ./ sqrt(size(T)) from
// alpha = [1 1e-2 1] before normalising. mu1_i = kMuStartFactor * alpha_i * sigma_max(X0_(i)) with alpha_i
// normalised. With K' = iterations - kMuFlatIterations and a = K'^P, slope_i = (mu1_i - mu0_i) a / (a - 1) and
// offset_i = (mu0_i a - mu1_i) / (a - 1), so mu_i(1) = mu1_i and mu_i(K') = mu0_i. FaLRTC.m divides by zero or
// turns complex for iterations <= 16; here K' is at least 2, so short runs still decay from mu1 to mu0.
//
// Deviations from FaLRTC.m, all at its edges: (1) when L exceeds L_max, FaLRTC.m returns the rejected trial
// point; this returns the last accepted iterate and sets FalrtcResult::lipschitz_limit. (2) The stopping test is
// relative to ||T_Omega||_F as in FaLRTC.m, not Hodos' absolute ||Y_k - Y_{k-1}||_F < 0.1 (which assumed
// unit-norm signatures); the default tolerance 1e-5 is the authors' example.m value. (3) A mode whose weight is 0
// is left out (FaLRTC.m would divide by mu0 = 0). (4) Singular values come from Gram matrices
// (tensor_unfolding.h) as in Truncate.m, for every unfolding rather than only the wide ones.
//
// Distribution: impute() is collective over ctx (distributes_itself() is true for every table). Each rank holds a gene
// slab of every iterate (4 tensors: Z, Y, the trial X/Y and G, plus two drug slabs on more than one rank); the drug and
// cell Grams are allreduced partial Grams, the gene Gram is computed on drug slabs after one all-to-all, and every rank
// eigen-decomposes the same small Grams (drugs^2, genes^2, cells^2). Line-search decisions use rank 0's numbers
// (broadcast), so all ranks take the same path. Results match one rank up to summation order: about 1e-12 relative
// while every line-search decision agrees with the one-rank run (tests: 1e-8 at 20 iterations). f_mu is known to ~1e-12
// relative, so late in a long run, when a trial's decrease f_mu(X) - f_mu(Y) is itself tiny, a test can sit within
// rounding of its threshold and go the other way on another rank count; L then differs by 1/C for the remaining
// iterations and the result by up to ~1e-5 relative (seen once in 150 iterations at 3 ranks; tests: 1e-4). Rank 0 logs
// one line per iteration. Every line-search trial starts with a collective stop check (engine::stop_point): on a stop
// signal every rank throws engine::StopRequested there (FaLRTC keeps no checkpoint; a rerun starts over).
//
// Cost per line-search trial, N = drugs * genes * cells, per mode i: the Gram of X (n_i N flops, dsyrk), its
// eigen-decomposition with vectors, the operator U min(S, tau_i) V^T (2 n_i N as a dense n_i x n_i W, or 4 k_i N
// in the low-rank form I - U_k diag(1 - tau / sigma) U_k^T when only k_i < n_i / 2 singular values exceed tau_i:
// early iterations and sparse training sets; ModeOperator in tensor_unfolding.h), then the Gram of the trial point
// Y and its eigenvalues. The operators and Grams run with ctx.threads_per_rank() BLAS threads (ranks sharing a
// node share its cores). Trials whose X does not depend on L cost almost nothing: while B = 0 (the first
// iteration, which starts from the tiny L0 and usually takes ten or more trials) X = Z exactly for every L, so
// f_mu(X) and G are computed once, with the cross Grams X_(i) G_(i)^T + G_(i) X_(i)^T and the Grams of G (3 n_i N
// flops once), and each trial's f_mu(X - G / L) comes from the eigenvalues of G_X - cross / L + G_G / L^2; only
// the accepted trial point is formed. These change rounding only (the published trials, decisions and steps are
// kept), but the Gram-based SVD resolves singular values near tau to ~eps sigma_max^2 / tau^2, so late line-search
// tests that sit near their threshold can go the other way, as with another rank count above. Memory per rank:
// four gene slabs (Z, Y, trial point, gradient) and, on more than one rank, two drug slabs and two 128 MB exchange
// buffers.
#pragma once

#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <vector>

#include "engine/parameters.h"
#include "solvers/imputation/imputer.h"
#include "solvers/imputation/tensor_unfolding.h"

namespace tessera::solvers::imputation {

// FaLRTC.m constants (not options): mu1_i = 0.3 * alpha_i * sigma_max, P = 1.15, flatNum = 15,
// Lmax = 10 * sum(1 ./ mu0).
constexpr double kMuStartFactor = 0.3;
constexpr double kMuDecayPower = 1.15;
constexpr int kMuFlatIterations = 15;
constexpr double kLipschitzMaxFactor = 10.0;

struct FalrtcParams {
  int iterations = 20;      // maxIter (Hodos: 20; FaLRTC.m example: 500)
  double alpha_drug = 1.0;  // mode weights, normalised to sum 1 (Hodos: [1 1e-2 1]); sum > 0
  double alpha_gene = 0.01;
  double alpha_cell = 1.0;
  double mu_scale = 0.01;         // mu0_i = mu_scale * alpha_i / sqrt(n_i) (Hodos 0.01; example.m 5)
  double lipschitz_start = 1e-5;  // L0 (Hodos and example.m: 1e-5)
  double lipschitz_shrink = 0.5;  // C: L = L / C on a failed trial (Hodos 0.5; example.m 0.6)
  double tolerance = 1e-5;        // stop when ||Y_k - Y_{k-1}||_F / ||T_Omega||_F < tolerance (0: never)

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("falrtc_iterations", self.iterations, "falrtc: iterations (maxIter; Hodos 20)").at_least(1));
    declare(engine::knob("falrtc_alpha_drug", self.alpha_drug, "falrtc: weight of the drug unfolding's nuclear norm")
                .at_least(0.0));
    declare(engine::knob("falrtc_alpha_gene", self.alpha_gene, "falrtc: weight of the gene unfolding's nuclear norm")
                .at_least(0.0));
    declare(engine::knob("falrtc_alpha_cell", self.alpha_cell, "falrtc: weight of the cell unfolding's nuclear norm")
                .at_least(0.0));
    declare(engine::knob("falrtc_mu_scale", self.mu_scale,
                         "falrtc: final smoothing mu_i = scale * alpha_i / sqrt(n_i) (Hodos 0.01)")
                .above(0.0));
    declare(engine::knob("falrtc_lipschitz_start", self.lipschitz_start,
                         "falrtc: initial Lipschitz constant L0 (Hodos 1e-5)")
                .above(0.0));
    declare(engine::knob("falrtc_lipschitz_shrink", self.lipschitz_shrink,
                         "falrtc: C in L = L / C after a failed line-search trial (Hodos 0.5)")
                .above(0.0)
                .below(1.0));
    declare(engine::knob("falrtc_tolerance", self.tolerance,
                         "falrtc: stop when the relative change of the iterate falls below this (0 = run all "
                         "iterations)")
                .at_least(0.0));
  }
  // Throws tessera::Error naming the bad parameter and its valid range, or when every mode weight is 0.
  void validate() const;
  // The weights in mode order (drug, gene, cell), as given.
  std::array<double, 3> weights() const { return {alpha_drug, alpha_gene, alpha_cell}; }
};

struct FalrtcIteration {
  int iteration = 0;              // 1-based
  int trials = 0;                 // line-search trials (gradient evaluations) in this iteration
  double lipschitz = 0;           // L of the accepted step
  std::array<double, 3> mu{};     // mu_i used (0 for a mode with weight 0)
  double smoothed_objective = 0;  // f_mu(Y_k) with this iteration's mu
  double nuclear_objective = 0;   // sum_i alpha_i ||Y_k(i)||_* (normalised alpha)
  double relative_change = 0;     // ||Y_k - Y_{k-1}||_F / ||T_Omega||_F
  double seconds = 0;             // wall time of the iteration
};

struct FalrtcResult {
  std::vector<FalrtcIteration> history;  // accepted iterations, in order
  double initial_nuclear_objective = 0;  // sum_i alpha_i ||X0_(i)||_* of the mean-filled start
  bool converged = false;                // relative change fell below tolerance
  bool lipschitz_limit = false;          // stopped early: L exceeded L_max (last accepted iterate returned)
  int evaluations = 0;                   // gradient evaluations (line-search trials) in all
  double seconds = 0;
};

// Collective over layout.context(). values_slab: this rank's gene slab of the data (layout.genes().size() x
// (cells * drugs), table column order); only columns flagged in `observed` (cells * drugs flags, the same on
// every rank) are read. completed_slab (resized): the same slab of the completed tensor, equal to values_slab
// on observed columns. Throws tessera::Error for bad params or shapes, or when nothing is observed, and
// engine::StopRequested on every rank after a stop signal.
FalrtcResult falrtc_complete(const SlabLayout& layout, const Eigen::Ref<const Eigen::MatrixXd>& values_slab,
                             const std::vector<std::uint8_t>& observed, const FalrtcParams& params,
                             Eigen::MatrixXd& completed_slab);

// Local: the memory one rank needs to complete a tensor of `shape` over `ranks` ranks, in bytes, from the layout
// above: four gene slabs of the tensor (two more, drug slabs, on several ranks), the Grams with their eigenvectors
// and the first iteration's cross Grams (5 (drugs^2 + genes^2 + cells^2) doubles on every rank, however many ranks)
// and, on several ranks, the two 128 MiB exchange buffers. The drug Grams are what a LINCS-sized run cannot hold:
// 30,000 drugs alone need 36 GB per rank.
double falrtc_bytes_per_rank(const TensorShape& shape, int ranks);

// Local: tessera::Error, before any work, when falrtc_bytes_per_rank exceeds `available_bytes`; the message gives
// the tensor's shape, both sizes and what to do instead.
void check_falrtc_fits(const TensorShape& shape, int ranks, double available_bytes);

class Falrtc : public Imputer {
 public:
  // Validates params.
  explicit Falrtc(const FalrtcParams& params = {});

  std::string name() const override { return "falrtc"; }

  // Collective over ctx. Completes the tensor from the entries flagged in train and observed in the table and
  // returns genes x queries.size() on every rank (an observed training query returns its measured value).
  // Throws tessera::Error for a train mask of the wrong size, a query out of range, no training entry, or a tensor
  // that does not fit the memory this rank can still get (check_falrtc_fits, before any work; every rank agrees).
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;

  bool distributes_itself(const engine::Context&, const io::PerturbationTable&) const override { return true; }
  const FalrtcParams& params() const { return params_; }

 private:
  FalrtcParams params_;
};

}  // namespace tessera::solvers::imputation
