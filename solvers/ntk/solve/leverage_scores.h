// Approximate ridge leverage scores of the N training rows, and the draw of Nystrom centres in proportion to them
// (ntk_centre_sampling = leverage; Alaoui & Mahoney 2015; Rudi, Calandriello, Carratino, Rosasco 2018).
//
// The ridge leverage score of row i at ridge t (in units of the full N x N system, like ntk_nystrom_ridge) is
//   l_i(t) = [K (K + t I)^-1]_ii = (k_ii - k_i^T (K + t I)^-1 k_i) / t,
// the second form because t K (K + t I)^-1 = K - K (K + t I)^-1 K. It is near 1 for a row that the other rows
// explain poorly at resolution t (a small or far-away cluster, an outlier), near 0 for one of many look-alikes, and
// the scores sum to the effective dimension d_eff(t) = tr K (K + t I)^-1, about the number of centres Nystrom
// needs at ridge t (Rudi et al.: M ~ d_eff log(1 / delta) leverage-sampled centres, against ~N max_i l_i uniform
// ones). Exact scores need K whole; the approximation puts a uniform pilot set P of p rows in place of the N rows:
//   tau_i = (k_ii - k_iP (K_PP + s I)^-1 k_Pi) / t,   s = (p / N) t.
// Why s = (p / N) t: with K = Phi Phi^T, l_i = phi_i^T (Phi^T Phi + t I)^-1 phi_i, and a uniform sample of p rows has
// Phi_P^T Phi_P ~ (p / N) Phi^T Phi, so Phi^T Phi + t I ~ (N / p) (Phi_P^T Phi_P + s I); the push-through identity
// turns phi_i^T (Phi_P^T Phi_P + s I)^-1 phi_i into (k_ii - k_iP (K_PP + s I)^-1 k_Pi) / s, and (p / N) / s = 1 / t.
// With P = every row, tau = l exactly (tests/solvers/ntk/solve/test_leverage_scores.cpp checks it against a
// brute-force diag(K (K + t I)^-1)).
//
// The ridge: t = leverage_ridge x mean(diag K_PP), relative to the kernel's diagonal like ntk_nystrom_ridge, but a
// knob of its own (ntk_leverage_ridge, default 1; see nystrom_regression.h for why).
//
// Pilot: p = leverage_pilot_size(N, M) = min(N, M) rows drawn uniformly (NystromPreconditioner::sample_centres with
// the solver's seed). Then scoring costs N p kernel entries and N p^2 flops, as much as the solver's own pass
// (N M entries, N M^2 flops), and its p x p factor is one of the solver's five M x M matrices: leverage sampling
// at most doubles the set-up and does not raise the peak memory (nystrom_bytes_per_rank counts it).
//
// Distributed and bit-identical for any rank or thread count: rows are scored in groups of kLeverageGroupRows
// consecutive rows at fixed global offsets, each rank taking engine::block_range of the groups; a group's k_gP is
// gathered (KernelOperator::gather_columns), solved against the pilot factor by one single-threaded BLAS call of
// the same shape whichever rank or thread runs it, and the factor is rank 0's, single-threaded, broadcast. The scores
// are then gathered onto every rank, which all draw the same centres. Memory: the p x p factor, one group's
// kLeverageGroupRows x p block per thread, and the N scores with their N keys and indices.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/context.h"
#include "solvers/ntk/solve/kernel_operator.h"

namespace tessera::solvers::ntk {

// Rows scored per BLAS call (see above); fixed, so that nothing depends on how rows are shared out.
constexpr std::int64_t kLeverageGroupRows = 64;

// The pilot set size for M centres from N rows: min(N, M). Local.
std::int64_t leverage_pilot_size(std::int64_t n, std::int64_t m);

struct LeverageScores {
  std::vector<double> tau;          // N scores in row order, >= 0, the same on every rank
  std::vector<std::int64_t> pilot;  // sorted
  double ridge = 0;                 // t, absolute: relative ridge x mean(diag K_PP)
  double pilot_ridge = 0;           // s = (p / N) t, plus any jitter the pilot factor needed
  double effective_dimension = 0;   // sum of tau, the estimate of d_eff(t)
};

// Collective. The scores tau of every row with pilot set `pilot` (sorted, distinct, in [0, N)) and
// t = relative_ridge x mean(diag K_PP), relative_ridge > 0. threads: kernel gather and scoring threads per rank.
LeverageScores approximate_leverage_scores(const engine::Context& ctx, const KernelOperator& kernel,
                                           std::vector<std::int64_t> pilot, double relative_ridge, int threads);

// Local. m distinct indices of [0, weights.size()), sorted, drawn without replacement, each draw picking one of the
// rows left with probability proportional to its weight (successive sampling; by Efraimidis & Spirakis' keys
// log(u_i) / w_i, the m largest, so one pass and no renormalisation). Rows of weight 0 come last (lowest index
// first). engine::RandomStream(seed, "ntk/nystrom-leverage"), one number per row in row order: the same on every
// rank and every run. Throws on negative or non-finite weights, or m outside [0, n].
std::vector<std::int64_t> sample_by_weight(std::span<const double> weights, std::int64_t m, std::uint64_t seed);

// Collective: M = m centres drawn by leverage (pilot of leverage_pilot_size(N, m) uniform rows, seed `seed`, then
// sample_by_weight of the scores); the same on every rank and for any rank count.
std::vector<std::int64_t> sample_leverage_centres(const engine::Context& ctx, const KernelOperator& kernel,
                                                  std::int64_t m, double relative_ridge, std::uint64_t seed,
                                                  int threads);

}  // namespace tessera::solvers::ntk
