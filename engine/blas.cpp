#include "engine/blas.h"

#include <algorithm>
#include <climits>
#include <cstddef>

#include "engine/error.h"

extern "C" {
// Fortran BLAS (LP64), with gfortran's hidden lengths of the character arguments (all 1 here).
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc, std::size_t transa_len, std::size_t transb_len);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha, const double* a,
            const int* lda, const double* beta, double* c, const int* ldc, std::size_t uplo_len, std::size_t trans_len);
void dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag, const int* m, const int* n,
            const double* alpha, const double* a, const int* lda, double* b, const int* ldb, std::size_t side_len,
            std::size_t uplo_len, std::size_t transa_len, std::size_t diag_len);
// OpenBLAS extensions; null when another BLAS is linked.
void openblas_set_num_threads(int threads) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
}

namespace tessera::engine::blas {

namespace {

int as_int(std::int64_t value, const char* what) {
  TESSERA_CHECK(value >= 0 && value <= INT_MAX, "BLAS call: ", what, " = ", value,
                " exceeds the 32-bit BLAS interface; use more ranks or a smaller tile/batch");
  return int(value);
}

}  // namespace

void gemm(char trans_a, char trans_b, std::int64_t rows, std::int64_t cols, std::int64_t depth, double alpha,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
          std::int64_t ldc) {
  if (rows == 0 || cols == 0) return;
  const int m = as_int(rows, "rows"), n = as_int(cols, "cols"), k = as_int(depth, "depth");
  const int la = as_int(lda < 1 ? 1 : lda, "lda"), lb = as_int(ldb < 1 ? 1 : ldb, "ldb");
  const int lc = as_int(ldc, "ldc");
  dgemm_(&trans_a, &trans_b, &m, &n, &k, &alpha, a, &la, b, &lb, &beta, c, &lc, 1, 1);
}

void syrk_lower(char trans, std::int64_t n, std::int64_t depth, double alpha, const double* a, std::int64_t lda,
                double beta, double* c, std::int64_t ldc) {
  if (n == 0) return;
  const int nn = as_int(n, "n"), k = as_int(depth, "depth"), la = as_int(lda < 1 ? 1 : lda, "lda");
  const int lc = as_int(ldc, "ldc");
  dsyrk_("L", &trans, &nn, &k, &alpha, a, &la, &beta, c, &lc, 1, 1);
}

void solve_right_lower_transposed(std::int64_t rows, std::int64_t n, const double* lower, std::int64_t ldl, double* b,
                                  std::int64_t ldb) {
  if (rows == 0 || n == 0) return;
  const int m = as_int(rows, "rows"), nn = as_int(n, "n"), ll = as_int(ldl, "ldl"), lb = as_int(ldb, "ldb");
  const double one = 1.0;
  dtrsm_("R", "L", "T", "N", &m, &nn, &one, lower, &ll, b, &lb, 1, 1, 1, 1);
}

void solve_left_lower(char trans, std::int64_t n, std::int64_t cols, const double* lower, std::int64_t ldl, double* b,
                      std::int64_t ldb) {
  if (n == 0 || cols == 0) return;
  const int nn = as_int(n, "n"), c = as_int(cols, "cols"), ll = as_int(ldl, "ldl"), lb = as_int(ldb, "ldb");
  const double one = 1.0;
  dtrsm_("L", "L", &trans, "N", &nn, &c, &one, lower, &ll, b, &lb, 1, 1, 1, 1);
}

ThreadLimit::ThreadLimit(int max_threads) {
  if (openblas_get_num_threads == nullptr || openblas_set_num_threads == nullptr) return;
  const int now = openblas_get_num_threads();
  const int limit = std::max(1, std::min(now, max_threads));
  if (limit == now) return;
  previous_ = now;
  openblas_set_num_threads(limit);
}

ThreadLimit::~ThreadLimit() {
  if (previous_ > 0) openblas_set_num_threads(previous_);
}

int current_threads() { return openblas_get_num_threads != nullptr ? openblas_get_num_threads() : 0; }

}  // namespace tessera::engine::blas
