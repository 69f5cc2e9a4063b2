#include "solvers/ntk/solve/matrix_free.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <span>

#include "engine/agree.h"
#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/hash.h"
#include "engine/log.h"
#include "engine/partition.h"
#include "engine/progress.h"
#include "solvers/ntk/solve/cg_checkpoint.h"
#include "solvers/ntk/solve/kernel_product.h"
#include "solvers/ntk/solve/nystrom.h"

namespace tessera::solvers::ntk {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Column dot product over this rank's rows in a fixed order (four running sums), so that the result does not
// depend on the buffer's alignment, which differs between a fresh run and one resumed from a checkpoint.
double dot(const double* a, const double* b, std::int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

// A few kernel entries (the leading and the trailing s x s blocks) that identify the kernel in a checkpoint.
Eigen::MatrixXd probe_kernel(const KernelOperator& kernel) {
  const std::int64_t n = kernel.size(), s = std::min<std::int64_t>(n, 8);
  Eigen::MatrixXd probe(s, 2 * s);
  kernel.tile(0, 0, probe.leftCols(s));
  kernel.tile(n - s, n - s, probe.rightCols(s));
  return probe;
}

std::uint64_t hash_y(const engine::Context& ctx, const Eigen::MatrixXd& y_local) {
  const auto local = std::int64_t(engine::hash_bytes(y_local.data(), std::size_t(y_local.size()) * sizeof(double)));
  const auto all = engine::allgatherv(ctx, std::span<const std::int64_t>(&local, 1));
  return engine::hash_bytes(all.data(), all.size() * sizeof(std::int64_t));
}

void check_inputs(const engine::Context& ctx, const KernelOperator& kernel, const Eigen::MatrixXd& y_local) {
  const std::int64_t n = kernel.size();
  TESSERA_CHECK(n >= ctx.size(), "solve_matrix_free: N = ", n, " rows over ", ctx.size(),
                " ranks leaves a rank without rows; use at most N ranks");
  const engine::BlockRange mine = engine::block_range(n, ctx.size(), ctx.rank());
  std::string error;
  if (y_local.rows() != mine.size()) {
    error = detail::concat("solve_matrix_free: rank ", ctx.rank(), " was given ", y_local.rows(),
                           " rows of Y, but holds rows [", mine.begin, ", ", mine.end, ") of N = ", n,
                           " (engine::block_range)");
  } else if (!y_local.allFinite()) {
    for (Eigen::Index j = 0; j < y_local.cols() && error.empty(); ++j)
      for (Eigen::Index i = 0; i < y_local.rows(); ++i)
        if (!std::isfinite(y_local(i, j))) {
          error = detail::concat("solve_matrix_free: Y has ", y_local(i, j), " at row ", mine.begin + i, ", column ", j,
                                 "; impute or drop missing values before the kernel solve");
          break;
        }
  }
  engine::run_agreeing(ctx, "checking Y", [&] {
    if (!error.empty()) throw Error(error);
  });
  const double m = double(y_local.cols());
  TESSERA_CHECK(engine::allreduce_max(ctx, m) == m && engine::allreduce_max(ctx, -m) == -m,
                "solve_matrix_free: ranks were given different numbers of columns of Y");
  TESSERA_CHECK(m >= 1, "solve_matrix_free: Y has no columns");
}

// One run of the solver: the PCG iterations over the column batches, checkpoints, and the result.
class PcgRun {
 public:
  PcgRun(const engine::Context& ctx, const KernelOperator& kernel, const Eigen::MatrixXd& y_local,
         const MatrixFreeParams& params, const std::function<bool()>& should_stop, MatrixFreeResult& result)
      : ctx_(ctx), kernel_(kernel), y_(y_local), params_(params), should_stop_(should_stop), result_(result) {}

  void run(const MatrixFreePlan& plan) {
    const std::int64_t n = kernel_.size(), m = y_.cols();
    rows_ = y_.rows();
    b_ = plan.batch_columns;
    threads_ = plan.threads;

    std::vector<double> norms(std::size_t(m), 0.0);
    for (std::int64_t j = 0; j < m; ++j) norms[std::size_t(j)] = dot(y_.col(j).data(), y_.col(j).data(), rows_);
    engine::allreduce_sum(ctx_, std::span<double>(norms));
    y_norms_.resize(std::size_t(m));
    for (std::int64_t j = 0; j < m; ++j) y_norms_[std::size_t(j)] = std::sqrt(norms[std::size_t(j)]);

    fingerprint_.n = n;
    fingerprint_.columns = m;
    fingerprint_.ranks = ctx_.size();
    fingerprint_.num_centres = plan.num_centres;
    fingerprint_.tile_size = params_.tile_size;
    fingerprint_.lambda = params_.lambda;
    fingerprint_.tolerance = params_.tolerance;
    fingerprint_.preconditioner_shift = params_.preconditioner_shift;
    fingerprint_.seed = params_.seed;
    fingerprint_.y_hash = hash_y(ctx_, y_);
    fingerprint_.kernel_probe = probe_kernel(kernel_);

    // A resumed run takes the checkpoint's batch width when the width is automatic: the memory plan may have
    // changed with the machine, but the batches must not for the answer to stay bit-identical.
    if (!params_.checkpoint_path.empty()) checkpoint_.emplace(ctx_, params_.checkpoint_path);
    bool resuming = false;
    if (checkpoint_ && params_.resume) {
      if (const auto stored = checkpoint_->stored_fingerprint()) {
        if (params_.max_rhs_batch == 0 && stored->batch_columns >= 1 && stored->batch_columns <= m)
          b_ = stored->batch_columns;
        resuming = true;
      } else {
        engine::info("matrix-free CG: no checkpoint at '", params_.checkpoint_path, "', starting afresh");
      }
    }
    fingerprint_.batch_columns = b_;
    batches_ = int(ceil_div(m, b_));

    if (resuming) {
      state_ = checkpoint_->load(fingerprint_);
      result_.resumed = true;
      engine::info("matrix-free CG: resuming from '", params_.checkpoint_path, "' at batch ", state_.batch + 1, "/",
                   batches_, ", iteration ", state_.iteration);
    } else {
      state_.x = Eigen::MatrixXd::Zero(rows_, m);
      state_.r = Eigen::MatrixXd::Zero(rows_, b_);
      state_.p = Eigen::MatrixXd::Zero(rows_, b_);
      state_.status.assign(std::size_t(m), std::int64_t(ColumnStatus::kNotFinished));
      state_.column_iterations.assign(std::size_t(m), 0);
      state_.column_residuals.assign(std::size_t(m), 1.0);
      state_.batch = 0;
    }

    const auto setup_start = Clock::now();
    const engine::blas::ThreadLimit sequential_blas(1);  // the worker threads call the BLAS on their own tiles
    if (plan.num_centres > 0) {
      preconditioner_ = std::make_unique<NystromPreconditioner>(ctx_, kernel_, plan.num_centres, params_.lambda,
                                                                params_.preconditioner_shift, params_.seed, threads_);
      result_.preconditioner_mu = preconditioner_->mu();
      engine::info("matrix-free CG: Nystrom preconditioner with ", plan.num_centres,
                   " centres, mu = ", preconditioner_->mu(), " (lambda ", params_.lambda, " + shift ",
                   preconditioner_->shift(), "), max (K - K_nys)_ii = ", preconditioner_->max_residual_diagonal(),
                   ", jitter ", preconditioner_->jitter(), ", set-up ", preconditioner_->seconds(), " s");
    }
    product_ = std::make_unique<KernelProduct>(ctx_, kernel_, params_.lambda, params_.tile_size, threads_, b_);
    w_ = Eigen::MatrixXd::Zero(rows_, b_);
    result_.setup_seconds = seconds_since(setup_start);

    const auto iterations_start = Clock::now();
    bool inside_checkpointed_batch = resuming;  // the checkpoint's batch continues; later ones start afresh
    for (std::int64_t batch = state_.batch; batch < batches_; ++batch) {
      if (!inside_checkpointed_batch) start_batch(batch);
      inside_checkpointed_batch = false;
      while (!state_.active.empty() && state_.iteration < params_.max_iterations) {
        // Polled before each iteration, so a request that came during set-up stops before the first one.
        if (engine::allreduce_any(ctx_, should_stop_ ? should_stop_() : false)) {
          if (checkpoint_) save_checkpoint();
          result_.stopped = true;
          engine::info("matrix-free CG: stopped on request at batch ", batch + 1, ", iteration ", state_.iteration,
                       checkpoint_ ? "; state checkpointed" : "");
          break;
        }
        iterate();
        ++iterations_this_call_;
        report_progress();
        if (checkpoint_ && params_.checkpoint_every > 0 && state_.iteration % params_.checkpoint_every == 0)
          save_checkpoint();
      }
      if (result_.stopped) break;
      state_.max_batch_iterations = std::max(state_.max_batch_iterations, state_.iteration);
      if (batch + 1 < batches_) {
        state_.batch = batch + 1;
        state_.iteration = 0;
        state_.active.clear();
        state_.rz.clear();
      }
    }
    result_.iteration_seconds = seconds_since(iterations_start);
    // The final state too: a re-submitted finished job then returns at once, and one that ran out of
    // iterations can go on with a larger max_iterations.
    if (checkpoint_ && !result_.stopped && iterations_this_call_ > 0) save_checkpoint();
    if (params_.check_true_residual && !result_.stopped) true_residuals();
    finish(plan);
  }

 private:
  void precondition(const double* r, std::int64_t cols, double* z) {
    if (preconditioner_) {
      preconditioner_->apply(r, cols, z);
    } else {
      std::copy(r, r + rows_ * cols, z);
    }
  }

  // R = Y (non-zero columns of the batch), Z = P^-1 R, P = Z, X = 0.
  void start_batch(std::int64_t batch) {
    const std::int64_t c0 = batch * b_, c1 = std::min<std::int64_t>(y_.cols(), c0 + b_);
    state_.batch = batch;
    state_.iteration = 0;
    state_.active.clear();
    state_.r.setZero();
    state_.p.setZero();
    for (std::int64_t j = c0; j < c1; ++j) {
      const auto jj = std::size_t(j);
      state_.x.col(j).setZero();
      state_.column_iterations[jj] = 0;
      if (y_norms_[jj] == 0) {  // x = 0 solves it exactly
        state_.status[jj] = std::int64_t(ColumnStatus::kConverged);
        state_.column_residuals[jj] = 0;
        continue;
      }
      state_.status[jj] = std::int64_t(ColumnStatus::kNotFinished);
      state_.column_residuals[jj] = 1;
      state_.r.col(std::int64_t(state_.active.size())) = y_.col(j);
      state_.active.push_back(j);
    }
    const std::int64_t a = std::int64_t(state_.active.size());
    precondition(state_.r.data(), a, w_.data());
    state_.rz.assign(std::size_t(a), 0.0);
    for (std::int64_t k = 0; k < a; ++k)
      state_.rz[std::size_t(k)] = dot(state_.r.col(k).data(), w_.col(k).data(), rows_);
    engine::allreduce_sum(ctx_, std::span<double>(state_.rz));
    state_.p.leftCols(a) = w_.leftCols(a);
    batch_start_ = Clock::now();
    batch_iterations_timed_ = 0;
  }

  void iterate() {
    const std::int64_t a = std::int64_t(state_.active.size());
    product_->apply(state_.p.data(), a, w_.data());  // W = (K + lambda I) P

    std::vector<double> pap(std::size_t(a), 0.0);
    for (std::int64_t k = 0; k < a; ++k) pap[std::size_t(k)] = dot(state_.p.col(k).data(), w_.col(k).data(), rows_);
    engine::allreduce_sum(ctx_, std::span<double>(pap));

    std::vector<char> healthy(std::size_t(a), 1);
    for (std::int64_t k = 0; k < a; ++k) {
      const auto kk = std::size_t(k);
      const double alpha = state_.rz[kk] / pap[kk];
      if (!(pap[kk] > 0) || !std::isfinite(alpha)) {  // K + lambda I not positive definite along p
        healthy[kk] = 0;
        continue;
      }
      double* x = state_.x.col(state_.active[kk]).data();
      const double* p = state_.p.col(k).data();
      double* r = state_.r.col(k).data();
      const double* ap = w_.col(k).data();
      for (std::int64_t i = 0; i < rows_; ++i) {
        x[i] += alpha * p[i];
        r[i] -= alpha * ap[i];
      }
    }

    precondition(state_.r.data(), a, w_.data());  // W = Z = P^-1 R
    std::vector<double> sums(std::size_t(2 * a), 0.0);
    for (std::int64_t k = 0; k < a; ++k) {
      sums[std::size_t(k)] = dot(state_.r.col(k).data(), state_.r.col(k).data(), rows_);
      sums[std::size_t(a + k)] = dot(state_.r.col(k).data(), w_.col(k).data(), rows_);
    }
    engine::allreduce_sum(ctx_, std::span<double>(sums));
    ++state_.iteration;
    ++state_.total_iterations;

    std::vector<char> keep(std::size_t(a), 0);
    for (std::int64_t k = 0; k < a; ++k) {
      const auto kk = std::size_t(k);
      const auto j = std::size_t(state_.active[kk]);
      const double residual = std::sqrt(sums[kk]) / y_norms_[j];
      const double rz_new = sums[std::size_t(a + k)];
      state_.column_residuals[j] = residual;
      state_.column_iterations[j] = state_.iteration;
      if (!healthy[kk] || !std::isfinite(residual)) {
        state_.status[j] = std::int64_t(ColumnStatus::kBreakdown);
      } else if (residual <= params_.tolerance) {
        state_.status[j] = std::int64_t(ColumnStatus::kConverged);
      } else if (!(rz_new > 0)) {  // the preconditioner lost positive definiteness (round-off)
        state_.status[j] = std::int64_t(ColumnStatus::kBreakdown);
      } else {
        const double beta = rz_new / state_.rz[kk];
        double* p = state_.p.col(k).data();
        const double* z = w_.col(k).data();
        for (std::int64_t i = 0; i < rows_; ++i) p[i] = z[i] + beta * p[i];
        state_.rz[kk] = rz_new;
        keep[kk] = 1;
      }
    }
    double worst = 0;
    for (std::int64_t k = 0; k < a; ++k)
      worst = std::max(worst, state_.column_residuals[std::size_t(state_.active[std::size_t(k)])]);
    result_.max_residual_history.push_back(worst);
    compact(keep);
    ++batch_iterations_timed_;
  }

  // Moves the columns still iterating to the front of R and P (zeroing the rest, so checkpoints are
  // reproducible byte for byte).
  void compact(const std::vector<char>& keep) {
    std::int64_t kept = 0;
    const std::size_t column_bytes = std::size_t(rows_) * sizeof(double);
    for (std::int64_t k = 0; k < std::int64_t(keep.size()); ++k) {
      if (!keep[std::size_t(k)]) continue;
      if (kept != k) {
        std::memmove(state_.r.col(kept).data(), state_.r.col(k).data(), column_bytes);
        std::memmove(state_.p.col(kept).data(), state_.p.col(k).data(), column_bytes);
        state_.rz[std::size_t(kept)] = state_.rz[std::size_t(k)];
        state_.active[std::size_t(kept)] = state_.active[std::size_t(k)];
      }
      ++kept;
    }
    const std::int64_t dropped = std::int64_t(keep.size()) - kept;
    if (dropped > 0) {
      state_.r.middleCols(kept, dropped).setZero();
      state_.p.middleCols(kept, dropped).setZero();
    }
    state_.rz.resize(std::size_t(kept));
    state_.active.resize(std::size_t(kept));
  }

  void report_progress() {
    const double worst = result_.max_residual_history.empty() ? 1.0 : result_.max_residual_history.back();
    const double per_iteration =
        seconds_since(batch_start_) / double(std::max<std::int64_t>(1, batch_iterations_timed_));
    // Residuals start at 1: extrapolate the geometric decay of the worst column to the tolerance.
    double remaining = NAN;  // format_duration prints "?"
    if (state_.active.empty()) {
      remaining = 0;
    } else if (worst > 0 && worst < 1 && state_.iteration > 0) {
      const double rate = std::pow(worst, 1.0 / double(state_.iteration));
      remaining = std::log(params_.tolerance / worst) / std::log(rate);
    }
    const double later = double(batches_ - 1 - state_.batch) * (double(state_.iteration) + remaining);
    const std::string eta = engine::format_duration((remaining + later) * per_iteration);
    engine::info("matrix-free CG batch ", state_.batch + 1, "/", batches_, ": iteration ", state_.iteration,
                 ", max rel. residual ", worst, " (tol ", params_.tolerance, "), ", state_.active.size(),
                 " columns active, ", per_iteration, " s/iteration, ETA ", eta);
  }

  void save_checkpoint() {
    const auto start = Clock::now();
    checkpoint_->save(fingerprint_, state_);
    engine::info("matrix-free CG: checkpoint at batch ", state_.batch + 1, ", iteration ", state_.iteration,
                 " written to '", params_.checkpoint_path, "' in ", seconds_since(start), " s");
  }

  // ||y_j - (K + lambda I) x_j|| / ||y_j||, batch by batch.
  void true_residuals() {
    const std::int64_t m = y_.cols();
    result_.true_relative_residuals.assign(std::size_t(m), 0.0);
    for (std::int64_t c0 = 0; c0 < m; c0 += b_) {
      const std::int64_t cols = std::min(b_, m - c0);
      product_->apply(state_.x.col(c0).data(), cols, w_.data());
      std::vector<double> sums(std::size_t(cols), 0.0);
      for (std::int64_t k = 0; k < cols; ++k) {
        const double* y = y_.col(c0 + k).data();
        double* w = w_.col(k).data();
        for (std::int64_t i = 0; i < rows_; ++i) w[i] = y[i] - w[i];
        sums[std::size_t(k)] = dot(w, w, rows_);
      }
      engine::allreduce_sum(ctx_, std::span<double>(sums));
      for (std::int64_t k = 0; k < cols; ++k) {
        const auto j = std::size_t(c0 + k);
        result_.true_relative_residuals[j] = y_norms_[j] > 0 ? std::sqrt(sums[std::size_t(k)]) / y_norms_[j] : 0.0;
      }
    }
  }

  void finish(const MatrixFreePlan& plan) {
    const std::int64_t m = y_.cols();
    result_.iterations = int(std::max(state_.max_batch_iterations, state_.iteration));
    result_.total_iterations = state_.total_iterations;
    result_.column_iterations.resize(std::size_t(m));
    result_.relative_residuals = state_.column_residuals;
    result_.column_status.resize(std::size_t(m));
    result_.converged = true;
    for (std::size_t j = 0; j < std::size_t(m); ++j) {
      result_.column_iterations[j] = int(state_.column_iterations[j]);
      result_.column_status[j] = ColumnStatus(state_.status[j]);
      if (result_.column_status[j] != ColumnStatus::kConverged) result_.converged = false;
    }
    result_.batch_columns = b_;
    result_.batches = batches_;
    result_.num_centres = plan.num_centres;
    result_.threads = threads_;
    result_.memory_bytes_planned = plan.bytes_per_rank;
    result_.seconds_per_iteration =
        iterations_this_call_ > 0 ? result_.iteration_seconds / double(iterations_this_call_) : 0.0;
    result_.kernel_products = product_->products();
    result_.tile_cpu_seconds = product_->tile_cpu_seconds();
    result_.gemm_cpu_seconds = product_->gemm_cpu_seconds();
    result_.x_local = std::move(state_.x);
  }

  const engine::Context& ctx_;
  const KernelOperator& kernel_;
  const Eigen::MatrixXd& y_;
  const MatrixFreeParams& params_;
  const std::function<bool()>& should_stop_;
  MatrixFreeResult& result_;

  std::int64_t rows_ = 0;
  std::int64_t b_ = 1;
  int batches_ = 1;
  int threads_ = 1;
  std::vector<double> y_norms_;
  CgFingerprint fingerprint_;
  CgState state_;
  std::optional<CgCheckpoint> checkpoint_;
  std::unique_ptr<NystromPreconditioner> preconditioner_;
  std::unique_ptr<KernelProduct> product_;
  Eigen::MatrixXd w_;  // rows x b: A P, then Z = P^-1 R
  Clock::time_point batch_start_ = Clock::now();
  std::int64_t batch_iterations_timed_ = 0;
  std::int64_t iterations_this_call_ = 0;
};

}  // namespace

void MatrixFreeParams::validate() const {
  engine::check_knobs(*this);
  TESSERA_CHECK(std::isfinite(lambda) && lambda >= 0, "matrix-free solver: lambda = ", lambda,
                " must be finite and >= 0");
  TESSERA_CHECK(std::isfinite(preconditioner_shift), "matrix-free solver: preconditioner_shift must be finite");
  TESSERA_CHECK(preconditioner_shift < 0 || num_centres == 0 || lambda + preconditioner_shift > 0,
                "matrix-free solver: lambda + preconditioner_shift must be > 0 (got ", lambda, " + ",
                preconditioner_shift, "); give a positive shift or a negative one for the automatic choice");
  TESSERA_CHECK(tile_size >= 1 && tile_size <= 46340, "matrix-free solver: tile_size = ", tile_size,
                " must lie in [1, 46340]");
  TESSERA_CHECK(max_rhs_batch >= 0, "matrix-free solver: max_rhs_batch = ", max_rhs_batch,
                " must be >= 0 (0 = fit the memory budget)");
  TESSERA_CHECK(std::isfinite(memory_budget_bytes) && memory_budget_bytes >= 0,
                "matrix-free solver: memory_budget_bytes = ", memory_budget_bytes, " must be >= 0 (0 = automatic)");
  TESSERA_CHECK(threads >= 0, "matrix-free solver: threads = ", threads, " must be >= 0 (0 = automatic)");
  TESSERA_CHECK(!resume || !checkpoint_path.empty(), "matrix-free solver: resume needs a checkpoint_path");
}

double default_memory_budget_bytes(const engine::Context& ctx, const MatrixFreeParams& params) {
  if (params.memory_budget_bytes > 0) return params.memory_budget_bytes;
  // What this rank already holds (Y, the kernel's inputs) is part of the plan, not taken from what is left.
  return std::min(0.8 * ctx.physical_memory_per_rank(),
                  0.9 * ctx.available_memory_per_rank() + engine::resident_memory());
}

int default_threads(const engine::Context& ctx, const MatrixFreeParams& params) {
  if (params.threads > 0) return params.threads;
  return ctx.threads_per_rank();
}

MatrixFreePlan plan_matrix_free(std::int64_t n, std::int64_t m, int ranks, int threads, double budget_bytes,
                                const MatrixFreeParams& params) {
  MatrixFreePlan plan;
  plan.threads = std::max(1, threads);
  plan.num_centres = std::min(params.num_centres, n);
  plan.budget_bytes = budget_bytes;
  const std::int64_t rows = ceil_div(n, ranks);
  const double fixed = 8.0 * double(2 * rows * m) +
                       (plan.num_centres > 0 ? double(NystromPreconditioner::bytes(rows, plan.num_centres, 0)) : 0.0) +
                       double(KernelProduct::workspace_bytes(n, ranks, params.tile_size, plan.threads, 0));
  const double per_column = 8.0 * double(3 * rows + plan.num_centres) +
                            double(KernelProduct::workspace_bytes(n, ranks, params.tile_size, 0, 1));
  std::int64_t width =
      params.max_rhs_batch > 0 ? std::min(params.max_rhs_batch, m) : std::int64_t((budget_bytes - fixed) / per_column);
  width = std::clamp<std::int64_t>(width, 1, m);
  plan.batches = int(ceil_div(m, width));
  plan.batch_columns = ceil_div(m, plan.batches);  // even batches: 978 in two is 489 + 489, not 900 + 78
  plan.bytes_per_rank = fixed + per_column * double(plan.batch_columns);
  plan.fits = plan.bytes_per_rank <= budget_bytes;
  return plan;
}

MatrixFreeResult solve_matrix_free(const engine::Context& ctx, const KernelOperator& kernel,
                                   const Eigen::MatrixXd& y_local, const MatrixFreeParams& params,
                                   const std::function<bool()>& should_stop) {
  const auto start = Clock::now();
  params.validate();
  check_inputs(ctx, kernel, y_local);
  // Every rank must plan the same batches: the smallest budget and the largest thread count (tile buffers) win.
  const int threads = default_threads(ctx, params);
  const double budget = -engine::allreduce_max(ctx, -default_memory_budget_bytes(ctx, params));
  const int plan_threads = int(engine::allreduce_max(ctx, double(threads)));
  MatrixFreePlan plan = plan_matrix_free(kernel.size(), y_local.cols(), ctx.size(), plan_threads, budget, params);
  plan.threads = threads;
  engine::info("matrix-free CG: N = ", kernel.size(), ", m = ", y_local.cols(), ", ", ctx.size(), " ranks x ",
               plan.threads, " threads, ", plan.batches, " batch(es) of ", plan.batch_columns, " columns, ",
               plan.bytes_per_rank / double(1ull << 30), " GiB per rank planned of ",
               plan.budget_bytes / double(1ull << 30), " GiB");
  if (!plan.fits)
    engine::warn("matrix-free CG: the plan needs ", plan.bytes_per_rank / double(1ull << 30),
                 " GiB per rank, over the budget of ", plan.budget_bytes / double(1ull << 30),
                 " GiB; lower num_centres or max_rhs_batch, or use more ranks");

  MatrixFreeResult result;
  PcgRun run(ctx, kernel, y_local, params, should_stop, result);
  run.run(plan);
  result.seconds = seconds_since(start);
  engine::info("matrix-free CG: ", result.converged ? "converged" : (result.stopped ? "stopped" : "NOT converged"),
               " after ", result.iterations, " iterations (", result.total_iterations, " over ", result.batches,
               " batches) in ", result.seconds, " s, ", result.seconds_per_iteration, " s/iteration");
  return result;
}

}  // namespace tessera::solvers::ntk
