// The BLAS level-3 calls of the solvers (NTK kernel products and solves, FaLRTC's Grams and operators), on raw
// column-major buffers: one declaration of the Fortran symbols for the whole project.
//
// Eigen's own GEMM runs at SSE2 speed in this build (no -march flags: about 10 GFLOP/s per core on the AVX-512
// CI machine), while the system BLAS (OpenBLAS, which scripts/install_deps.sh installs and tessera_engine links)
// reaches 30-48. The solver's cost is almost all GEMM, so these call the Fortran BLAS symbols directly.
//
// Threading: OpenBLAS starts one thread per core by default. Two limits apply, both through ThreadLimit: a solver
// that runs its own worker threads, each calling these on its own tile, needs the BLAS single-threaded while it
// does (ThreadLimit(1)); a solver that leaves the threading to the BLAS limits it to the rank's share of the node
// (ThreadLimit(ctx.threads_per_rank())), so that ranks sharing a node do not oversubscribe it. OpenBLAS is found
// at run time through a weak symbol, so another BLAS still links (set MKL's or BLIS's thread count yourself).
// Every call is local (no MPI) and reentrant.
#pragma once

#include <cstdint>

namespace tessera::engine::blas {

// C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T ('N' or 'T'); C is rows x cols, op(A) is
// rows x depth, op(B) is depth x cols. Leading dimensions in elements. Throws when a size exceeds BLAS's int.
void gemm(char trans_a, char trans_b, std::int64_t rows, std::int64_t cols, std::int64_t depth, double alpha,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
          std::int64_t ldc);

// C (n x n, lower triangle only) = alpha * A^T A + beta * C for A depth x n (trans 'T'), or alpha * A A^T +
// beta * C for A n x depth (trans 'N').
void syrk_lower(char trans, std::int64_t n, std::int64_t depth, double alpha, const double* a, std::int64_t lda,
                double beta, double* c, std::int64_t ldc);

// Solves X * L^T = B in place (B: rows x n, overwritten by X), L lower triangular n x n.
void solve_right_lower_transposed(std::int64_t rows, std::int64_t n, const double* lower, std::int64_t ldl, double* b,
                                  std::int64_t ldb);

// Solves L * X = B (trans 'N') or L^T * X = B (trans 'T') in place, L lower triangular n x n, B n x cols.
void solve_left_lower(char trans, std::int64_t n, std::int64_t cols, const double* lower, std::int64_t ldl, double* b,
                      std::int64_t ldb);

// While alive, OpenBLAS uses at most max(1, max_threads) threads per call (fewer if it was already set to fewer);
// the previous count comes back on destruction. Local; not thread-safe itself: create it on the thread that
// starts the worker threads, before it starts them.
class ThreadLimit {
 public:
  explicit ThreadLimit(int max_threads);
  ~ThreadLimit();
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  int previous_ = 0;  // 0: nothing to restore
};

// OpenBLAS's thread count now, 0 with another BLAS (for tests and logs).
int current_threads();

}  // namespace tessera::engine::blas
