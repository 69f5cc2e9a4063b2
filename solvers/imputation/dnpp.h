// DNPP, drug neighbour profile prediction (Hodos et al., PSB 2018, "Cell-specific prediction and application of
// drug-induced gene expression profiles"): a missing (cell type, drug) signature is the similarity-weighted mean
// of the signatures, in that cell type, of the drugs most similar to it.
//
// Definitions. Training entries are the entries flagged in `train` that the table marks observed; nothing else
// is read. For drugs a != b:
//   shared(a, b)  the cell types in which both a and b are training entries; n_ab = |shared(a, b)|;
//   r_u(a, b)     the Pearson correlation across genes of the signatures of a and b in cell type u. When either
//                 signature is constant across genes (centred norm <= 1e-12 x its norm) or there are fewer than
//                 2 genes, r_u is undefined and counts as 0; cell type u still counts in n_ab;
//   s(a, b)       = max(0, (1 / n_ab) sum_{u in shared(a, b)} r_u(a, b))   (mean over shared cell types, then
//                 negatives set to 0); s(a, b) = 0 when n_ab = 0 (undefined), and s(a, a) = 0 (self).
// Prediction of entry (c, a):
//   candidates    the drugs j != a that are training entries in cell type c;
//   neighbours    the (at most) k candidates with the largest s(a, j) > 0, ties broken by the lower drug index.
//                 When fewer than k candidates have s > 0, all of those are used (no padding);
//   y(c, a)       = sum_j s(a, j) y(c, j) / sum_j s(a, j) over the neighbours;
//   fallback      when no candidate has s > 0 (no candidate, or all similarities 0): the mean of a's training
//                 signatures over cell types (the drug_mean baseline); when a has none, the mean of c's training
//                 signatures; when c has none, the mean of all training signatures.
// The original paper describes the same steps (mean correlation over the cell types where both drugs are
// measured, negative similarities set to zero, a similarity-weighted mean of the k = 10 nearest drugs measured
// in the target cell); its text was not available to check the order of clipping and averaging, so this
// follows the issue: average first, then set negatives to 0.
//
// Distribution (impute() is collective: distributes_itself() is true for every table). The drugs are cut into
// blocks of consecutive indices (16 blocks of 64 to 1024 drugs, a function of the drug count only); the blocks are
// spread over the ranks in contiguous runs (engine::block_range), and each rank computes, one block at a time, the
// similarity rows s(a, .) of its block's drugs and predicts those drugs' queries, then drops the rows. One
// allreduce of the predictions (each query non-zero on one rank only) gives every rank all of them. Each
// correlation is rounded to a multiple of 2^-50 (an error below 1e-15) and summed as a 64-bit integer, and each is
// an element of a product whose shape the blocks fix, so the similarities are exactly symmetric and bit-identical
// for any rank count and summation order; so are the predictions (on nodes of one kind; Eigen's blocking follows
// the cache sizes, so mixed node types may differ by rounding).
// Stopping: the ranks agree on the stop flag after every block (engine::run_agreeing_in_rounds); on a signal to
// any rank, every rank throws engine::StopRequested there.
// Cost: 2 sum_u n_u^2 x genes flops for the correlations (n_u = training drugs of cell type u; each pair once per
// side, twice the symmetric minimum, the price of never holding the drugs x drugs matrix), queries x (n_c + k x
// genes) for the predictions. Memory per rank: 8 x block x drugs bytes of similarity sums (at most 245 MB for
// 30,000 drugs), one cell type's standardized signatures (genes x n_u), and the genes x queries result. At most
// 8191 cell types (the integer sums would overflow).
#pragma once

#include "engine/parameters.h"
#include "solvers/imputation/imputer.h"

namespace tessera::solvers::imputation {

struct DnppParams {
  int k = 10;  // neighbours per prediction (the paper uses 10)

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("dnpp_k", self.k, "dnpp: neighbour drugs averaged per prediction").at_least(1));
  }
  // Throws tessera::Error when k < 1.
  void validate() const { engine::check_knobs(*this); }
};

class Dnpp : public Imputer {
 public:
  // Validates params.
  explicit Dnpp(const DnppParams& params = {});

  std::string name() const override { return "dnpp"; }

  // Collective over ctx. train: num_entries flags; queries: entry indices (any). Returns genes x queries.size(),
  // identical on every rank. Throws tessera::Error (on every rank alike) for a train mask of the wrong size, a
  // query out of range, no training entry at all, or more than 8191 cell types.
  Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                         const std::vector<std::uint8_t>& train,
                         const std::vector<std::int64_t>& queries) const override;

  bool distributes_itself(const engine::Context&, const io::PerturbationTable&) const override { return true; }

  const DnppParams& params() const { return params_; }

 private:
  DnppParams params_;
};

// Collective over ctx: the drugs x drugs similarity s(a, b) defined above, from the training entries; identical
// on every rank. Exposed for tests and diagnostics (impute() computes it the same way).
Eigen::MatrixXd dnpp_similarity(const engine::Context& ctx, const io::PerturbationTable& table,
                                const std::vector<std::uint8_t>& train);

}  // namespace tessera::solvers::imputation
