#include "solvers/imputation/tensor_unfolding.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"

namespace tessera::solvers::imputation {

extern "C" {
// Fortran LAPACK (the reference LAPACK that tessera_engine links), column-major. BLAS calls go through
// engine/blas.h.
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
}

namespace {

// Values per all-to-all round: the exchange goes in chunks of whole cells so that its two scratch buffers stay
// near 128 MB each however large the tensor, and every MPI count fits in an int.
constexpr std::int64_t kChunkValues = std::int64_t(1) << 24;
// Columns (or rows) per block when an operator is applied in place.
constexpr Eigen::Index kInPlaceBlock = 256;

using ConstMap = Eigen::Map<const Eigen::MatrixXd>;
using Map = Eigen::Map<Eigen::MatrixXd>;

// Cells per exchange round, the same on every rank (it depends only on the shape and the rank count).
std::int64_t cells_per_chunk(const TensorShape& shape, int size) {
  std::int64_t per_cell = 1;
  for (int s = 0; s < size; ++s) {
    per_cell = std::max(per_cell, engine::block_range(shape.genes, size, s).size() * shape.drugs);
    per_cell = std::max(per_cell, shape.genes * engine::block_range(shape.drugs, size, s).size());
  }
  return std::clamp<std::int64_t>(kChunkValues / per_cell, 1, std::max<std::int64_t>(shape.cells, 1));
}

// LAPACK's int.
int blas_int(std::int64_t n) {
  TESSERA_CHECK(n >= 0 && n <= INT_MAX, "tensor unfolding: dimension ", n, " exceeds BLAS's int; use more ranks");
  return int(n);
}

// The system BLAS rather than Eigen's products: this build has no -march flags, so Eigen's GEMM runs at SSE2
// speed (17 GFLOP/s on one core of the dev machine against OpenBLAS's 42-48); Grams and operators are almost
// all of FaLRTC's time.
// C (n x n, lower triangle) += A^T A for A k x n (trans 'T'), or A A^T for A n x k (trans 'N').
void syrk_lower(char trans, std::int64_t n, std::int64_t k, const double* a, std::int64_t lda, Eigen::MatrixXd& c) {
  if (n == 0 || k == 0) return;
  engine::blas::syrk_lower(trans, n, k, 1.0, a, std::max<std::int64_t>(lda, 1), 1.0, c.data(), n);
}

// C = alpha A B + beta C; A m x k, B k x n, C m x n, leading dimensions in elements.
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a, std::int64_t lda,
          const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
  engine::blas::gemm('N', 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, std::max<std::int64_t>(ldc, 1));
}

using StridedMap = Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>>;
using ConstStridedMap = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

// Rows or columns per block of a low-rank application: bounds its k x block scratch.
constexpr std::int64_t kLowRankBlock = 2048;

// out += scale (A - B diag(w) B^T A) for A n x m (leading dimension lda), B n x k: the low-rank W applied from
// the left (the gene mode, whose unfolding is the slab itself). out may be A (then scale is 1 and A becomes W A):
// each block's B^T A is taken before the block is written.
void low_rank_left(std::int64_t n, std::int64_t m, const Eigen::MatrixXd& basis, const Eigen::VectorXd& weights,
                   const double* a, std::int64_t lda, double scale, double* out, std::int64_t ldo) {
  const std::int64_t k = basis.cols();
  Eigen::MatrixXd t;
  for (std::int64_t j = 0; j < m; j += kLowRankBlock) {
    const std::int64_t w = std::min(kLowRankBlock, m - j);
    const double* a_block = a + j * lda;
    double* out_block = out + j * ldo;
    t.resize(k, w);
    if (k > 0) engine::blas::gemm('T', 'N', k, w, n, 1.0, basis.data(), n, a_block, lda, 0.0, t.data(), k);
    if (out != a)
      StridedMap(out_block, n, w, Eigen::OuterStride<>(ldo)) +=
          scale * ConstStridedMap(a_block, n, w, Eigen::OuterStride<>(lda));
    if (k == 0) continue;
    t = weights.asDiagonal() * t;
    engine::blas::gemm('N', 'N', n, w, k, -scale, basis.data(), n, t.data(), k, 1.0, out_block, ldo);
  }
}

// out += scale (A - A B diag(w) B^T) for A h x n (leading dimension lda): the low-rank W (symmetric) applied from
// the right (the drug mode on one cell's block, the cell mode on the whole slab). out may be A, as above.
void low_rank_right(std::int64_t h, std::int64_t n, const Eigen::MatrixXd& basis, const Eigen::VectorXd& weights,
                    const double* a, std::int64_t lda, double scale, double* out, std::int64_t ldo) {
  const std::int64_t k = basis.cols();
  Eigen::MatrixXd t;
  for (std::int64_t i = 0; i < h; i += kLowRankBlock) {
    const std::int64_t r = std::min(kLowRankBlock, h - i);
    t.resize(r, k);
    if (k > 0) engine::blas::gemm('N', 'N', r, k, n, 1.0, a + i, lda, basis.data(), n, 0.0, t.data(), r);
    if (out != a)
      StridedMap(out + i, r, n, Eigen::OuterStride<>(ldo)) +=
          scale * ConstStridedMap(a + i, r, n, Eigen::OuterStride<>(lda));
    if (k == 0) continue;
    t = t * weights.asDiagonal();
    engine::blas::gemm('N', 'T', r, n, k, -scale, t.data(), r, basis.data(), n, 1.0, out + i, ldo);
  }
}

// Applies a low-rank operator to a slab in the layout of `mode`; out may be slab (in place, scale 1).
void apply_low_rank(const TensorShape& shape, TensorMode mode, const ModeOperator& op, const Eigen::MatrixXd& slab,
                    double scale, double* out) {
  const std::int64_t rows = slab.rows(), D = shape.drugs, n = shape.extent(mode);
  switch (mode) {
    case TensorMode::kGene:
      low_rank_left(n, slab.cols(), op.basis, op.weights, slab.data(), rows, scale, out, rows);
      break;
    case TensorMode::kDrug:
      for (std::int64_t c = 0; c < shape.cells; ++c)
        low_rank_right(rows, D, op.basis, op.weights, slab.data() + c * D * rows, rows, scale, out + c * D * rows,
                       rows);
      break;
    case TensorMode::kCell:
      low_rank_right(rows * D, shape.cells, op.basis, op.weights, slab.data(), rows * D, scale, out, rows * D);
      break;
  }
}

Eigen::MatrixXd symmetric_from_lower(const Eigen::MatrixXd& lower) {
  Eigen::MatrixXd full = lower.selfadjointView<Eigen::Lower>();
  return full;
}

// Eigenvalues (ascending) of the symmetric matrix a, and its eigenvectors in a when `vectors` (LAPACK dsyevd,
// divide and conquer: 0.15 s against Eigen's 0.65 s at n = 978, 1.4 s against 12.4 s at n = 2000, one core).
// Reads the lower triangle.
Eigen::VectorXd symmetric_eigen(Eigen::MatrixXd& a, bool vectors) {
  const int n = blas_int(a.rows()), lda = std::max(1, n);
  Eigen::VectorXd w(n);
  const char jobz = vectors ? 'V' : 'N';
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevd_(&jobz, "L", &n, a.data(), &lda, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  TESSERA_CHECK(info == 0, "dsyevd workspace query failed (info ", info, ")");
  lwork = std::max(1, int(work_query)), liwork = std::max(1, iwork_query);
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_(&jobz, "L", &n, a.data(), &lda, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  TESSERA_CHECK(info == 0, "the eigen-decomposition of a ", n, " x ", n, " Gram matrix did not converge (dsyevd info ",
                info, ")");
  return w;
}

}  // namespace

const char* mode_name(TensorMode mode) {
  switch (mode) {
    case TensorMode::kDrug:
      return "drug";
    case TensorMode::kGene:
      return "gene";
    case TensorMode::kCell:
      return "cell";
  }
  return "unknown";
}

std::int64_t TensorShape::extent(TensorMode mode) const {
  switch (mode) {
    case TensorMode::kDrug:
      return drugs;
    case TensorMode::kGene:
      return genes;
    case TensorMode::kCell:
      return cells;
  }
  return 0;
}

std::pair<std::int64_t, std::int64_t> unfold_index(const TensorShape& shape, TensorMode mode, std::int64_t drug,
                                                   std::int64_t gene, std::int64_t cell) {
  switch (mode) {
    case TensorMode::kDrug:
      return {drug, gene + shape.genes * cell};
    case TensorMode::kGene:
      return {gene, drug + shape.drugs * cell};
    case TensorMode::kCell:
      return {cell, drug + shape.drugs * gene};
  }
  return {0, 0};
}

Eigen::MatrixXd unfold(const TensorShape& shape, const Eigen::MatrixXd& table_values, TensorMode mode) {
  TESSERA_CHECK(table_values.rows() == shape.genes && table_values.cols() == shape.entries(), "unfold: the table is ",
                table_values.rows(), " x ", table_values.cols(), " but the shape needs ", shape.genes, " genes x ",
                shape.entries(), " (cells * drugs) columns");
  const std::int64_t n = shape.extent(mode);
  Eigen::MatrixXd out(n, n > 0 ? shape.size() / n : 0);
  for (std::int64_t c = 0; c < shape.cells; ++c)
    for (std::int64_t d = 0; d < shape.drugs; ++d)
      for (std::int64_t g = 0; g < shape.genes; ++g) {
        const auto [row, col] = unfold_index(shape, mode, d, g, c);
        out(row, col) = table_values(g, c * shape.drugs + d);
      }
  return out;
}

GramSpectrum GramSpectrum::from_gram(const Eigen::MatrixXd& gram, bool vectors) {
  TESSERA_CHECK(gram.rows() == gram.cols(), "GramSpectrum: the Gram matrix is ", gram.rows(), " x ", gram.cols(),
                ", not square");
  TESSERA_CHECK(gram.allFinite(),
                "GramSpectrum: the Gram matrix holds NaN or infinite values (non-finite data "
                "in the tensor, or a diverging iteration)");
  const Eigen::Index n = gram.rows();
  GramSpectrum spec;
  spec.sigma = Eigen::VectorXd::Zero(n);
  spec.squared_norm = std::max(0.0, gram.trace());
  if (n == 0) return spec;
  Eigen::MatrixXd a = gram;
  const Eigen::VectorXd lambda = symmetric_eigen(a, vectors);  // ascending
  const double lambda_max = std::max(0.0, lambda(n - 1));
  const double floor = double(n) * std::numeric_limits<double>::epsilon() * lambda_max;
  for (Eigen::Index j = 0; j < n; ++j) {
    const double l = lambda(n - 1 - j);
    spec.sigma(j) = l > floor ? std::sqrt(l) : 0.0;
  }
  if (vectors) spec.u = a.rowwise().reverse();  // descending order, as sigma
  return spec;
}

Eigen::MatrixXd GramSpectrum::clip_operator(double tau) const {
  TESSERA_CHECK(tau > 0, "GramSpectrum::clip_operator: tau = ", tau, " must be positive");
  const Eigen::Index n = sigma.size();
  Eigen::Index k = 0;
  while (k < n && sigma(k) > tau) ++k;
  Eigen::MatrixXd w = Eigen::MatrixXd::Identity(n, n);
  if (k == 0) return w;
  TESSERA_CHECK(u.rows() == n && u.cols() == n,
                "GramSpectrum::clip_operator needs the singular vectors: build the "
                "spectrum with vectors = true");
  // W = I - S S^T with S = U_k diag(sqrt(1 - tau / sigma)), one symmetric rank-k update.
  const Eigen::MatrixXd scaled = u.leftCols(k) * (1.0 - tau / sigma.head(k).array()).sqrt().matrix().asDiagonal();
  engine::blas::syrk_lower('N', n, k, -1.0, scaled.data(), n, 1.0, w.data(), n);
  return symmetric_from_lower(w);
}

ModeOperator ModeOperator::clip(const GramSpectrum& spectrum, double tau) {
  TESSERA_CHECK(tau > 0, "ModeOperator::clip: tau = ", tau, " must be positive");
  const Eigen::Index n = spectrum.sigma.size();
  Eigen::Index k = 0;
  while (k < n && spectrum.sigma(k) > tau) ++k;
  ModeOperator op;
  if (2 * k >= n && n > 0) {
    op.dense = spectrum.clip_operator(tau);
    return op;
  }
  TESSERA_CHECK(k == 0 || (spectrum.u.rows() == n && spectrum.u.cols() == n),
                "ModeOperator::clip needs the singular vectors: build the spectrum with vectors = true");
  op.basis = spectrum.u.leftCols(k);
  op.weights = 1.0 - tau / spectrum.sigma.head(k).array();
  return op;
}

SlabLayout::SlabLayout(const engine::Context& ctx, const TensorShape& shape) : ctx_(&ctx), shape_(shape) {
  TESSERA_CHECK(shape.drugs >= 0 && shape.genes >= 0 && shape.cells >= 0, "SlabLayout: negative tensor extent (",
                shape.drugs, " drugs, ", shape.genes, " genes, ", shape.cells, " cells)");
  genes_ = engine::block_range(shape.genes, ctx.size(), ctx.rank());
  drugs_ = engine::block_range(shape.drugs, ctx.size(), ctx.rank());
}

void SlabLayout::to_drug_slabs(const Eigen::MatrixXd& gene_slab, Eigen::MatrixXd& drug_slab) const {
  TESSERA_CHECK(gene_slab.rows() == genes_.size() && gene_slab.cols() == gene_slab_cols(),
                "SlabLayout::to_drug_slabs: the gene slab is ", gene_slab.rows(), " x ", gene_slab.cols(),
                ", expected ", genes_.size(), " x ", gene_slab_cols());
  if (serial()) {
    drug_slab = gene_slab;
    return;
  }
  const int size = ctx_->size();
  const std::int64_t D = shape_.drugs, ng = genes_.size(), nd = drugs_.size();
  drug_slab.resize(shape_.genes, drug_slab_cols());
  const std::int64_t chunk = cells_per_chunk(shape_, size);
  std::vector<double> send, recv;
  std::vector<std::int64_t> send_counts(static_cast<std::size_t>(size)), recv_counts(static_cast<std::size_t>(size));
  for (std::int64_t c0 = 0; c0 < shape_.cells; c0 += chunk) {
    const std::int64_t c1 = std::min(shape_.cells, c0 + chunk), nc = c1 - c0;
    // To rank s: for each cell, its drugs' columns of my gene rows (contiguous in the gene slab).
    send.clear();
    send.reserve(std::size_t(ng * nc * D));
    for (int s = 0; s < size; ++s) {
      const auto ds = engine::block_range(D, size, s);
      send_counts[std::size_t(s)] = ng * nc * ds.size();
      recv_counts[std::size_t(s)] = engine::block_range(shape_.genes, size, s).size() * nc * nd;
      for (std::int64_t c = c0; c < c1; ++c) {
        const double* first = gene_slab.data() + (c * D + ds.begin) * ng;
        send.insert(send.end(), first, first + ds.size() * ng);
      }
    }
    recv = engine::alltoallv(*ctx_, send, send_counts, recv_counts);
    std::int64_t pos = 0;
    for (int s = 0; s < size; ++s) {
      const auto gs = engine::block_range(shape_.genes, size, s);
      for (std::int64_t c = c0; c < c1; ++c)
        for (std::int64_t dl = 0; dl < nd; ++dl, pos += gs.size())
          drug_slab.col(c * nd + dl).segment(gs.begin, gs.size()) = ConstMap(recv.data() + pos, gs.size(), 1);
    }
  }
}

void SlabLayout::add_from_drug_slabs(const Eigen::MatrixXd& drug_slab, double scale, Eigen::MatrixXd& gene_slab) const {
  TESSERA_CHECK(drug_slab.rows() == shape_.genes && drug_slab.cols() == drug_slab_cols(),
                "SlabLayout::add_from_drug_slabs: the drug slab is ", drug_slab.rows(), " x ", drug_slab.cols(),
                ", expected ", shape_.genes, " x ", drug_slab_cols());
  TESSERA_CHECK(gene_slab.rows() == genes_.size() && gene_slab.cols() == gene_slab_cols(),
                "SlabLayout::add_from_drug_slabs: the gene slab is ", gene_slab.rows(), " x ", gene_slab.cols(),
                ", expected ", genes_.size(), " x ", gene_slab_cols());
  if (serial()) {
    gene_slab += scale * drug_slab;
    return;
  }
  const int size = ctx_->size();
  const std::int64_t D = shape_.drugs, ng = genes_.size(), nd = drugs_.size();
  const std::int64_t chunk = cells_per_chunk(shape_, size);
  std::vector<double> send, recv;
  std::vector<std::int64_t> send_counts(static_cast<std::size_t>(size)), recv_counts(static_cast<std::size_t>(size));
  for (std::int64_t c0 = 0; c0 < shape_.cells; c0 += chunk) {
    const std::int64_t c1 = std::min(shape_.cells, c0 + chunk), nc = c1 - c0;
    // To rank s: its gene rows of each of my (cell, drug) columns.
    send.clear();
    send.reserve(std::size_t(shape_.genes * nc * nd));
    for (int s = 0; s < size; ++s) {
      const auto gs = engine::block_range(shape_.genes, size, s);
      send_counts[std::size_t(s)] = gs.size() * nc * nd;
      recv_counts[std::size_t(s)] = ng * nc * engine::block_range(D, size, s).size();
      for (std::int64_t c = c0; c < c1; ++c)
        for (std::int64_t dl = 0; dl < nd; ++dl) {
          const double* first = drug_slab.data() + (c * nd + dl) * shape_.genes + gs.begin;
          send.insert(send.end(), first, first + gs.size());
        }
    }
    recv = engine::alltoallv(*ctx_, send, send_counts, recv_counts);
    std::int64_t pos = 0;
    for (int s = 0; s < size; ++s) {
      const auto ds = engine::block_range(D, size, s);
      for (std::int64_t c = c0; c < c1; ++c, pos += ds.size() * ng)
        Map(gene_slab.data() + (c * D + ds.begin) * ng, ng, ds.size()) +=
            scale * ConstMap(recv.data() + pos, ng, ds.size());
    }
  }
}

Eigen::MatrixXd partial_gram(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& slab) {
  const TensorShape& shape = layout.shape();
  const bool drug_layout = SlabLayout::uses_drug_slab(mode);
  const std::int64_t rows = drug_layout ? shape.genes : layout.genes().size();
  const std::int64_t cols = drug_layout ? layout.drug_slab_cols() : layout.gene_slab_cols();
  TESSERA_CHECK(slab.rows() == rows && slab.cols() == cols, "partial_gram (", mode_name(mode), " mode): the slab is ",
                slab.rows(), " x ", slab.cols(), ", expected ", rows, " x ", cols);
  const std::int64_t n = shape.extent(mode);
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
  if (slab.size() == 0) return gram;
  switch (mode) {
    case TensorMode::kGene:
      syrk_lower('N', n, slab.cols(), slab.data(), slab.rows(), gram);
      break;
    case TensorMode::kDrug:
      // Columns of X_(0) are (gene, cell) pairs; cell c's block of the gene slab is rows x drugs, i.e. the
      // transpose of X_(0)'s columns (local genes, c).
      for (std::int64_t c = 0; c < shape.cells; ++c)
        syrk_lower('T', n, rows, slab.data() + c * shape.drugs * rows, rows, gram);
      break;
    case TensorMode::kCell:
      // The gene slab's memory read as (rows * drugs) x cells is X_(2)^T restricted to the local genes.
      syrk_lower('T', n, rows * shape.drugs, slab.data(), rows * shape.drugs, gram);
      break;
  }
  return symmetric_from_lower(gram);
}

Eigen::MatrixXd mode_gram(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& slab) {
  Eigen::MatrixXd gram = partial_gram(layout, mode, slab);
  engine::allreduce_sum(layout.context(), gram);
  return gram;
}

void apply_mode_operator(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& op,
                         const Eigen::MatrixXd& slab, double scale, Eigen::MatrixXd& out) {
  const TensorShape& shape = layout.shape();
  const std::int64_t n = shape.extent(mode);
  TESSERA_CHECK(op.rows() == n && op.cols() == n, "apply_mode_operator (", mode_name(mode), " mode): operator is ",
                op.rows(), " x ", op.cols(), ", expected ", n, " x ", n);
  TESSERA_CHECK(out.rows() == slab.rows() && out.cols() == slab.cols(), "apply_mode_operator: out is ", out.rows(),
                " x ", out.cols(), " but the slab is ", slab.rows(), " x ", slab.cols());
  TESSERA_ASSERT(out.data() != slab.data());
  if (slab.size() == 0) return;
  const std::int64_t rows = slab.rows(), D = shape.drugs;
  switch (mode) {
    case TensorMode::kGene:
      gemm(n, slab.cols(), n, scale, op.data(), n, slab.data(), rows, 1.0, out.data(), rows);
      break;
    case TensorMode::kDrug:
      // fold(P X_(0)) on cell c's block B_c (rows x drugs) is B_c P^T = B_c P.
      for (std::int64_t c = 0; c < shape.cells; ++c)
        gemm(rows, D, D, scale, slab.data() + c * D * rows, rows, op.data(), D, 1.0, out.data() + c * D * rows, rows);
      break;
    case TensorMode::kCell:
      gemm(rows * D, shape.cells, shape.cells, scale, slab.data(), rows * D, op.data(), shape.cells, 1.0, out.data(),
           rows * D);
      break;
  }
}

void apply_mode_operator_in_place(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& op,
                                  Eigen::MatrixXd& slab) {
  const TensorShape& shape = layout.shape();
  const std::int64_t n = shape.extent(mode);
  TESSERA_CHECK(op.rows() == n && op.cols() == n, "apply_mode_operator_in_place (", mode_name(mode),
                " mode): operator is ", op.rows(), " x ", op.cols(), ", expected ", n, " x ", n);
  if (slab.size() == 0) return;
  const std::int64_t rows = slab.rows(), D = shape.drugs;
  Eigen::MatrixXd scratch;
  switch (mode) {
    case TensorMode::kGene:
      for (Eigen::Index j = 0; j < slab.cols(); j += kInPlaceBlock) {
        const Eigen::Index w = std::min(kInPlaceBlock, slab.cols() - j);
        scratch.resize(n, w);
        gemm(n, w, n, 1.0, op.data(), n, slab.data() + j * rows, rows, 0.0, scratch.data(), n);
        slab.middleCols(j, w) = scratch;
      }
      break;
    case TensorMode::kDrug:
      for (std::int64_t c = 0; c < shape.cells; ++c) {
        double* block = slab.data() + c * D * rows;  // rows x D, leading dimension rows
        for (Eigen::Index i = 0; i < rows; i += kInPlaceBlock) {
          const Eigen::Index h = std::min<Eigen::Index>(kInPlaceBlock, rows - i);
          scratch.resize(h, D);
          gemm(h, D, D, 1.0, block + i, rows, op.data(), D, 0.0, scratch.data(), h);
          Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>>(block + i, h, D, Eigen::OuterStride<>(rows)) = scratch;
        }
      }
      break;
    case TensorMode::kCell: {
      Map v(slab.data(), rows * D, shape.cells);
      for (Eigen::Index i = 0; i < v.rows(); i += kInPlaceBlock) {
        const Eigen::Index h = std::min(kInPlaceBlock, v.rows() - i);
        scratch.resize(h, shape.cells);
        gemm(h, shape.cells, shape.cells, 1.0, v.data() + i, v.rows(), op.data(), shape.cells, 0.0, scratch.data(), h);
        v.middleRows(i, h) = scratch;
      }
      break;
    }
  }
}

}  // namespace tessera::solvers::imputation

namespace tessera::solvers::imputation {

void apply_mode_operator(const SlabLayout& layout, TensorMode mode, const ModeOperator& op, const Eigen::MatrixXd& slab,
                         double scale, Eigen::MatrixXd& out) {
  if (!op.low_rank()) return apply_mode_operator(layout, mode, op.dense, slab, scale, out);
  const std::int64_t n = layout.shape().extent(mode);
  TESSERA_CHECK(op.basis.rows() == n && op.weights.size() == op.basis.cols(), "apply_mode_operator (", mode_name(mode),
                " mode): low-rank operator is ", op.basis.rows(), " x ", op.basis.cols(), ", expected ", n, " rows");
  TESSERA_CHECK(out.rows() == slab.rows() && out.cols() == slab.cols(), "apply_mode_operator: out is ", out.rows(),
                " x ", out.cols(), " but the slab is ", slab.rows(), " x ", slab.cols());
  TESSERA_ASSERT(out.data() != slab.data());
  if (slab.size() == 0) return;
  apply_low_rank(layout.shape(), mode, op, slab, scale, out.data());
}

void apply_mode_operator_in_place(const SlabLayout& layout, TensorMode mode, const ModeOperator& op,
                                  Eigen::MatrixXd& slab) {
  if (!op.low_rank()) return apply_mode_operator_in_place(layout, mode, op.dense, slab);
  const std::int64_t n = layout.shape().extent(mode);
  TESSERA_CHECK(op.basis.rows() == n && op.weights.size() == op.basis.cols(), "apply_mode_operator_in_place (",
                mode_name(mode), " mode): low-rank operator is ", op.basis.rows(), " x ", op.basis.cols(),
                ", expected ", n, " rows");
  if (slab.size() == 0) return;
  apply_low_rank(layout.shape(), mode, op, slab, 1.0, slab.data());
}

Eigen::MatrixXd partial_symmetric_cross(const SlabLayout& layout, TensorMode mode, const Eigen::MatrixXd& a,
                                        const Eigen::MatrixXd& b) {
  const TensorShape& shape = layout.shape();
  const bool drug_layout = SlabLayout::uses_drug_slab(mode);
  const std::int64_t rows = drug_layout ? shape.genes : layout.genes().size();
  const std::int64_t cols = drug_layout ? layout.drug_slab_cols() : layout.gene_slab_cols();
  TESSERA_CHECK(a.rows() == rows && a.cols() == cols && b.rows() == rows && b.cols() == cols,
                "partial_symmetric_cross (", mode_name(mode), " mode): the slabs are ", a.rows(), " x ", a.cols(),
                " and ", b.rows(), " x ", b.cols(), ", expected ", rows, " x ", cols);
  const std::int64_t n = shape.extent(mode), D = shape.drugs;
  Eigen::MatrixXd cross = Eigen::MatrixXd::Zero(n, n);
  if (a.size() == 0) return cross;
  switch (mode) {
    case TensorMode::kGene:
      engine::blas::gemm('N', 'T', n, n, cols, 1.0, a.data(), rows, b.data(), rows, 0.0, cross.data(), n);
      break;
    case TensorMode::kDrug:
      for (std::int64_t c = 0; c < shape.cells; ++c)
        engine::blas::gemm('T', 'N', n, n, rows, 1.0, a.data() + c * D * rows, rows, b.data() + c * D * rows, rows, 1.0,
                           cross.data(), n);
      break;
    case TensorMode::kCell:
      engine::blas::gemm('T', 'N', n, n, rows * D, 1.0, a.data(), rows * D, b.data(), rows * D, 0.0, cross.data(), n);
      break;
  }
  return cross + cross.transpose();
}

}  // namespace tessera::solvers::imputation
