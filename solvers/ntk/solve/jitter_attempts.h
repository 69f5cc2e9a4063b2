// The factorisation attempts of the exact solvers, the CPU's (exact.cpp) and the GPU's
// (solvers/ntk/cuda/device_exact.cpp): one jitter policy for both.
//
// build(shift) fills the kernel with `shift` added to the diagonal, factor() returns LAPACK's (or cuSOLVER's)
// info, min_pivot() the smallest diagonal entry of the factor (over all ranks). A factorisation that succeeds with
// a pivot^2 below N eps x mean diagonal is treated as failed too: exactly duplicate rows can leave a
// rounding-sized positive pivot instead of a negative one, and the solve would then amplify rounding by
// 1 / pivot^2. After a failure the next attempt adds jitter x mean diagonal, jitter starting at options.jitter and
// growing by options.jitter_growth; beyond options.max_jitter it throws tessera::Error.
//
// Result is any struct with the members jitter, diagonal_shift, factorisations, min_pivot_squared,
// build_seconds and factor_seconds (ExactResult, DeviceExactResult), which this fills.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "engine/error.h"
#include "engine/log.h"
#include "solvers/ntk/solve/exact.h"

namespace tessera::solvers::ntk {

template <typename Result>
void factor_with_jitter(std::int64_t n, double mean_diag, const ExactOptions& options, Result& result,
                        const std::function<void(double)>& build, const std::function<int()>& factor,
                        const std::function<double()>& min_pivot) {
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  double jitter = 0.0;
  const double singular_below = double(n) * std::numeric_limits<double>::epsilon() * mean_diag;
  for (;;) {
    const double shift = jitter * mean_diag;
    auto start = Clock::now();
    build(shift);
    result.build_seconds += seconds_since(start);
    start = Clock::now();
    const int info = factor();
    double pivot_sq = 0.0;
    if (info == 0) {
      const double pivot = min_pivot();
      pivot_sq = pivot * pivot;
    }
    result.factor_seconds += seconds_since(start);
    ++result.factorisations;
    if (info == 0 && pivot_sq >= singular_below) {
      result.jitter = jitter;
      result.diagonal_shift = shift;
      result.min_pivot_squared = mean_diag > 0 ? pivot_sq / mean_diag : 0.0;
      if (jitter > 0.0)
        engine::warn("ntk exact solve: factored the ", n, " x ", n, " kernel with jitter ", jitter,
                     " x mean diagonal (", shift, " added to every diagonal entry): the predictions are ",
                     "those of kernel ridge regression with that ridge");
      return;
    }
    const double next = jitter == 0.0 ? options.jitter : jitter * options.jitter_growth;
    if (jitter == 0.0) {
      const std::string why = info > 0 ? "Cholesky stopped at column " + std::to_string(info)
                                       : "smallest Cholesky pivot^2 " + std::to_string(pivot_sq / mean_diag) +
                                             " x mean diagonal, below N eps";
      engine::warn("ntk exact solve: the ", n, " x ", n, " kernel is not numerically ", "positive definite (", why,
                   "): near-duplicate training rows, e.g. duplicate pairs or drugs ",
                   "sharing one prior in one cell type with too small an ntk_beta. Retrying with jitter ", next,
                   " x mean diagonal added to the diagonal");
    }
    TESSERA_CHECK(next <= options.max_jitter * (1.0 + 1e-12), "ntk exact solve: the ", n, " x ", n,
                  " kernel is still not positive definite with jitter ", jitter, " x mean diagonal (limit ",
                  options.max_jitter, "); check the training signatures for duplicates or use a larger ntk_beta");
    jitter = next;
  }
}

}  // namespace tessera::solvers::ntk
