#include "solvers/ntk/solve/kernel_regression.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/hash.h"
#include "engine/log.h"
#include "engine/sharded_matrix.h"
#include "engine/signals.h"
#include "io/atomic_file.h"
#include "solvers/ntk/solve/exact.h"
#include "solvers/ntk/solve/matrix_free.h"
#include "solvers/ntk/solve/nystrom_regression.h"
#include "solvers/ntk/solve/parallel_for.h"
#include "solvers/ntk/solve/solver_choice.h"

namespace tessera::solvers::ntk {

MatrixFreeParams matrix_free_params_for(const KernelSolveParams& params, const std::vector<std::int64_t>& train_entries,
                                        const std::vector<std::int64_t>& queries, std::string_view kernel_label) {
  MatrixFreeParams cg = params.matrix_free;
  if (params.memory_gb > 0) cg.memory_budget_bytes = params.memory_gb * 1e9;
  if (params.checkpoint_dir.empty()) return cg;
  std::uint64_t hash = engine::hash_bytes(train_entries.data(), train_entries.size() * sizeof(std::int64_t));
  hash = engine::hash_bytes(queries.data(), queries.size() * sizeof(std::int64_t), hash);
  hash = engine::hash_bytes(kernel_label.data(), kernel_label.size(), hash);
  char name[40];
  std::snprintf(name, sizeof name, "ntk_cg_%016llx.h5", static_cast<unsigned long long>(hash));
  io::make_output_folder(params.checkpoint_dir, "--ntk-checkpoint-dir");
  cg.checkpoint_path = (std::filesystem::path(params.checkpoint_dir) / name).string();
  cg.resume = true;
  return cg;
}

ExactOptions exact_options_for(const KernelSolveParams& params) {
  ExactOptions exact;
  exact.jitter = params.jitter;
  exact.max_jitter = std::max(exact.max_jitter, params.jitter);
  exact.block_size = params.block_size;
  return exact;
}

namespace {

// c (m x n) = a^T b through the system BLAS (solvers/ntk/blas.h: Eigen's GEMM is several times slower here). A rank
// that holds no training rows contributes zeros.
void gemm_tn(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, Eigen::MatrixXd& c) {
  TESSERA_ASSERT(a.rows() == b.rows());
  c.resize(a.cols(), b.cols());
  if (a.rows() == 0) {
    c.setZero();
    return;
  }
  engine::blas::gemm('T', 'N', a.cols(), b.cols(), a.rows(), 1.0, a.data(), a.rows(), b.data(), b.rows(), 0.0, c.data(),
                     c.rows());
}

// Fills columns [q0, q0 + out.cols()) of this rank's rows of the cross kernel. Called from several threads at once.
using CrossBlock = std::function<void(std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out)>;

// Fills `block` (this rank's rows x queries) with the cross kernel in column strips on `threads` threads.
void fill_cross_rows(int threads, const CrossBlock& fill, Eigen::Ref<Eigen::MatrixXd> block) {
  const std::int64_t strip = 64, width = block.cols(), strips = block.rows() > 0 ? (width + strip - 1) / strip : 0;
  parallel_for(strips, threads, [&](std::int64_t k, int) {
    const auto c0 = k * strip, cols = std::min(strip, width - c0);
    fill(c0, block.middleCols(c0, cols));
  });
}

// predictions (genes x q_total) = the sum over ranks of coefficients^T (this rank's rows of the cross kernel), in
// chunks of queries so that the cross-kernel block stays small, each chunk's block filled in column strips on
// `threads` threads. The chunk width must be the same on every rank (each chunk is one allreduce), so it derives
// from the largest row block over the ranks, not from this rank's.
Eigen::MatrixXd predict(const engine::Context& ctx, const Eigen::MatrixXd& coefficients, std::int64_t largest_block,
                        std::int64_t q_total, int threads, const CrossBlock& fill) {
  const std::int64_t rows = coefficients.rows();
  Eigen::MatrixXd predicted = Eigen::MatrixXd::Zero(coefficients.cols(), q_total);
  const std::int64_t chunk =
      std::max<std::int64_t>(256, (std::int64_t(1) << 23) / std::max<std::int64_t>(largest_block, 1));
  Eigen::MatrixXd block, part;
  for (std::int64_t q0 = 0; q0 < q_total; q0 += chunk) {
    const auto width = std::min(chunk, q_total - q0);
    block.resize(rows, width);
    fill_cross_rows(
        threads, [&](std::int64_t c0, Eigen::Ref<Eigen::MatrixXd> out) { fill(q0 + c0, out); }, block);
    gemm_tn(coefficients, block, part);
    engine::allreduce_sum(ctx, part);
    predicted.middleCols(q0, width) = part;
  }
  return predicted;
}

// predictions (genes x queries) = alpha^T K[centres, queries]: each rank evaluates the cross kernel at its share
// of the centres (block_range), in chunks of queries, and the parts are summed over the ranks.
Eigen::MatrixXd predict_from_centres(const engine::Context& ctx, const NystromResult& solved, const CrossKernel& cross,
                                     const CrossKernelAt& cross_at, std::int64_t q_total, int threads) {
  const auto m = std::int64_t(solved.centres.size());
  const auto mine = engine::block_range(m, ctx.size(), ctx.rank());
  const std::span<const std::int64_t> my_centres(solved.centres.data() + mine.begin, std::size_t(mine.size()));
  const Eigen::MatrixXd alpha = solved.alpha.middleRows(mine.begin, mine.size());
  const CrossKernelAt at =
      cross_at
          ? cross_at
          : CrossKernelAt([&](std::span<const std::int64_t> rows, std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) {
              Eigen::MatrixXd one(1, out.cols());
              for (std::size_t r = 0; r < rows.size(); ++r) {
                cross(rows[r], q0, one);
                out.row(Eigen::Index(r)) = one;
              }
            });
  return predict(ctx, alpha, (m + ctx.size() - 1) / ctx.size(), q_total, threads,
                 [&](std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) { at(my_centres, q0, out); });
}

}  // namespace

void KernelSolveParams::validate() const {
  engine::check_knobs(*this);
  engine::check_device_request(device, "ntk_device");
  matrix_free.validate();               // its fields that are not knobs
  nystrom.validate();                   // its fields that are not knobs
  exact_options_for(*this).validate();  // the jitter's growth and ceiling
}

double kernel_solve_budget_bytes(const engine::Context& ctx, const KernelSolveParams& params) {
  return params.memory_gb > 0.0 ? params.memory_gb * 1e9 : 0.5 * ctx.physical_memory_per_rank();
}

bool solves_alone(const engine::Context& ctx, std::int64_t n, std::int64_t genes, const KernelSolveParams& params) {
  if (params.solver == KernelSolverRequest::kMatrixFree) return false;  // asked for the solver of large systems
  if (params.solver == KernelSolverRequest::kNystrom)
    return nystrom_bytes_per_rank(n, params.nystrom.centres, genes, 1, params.nystrom) <=
           kernel_solve_budget_bytes(ctx, params);
  // A rank solving alone keeps ctx's share of the node (Context::alone), so ctx's budget is the one it gets.
  return exact_solver_bytes_per_rank(n, genes, 1) <= kernel_solve_budget_bytes(ctx, params);
}

Eigen::MatrixXd kernel_regression(const engine::Context& ctx, const KernelOperator& kernel, const CrossKernel& cross,
                                  const io::PerturbationTable& table, const std::vector<std::int64_t>& train_entries,
                                  const std::vector<std::int64_t>& queries, const KernelSolveParams& params,
                                  std::string_view kernel_label, const CrossKernelAt& cross_at) {
  const std::int64_t n = kernel.size(), genes = table.num_genes();
  TESSERA_ASSERT(n == std::int64_t(train_entries.size()));
  // Right-hand sides: the training signatures, one row per training pair, this rank's row block.
  engine::RowShardedMatrix rhs(ctx, n, genes);
  const auto mine = rhs.range();
  for (auto i = mine.begin; i < mine.end; ++i)
    rhs.local().row(i - mine.begin) = table.signature(train_entries[std::size_t(i)]).transpose();

  const double budget = kernel_solve_budget_bytes(ctx, params);
  const auto choice =
      choose_kernel_solver(params.solver, n, genes, ctx.size(), default_threads(ctx, params.matrix_free), budget,
                           params.matrix_free, params.nystrom, 60.0 * params.max_minutes);
  engine::info("ntk: ", choice.reason);
  engine::RowShardedMatrix solution;
  if (choice.kind == KernelSolverKind::kNystrom) {
    NystromParams nystrom = params.nystrom;
    nystrom.threads = params.matrix_free.threads;
    const auto solved = solve_nystrom(ctx, kernel, rhs.local(), nystrom);
    engine::info("ntk nystrom solve: N = ", n, ", M = ", solved.centres.size(), ", pass ", solved.pass_seconds,
                 " s, factors ", solved.factor_seconds, " s, CG ", solved.cg_seconds, " s (", solved.iterations,
                 " iterations, residual ", solved.max_relative_residual, ")");
    if (!solved.converged)
      engine::warn("ntk nystrom solve: CG on the M x M system stopped at relative residual ",
                   solved.max_relative_residual, " after ", solved.iterations, " iterations");
    return predict_from_centres(ctx, solved, cross, cross_at, std::int64_t(queries.size()),
                                default_threads(ctx, params.matrix_free));
  }
  const auto q_total = std::int64_t(queries.size());
  const int threads = default_threads(ctx, params.matrix_free);
  if (choice.kind == KernelSolverKind::kExact) {
    // K is symmetric, so Y^T K^-1 K_cross = (K^-1 Y)^T K_cross = Y^T (K^-1 K_cross): the triangular solves take
    // whichever side has fewer columns. A cross-validation fold has a few hundred queries against 978 genes, and
    // its solves (2 N^2 columns flops) cost more than the Cholesky (N^3 / 3) when columns > N / 6.
    const bool solve_queries = q_total < genes;
    engine::RowShardedMatrix cross_rows;
    if (solve_queries) {
      cross_rows = engine::RowShardedMatrix(ctx, n, q_total);
      fill_cross_rows(
          threads, [&](std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) { cross(mine.begin, q0, out); },
          cross_rows.local());
    }
    auto solved = solve_exact(ctx, kernel, solve_queries ? cross_rows : rhs, exact_options_for(params));
    engine::info("ntk exact solve: N = ", n, ", ", solve_queries ? q_total : genes,
                 solve_queries ? " queries" : " genes", " as right-hand sides, kernel ", solved.build_seconds,
                 " s, Cholesky ", solved.factor_seconds, " s, solve ", solved.solve_seconds, " s",
                 solved.jitter > 0 ? ", jitter " + std::to_string(solved.jitter) + " x mean diagonal" : "");
    if (solve_queries) {  // predictions = Y^T (K^-1 K_cross), summed over the ranks' row blocks
      Eigen::MatrixXd predicted;
      gemm_tn(rhs.local(), solved.solution.local(), predicted);
      engine::allreduce_sum(ctx, predicted);
      return predicted;
    }
    solution = std::move(solved.solution);
  } else {
    const MatrixFreeParams cg = matrix_free_params_for(params, train_entries, queries, kernel_label);
    auto solved = solve_matrix_free(ctx, kernel, rhs.local(), cg, [] { return engine::stop_signalled(); });
    if (solved.stopped)
      throw engine::StopRequested(cg.checkpoint_path.empty()
                                      ? "ntk: matrix-free solve stopped by a signal (no ntk_checkpoint_dir, so it "
                                        "will start afresh)"
                                      : "ntk: matrix-free solve stopped by a signal; its state is in " +
                                            cg.checkpoint_path + " and the same command resumes from it");
    if (!solved.converged)
      engine::warn("ntk matrix-free solve: not every gene reached ntk_cg_tolerance = ", params.matrix_free.tolerance,
                   " within ", params.matrix_free.max_iterations, " iterations; predictions use the last iterate");
    solution = engine::RowShardedMatrix(ctx, n, genes);
    solution.local() = std::move(solved.x_local);
  }

  // predictions (genes x queries) = X^T K_cross, summed over the ranks' row blocks of X.
  return predict(ctx, solution.local(), (n + ctx.size() - 1) / ctx.size(), q_total, threads,
                 [&](std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) { cross(mine.begin, q0, out); });
}

}  // namespace tessera::solvers::ntk
