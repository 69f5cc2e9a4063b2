// The (drug x gene x cell) tensor of a PerturbationTable, its three unfoldings, and their thin SVDs computed
// from small Gram matrices on tensor slabs spread over ranks. Used by FaLRTC (solvers/imputation/falrtc.h).
//
// Tensor and unfoldings. T[d, g, c] is the value of gene g in the signature of cell type c treated with drug
// d: exactly PerturbationTable::values(g, c * drugs + d). Modes are numbered 0 = drug, 1 = gene, 2 = cell, and
// unfolding i puts mode i on the rows and the other two modes on the columns, lower mode fastest (Kolda & Bader
// 2009; the MATLAB reference reshape(shiftdim(X, i - 1)) orders columns cyclically instead, which changes no
// Gram matrix and no singular value):
//   X_(0)  drugs x (genes * cells)   X_(0)[d, g + genes * c]
//   X_(1)  genes x (drugs * cells)   X_(1)[g, d + drugs * c]     (= PerturbationTable::values itself)
//   X_(2)  cells x (drugs * genes)   X_(2)[c, d + drugs * g]
//
// Distribution (SlabLayout). The tensor lives as one slab per rank, in one of two layouts, both Eigen
// column-major and both built from engine::block_range:
//   gene slab (primary)  rank r holds genes R_r = block_range(genes, size, r) of every (cell, drug):
//                        a |R_r| x (cells * drugs) matrix, column c * drugs + d: the rows R_r of the table;
//   drug slab            rank r holds drugs D_r = block_range(drugs, size, r) for every gene and cell:
//                        a genes x (cells * |D_r|) matrix, column c * |D_r| + (d - D_r.begin).
// A Gram matrix X_(i) X_(i)^T is a sum over the columns of X_(i), so it is a sum of per-rank partial Grams
// (one engine::allreduce_sum of an n_i x n_i matrix) whenever mode i is not the sharded one: the drug and cell
// Grams are summed over gene slabs, the gene Gram over drug slabs. The gene mode is therefore computed on a
// drug-slab copy made by one all-to-all (each rank sends and receives about its own slab once; engine::alltoallv
// in chunks of cells). Gene slabs are primary because they are row blocks of the table (no copy to start,
// and the per-column observed mask applies unchanged); drug slabs suit the gene mode because drugs (thousands)
// split evenly over any rank count, where cells (tens) would not. On one rank both layouts are the same
// genes x (cells * drugs) matrix and nothing moves.
//
// SVD from the Gram. For X (n x m, n small) with G = X X^T = U diag(lambda) U^T, the singular values are
// sigma_j = sqrt(lambda_j) and the left singular vectors are U; V^T = diag(1/sigma) U^T X is never formed:
// a spectral operator U f(S) V^T is applied as (U diag(f(sigma_j) / sigma_j) U^T) X, an n x n matrix times X.
// Grams, operators and eigen-decompositions go to the system BLAS/LAPACK (dsyrk, dgemm, dsyevd), which run
// with OpenBLAS's thread count: with several ranks per node set OPENBLAS_NUM_THREADS to cores / ranks.
// Eigenvalues at or below the floor n * eps * lambda_max (the rounding level of a Gram's computed eigenvalues)
// count as zero singular values and negative ones from rounding are clamped, so zero and near-zero singular
// values never reach a division. A Gram thus resolves singular values down to about sqrt(n eps) sigma_max
// (~1e-7 sigma_max), where Truncate.m's direct SVD cuts at max(size) * eps(sigma_max); below it a direction gets
// weight 1 in clip_operator, as in Truncate.m, and the values it would change are themselves at that level.
#pragma once

#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <utility>

#include "engine/context.h"
#include "engine/partition.h"

namespace tessera::solvers::imputation {

enum class TensorMode : int { kDrug = 0, kGene = 1, kCell = 2 };
constexpr std::array<TensorMode, 3> kTensorModes = {TensorMode::kDrug, TensorMode::kGene, TensorMode::kCell};
const char* mode_name(TensorMode mode);  // "drug", "gene", "cell"

struct TensorShape {
  std::int64_t drugs = 0;
  std::int64_t genes = 0;
  std::int64_t cells = 0;

  std::int64_t extent(TensorMode mode) const;  // n_i: rows of unfolding i
  std::int64_t size() const { return drugs * genes * cells; }
  std::int64_t entries() const { return cells * drugs; }  // table columns (gene fibers)
};

// (row, column) of T[d, g, c] in unfolding `mode` (the maps above). Local.
std::pair<std::int64_t, std::int64_t> unfold_index(const TensorShape& shape, TensorMode mode, std::int64_t drug,
                                                   std::int64_t gene, std::int64_t cell);

// Unfolding `mode` of a whole tensor given in table layout (genes x (cells * drugs)). Local; for tests and
// small tensors (it copies the tensor).
Eigen::MatrixXd unfold(const TensorShape& shape, const Eigen::MatrixXd& table_values, TensorMode mode);

// Thin SVD of an n x m matrix X from the eigen-decomposition of its Gram G = X X^T (n x n, symmetric).
struct GramSpectrum {
  Eigen::VectorXd sigma;    // n singular values, descending; zero at and below the eigenvalue floor
  Eigen::MatrixXd u;        // n x n left singular vectors, column j for sigma(j); empty without vectors
  double squared_norm = 0;  // ||X||_F^2 = trace(G), exact (sum of sigma^2 up to the floor)

  // Local (LAPACK dsyevd on a copy of G; `vectors` = false skips U when only sigma is needed, which is cheaper).
  // Throws tessera::Error when G is not square or holds a non-finite value.
  static GramSpectrum from_gram(const Eigen::MatrixXd& gram, bool vectors = true);

  // The n x n matrix W = I - sum_{sigma_j > tau} (1 - tau / sigma_j) u_j u_j^T, so that W X = U min(S, tau) V^T
  // (singular values clipped at tau; Truncate.m's Z - U max(S - tau, 0) V^T). Directions at zero or below tau
  // keep weight 1, so no tiny sigma is divided by. tau > 0; needs u.
  Eigen::MatrixXd clip_operator(double tau) const;
};

// The clip operator W of GramSpectrum::clip_operator in whichever form is cheaper to apply to an n x m unfolding:
// dense (the n x n W, 2 n m flops) or low-rank, W = I - B diag(w) B^T with B the k singular vectors above tau and
// w = 1 - tau / sigma (4 k m flops, so when 2 k < n). Early FaLRTC iterations (large tau) and sparse data keep k
// well below n, and the low-rank form then also skips forming W.
struct ModeOperator {
  Eigen::MatrixXd dense;    // n x n W, or empty in the low-rank form
  Eigen::MatrixXd basis;    // n x k B (low-rank form)
  Eigen::VectorXd weights;  // k weights w (low-rank form)

  // Local; needs spectrum.u. tau > 0.
  static ModeOperator clip(const GramSpectrum& spectrum, double tau);
  bool low_rank() const { return dense.size() == 0; }
};

// Which slab of the tensor each rank of a Context holds (see the layouts above). A cheap value that keeps a
// pointer to ctx: the Context must outlive it.
class SlabLayout {
 public:
  // Local. Throws for a negative extent.
  SlabLayout(const engine::Context& ctx, const TensorShape& shape);

  const engine::Context& context() const { return *ctx_; }
  const TensorShape& shape() const { return shape_; }
  bool serial() const { return ctx_->size() == 1; }
  engine::BlockRange genes() const { return genes_; }  // this rank's gene slab rows
  engine::BlockRange drugs() const { return drugs_; }  // this rank's drug slab drugs
  std::int64_t gene_slab_cols() const { return shape_.entries(); }
  std::int64_t drug_slab_cols() const { return shape_.cells * drugs_.size(); }

  // The layout unfolding `mode` is computed in: drug slabs for the gene mode, gene slabs otherwise.
  static bool uses_drug_slab(TensorMode mode) { return mode == TensorMode::kGene; }

  // Collective. drug_slab (resized) = this rank's drug slab of the tensor whose gene slabs the ranks give.
  void to_drug_slabs(const Eigen::MatrixXd& gene_slab, Eigen::MatrixXd& drug_slab) const;
  // Collective. gene_slab += scale * (this rank's gene slab of the tensor whose drug slabs the ranks give).
  void add_from_drug_slabs(const Eigen::MatrixXd& drug_slab, double scale, Eigen::MatrixXd& gene_slab) const;

 private:
  const engine::Context* ctx_;
  TensorShape shape_;
  engine::BlockRange genes_, drugs_;
};

// Local: this rank's partial Gram of unfolding `mode`, from its slab in the layout that mode uses
// (SlabLayout::uses_drug_slab). n_mode x n_mode, symmetric.
Eigen::MatrixXd partial_gram(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& slab);

// Collective: the whole Gram X_(mode) X_(mode)^T on every rank (partial_gram + allreduce_sum).
Eigen::MatrixXd mode_gram(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& slab);

// Local: out += scale * fold_mode(op * X_(mode)), slab and out in the layout of `mode`; op is n_mode x n_mode and
// symmetric. out must not alias slab.
void apply_mode_operator(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& op,
                         const Eigen::MatrixXd& slab, double scale, Eigen::MatrixXd& out);

// Local: slab = fold_mode(op * X_(mode)) in place (a few columns of scratch, not a second slab).
void apply_mode_operator_in_place(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& op,
                                  Eigen::MatrixXd& slab);

// The same two for a ModeOperator in either form.
void apply_mode_operator(const SlabLayout& layout, TensorMode mode, const ModeOperator& op, const Eigen::MatrixXd& slab,
                         double scale, Eigen::MatrixXd& out);
void apply_mode_operator_in_place(const SlabLayout& layout, TensorMode mode, const ModeOperator& op,
                                  Eigen::MatrixXd& slab);

// Local: this rank's part of the cross product A_(mode) B_(mode)^T + B_(mode) A_(mode)^T (n_mode x n_mode,
// symmetric), a and b in the layout of `mode`. With the Grams of A and B it gives the Gram of any A + t B:
// G_A + t cross + t^2 G_B.
Eigen::MatrixXd partial_symmetric_cross(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& a,
                                        const Eigen::MatrixXd& b);

}  // namespace tessera::solvers::imputation
