#include "solvers/ntk/ntk_imputer.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/partition.h"
#include "engine/sharded_matrix.h"
#include "engine/signals.h"
#include "solvers/ntk/cg_checkpoint.h"
#include "solvers/ntk/ntk_operator.h"
#include "solvers/ntk/parallel_for.h"
#include "solvers/ntk/solver_choice.h"

extern "C" {
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc, std::size_t transa_len, std::size_t transb_len);
}

namespace tessera::solvers::ntk {

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    const auto first = part.find_first_not_of(" \t"), last = part.find_last_not_of(" \t");
    if (first != std::string::npos) parts.push_back(part.substr(first, last - first + 1));
  }
  return parts;
}

// c (m x n) = a^T (k x m)^T b (k x n), all column-major and contiguous, through the system BLAS (Eigen's GEMM is
// several times slower in this build: no -march flags).
void gemm_tn(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, Eigen::MatrixXd& c) {
  TESSERA_ASSERT(a.rows() == b.rows());
  c.resize(a.cols(), b.cols());
  if (c.size() == 0) return;
  if (a.rows() == 0) {
    c.setZero();
    return;
  }
  TESSERA_CHECK(a.rows() < INT_MAX && a.cols() < INT_MAX && b.cols() < INT_MAX, "ntk: GEMM sizes exceed 2^31");
  const int m = int(a.cols()), n = int(b.cols()), k = int(a.rows());
  const double one = 1.0, zero = 0.0;
  dgemm_("T", "N", &m, &n, &k, &one, a.data(), &k, b.data(), &k, &zero, c.data(), &m, 1, 1);
}

bool is_training(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train, std::int64_t e) {
  return train[std::size_t(e)] && table.observed[std::size_t(e)];
}

}  // namespace

void NtkParams::validate() const {
  TESSERA_CHECK(std::isfinite(alpha) && alpha >= 0.0, "ntk_alpha = ", alpha, " is invalid: use a finite weight >= 0");
  TESSERA_CHECK(std::isfinite(beta) && beta >= 0.0, "ntk_beta = ", beta, " is invalid: use a finite weight >= 0");
  NtkShape{depth, bias}.validate();
  parse_prior(prior);
  TESSERA_CHECK(solver == "auto" || solver == "exact" || solver == "matrix_free", "ntk_solver = '", solver,
                "' is invalid: use auto, exact or matrix_free");
  TESSERA_CHECK(std::isfinite(memory_gb) && memory_gb >= 0.0, "ntk_memory_gb = ", memory_gb,
                " is invalid: use a size in GB > 0, or 0 for half of the node's memory over its ranks");
  matrix_free.validate();
  ExactOptions options;
  options.jitter = jitter;
  options.max_jitter = std::max(options.max_jitter, jitter);
  options.block_size = block_size;
  options.validate();
}

std::vector<std::int64_t> resolve_reference_cells(const NtkParams& params, const io::PerturbationTable& table,
                                                  const std::vector<std::uint8_t>& train) {
  std::vector<std::int64_t> cells;
  for (const auto& id : split_commas(params.reference_cell)) {
    const auto c = table.find_cell(id);
    TESSERA_CHECK(c >= 0, "ntk_reference_cell '", id, "' is not a cell type of the table (", table.num_cells(),
                  " cell types, e.g. '", table.cells.empty() ? std::string() : table.cells.front(), "')");
    if (std::find(cells.begin(), cells.end(), c) == cells.end()) cells.push_back(c);
  }
  if (!cells.empty()) return cells;
  std::int64_t best = -1, best_count = 0;
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    std::int64_t count = 0;
    for (std::int64_t p = 0; p < table.num_perts(); ++p) count += is_training(table, train, table.entry(c, p));
    if (count > best_count) best = c, best_count = count;
  }
  TESSERA_CHECK(best >= 0, "ntk: no training entry in any cell type, so no reference cell type");
  return {best};
}

namespace {

// The matrix-free solver's settings for one problem: with a checkpoint folder, a file named by a hash of what
// defines the problem (training rows, queries, kernel parameters), so that every fold of a cross-validation has
// its own checkpoint and a changed setting starts afresh instead of meeting a foreign checkpoint.
MatrixFreeParams matrix_free_params_for(const NtkParams& params, const std::vector<std::int64_t>& train_entries,
                                        const std::vector<std::int64_t>& queries) {
  MatrixFreeParams cg = params.matrix_free;
  if (params.checkpoint_dir.empty()) return cg;
  std::uint64_t hash = hash_bytes(train_entries.data(), train_entries.size() * sizeof(std::int64_t));
  hash = hash_bytes(queries.data(), queries.size() * sizeof(std::int64_t), hash);
  const double knobs[] = {params.alpha, params.beta, double(params.depth), params.bias};
  hash = hash_bytes(knobs, sizeof knobs, hash);
  hash = hash_bytes(params.prior.data(), params.prior.size(), hash);
  hash = hash_bytes(params.reference_cell.data(), params.reference_cell.size(), hash);
  char name[40];
  std::snprintf(name, sizeof name, "ntk_cg_%016llx.h5", static_cast<unsigned long long>(hash));
  std::filesystem::create_directories(params.checkpoint_dir);
  cg.checkpoint_path = (std::filesystem::path(params.checkpoint_dir) / name).string();
  cg.resume = true;
  return cg;
}

}  // namespace

double ntk_memory_budget_bytes(const NtkParams& params, int ranks_per_node) {
  if (params.memory_gb > 0.0) return params.memory_gb * 1e9;
  const double physical = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  return 0.5 * physical / double(std::max(1, ranks_per_node));
}

NtkImputer::NtkImputer(const NtkParams& params) : params_(params) { params_.validate(); }

Eigen::MatrixXd NtkImputer::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                   const std::vector<std::uint8_t>& train,
                                   const std::vector<std::int64_t>& queries) const {
  TESSERA_CHECK(train.size() == std::size_t(table.num_entries()), "ntk: train mask has ", train.size(),
                " flags but the table has ", table.num_entries(), " entries");
  for (const auto e : queries)
    TESSERA_CHECK(e >= 0 && e < table.num_entries(), "ntk: query entry ", e, " is outside the table's ",
                  table.num_entries(), " entries");

  FeatureOptions options;
  options.alpha = params_.alpha;
  options.beta = params_.beta;
  options.prior = parse_prior(params_.prior);
  std::vector<std::uint8_t> in_kernel(std::size_t(table.num_cells()), 1);
  if (options.prior == PriorKind::kReference) {
    options.reference_cells = resolve_reference_cells(params_, table, train);
    if (!params_.reference_in_kernel)
      for (const auto c : options.reference_cells) in_kernel[std::size_t(c)] = 0;
  }
  const auto features = std::make_shared<const PairFeatures>(table, train, options);

  std::vector<std::int64_t> train_entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (is_training(table, train, e) && in_kernel[std::size_t(table.cell_of(e))]) train_entries.push_back(e);
  TESSERA_CHECK(!train_entries.empty(), "ntk: no training pair outside the reference cell type(s); the train ",
                "mask must flag observed entries of other cell types (or set ntk_reference_in_kernel)");
  const NtkShape shape{params_.depth, params_.bias};
  const NtkOperator kernel(features, features->encode(train_entries), shape);
  const PairList query_pairs = features->encode(queries);
  const auto n = kernel.size(), genes = table.num_genes();

  std::string reference;
  for (const auto c : options.reference_cells)
    reference += (reference.empty() ? "" : ",") + table.cells[std::size_t(c)];
  engine::info("ntk: ", n, " training pairs, ", queries.size(), " queries, prior ", params_.prior,
               reference.empty() ? "" : " (reference " + reference + ")", "; ", kernel.pairs().fallback_pairs,
               " training and ", query_pairs.fallback_pairs, " query pairs use the fallback drug prior",
               features->cells_without_training() > 0
                   ? "; " + std::to_string(features->cells_without_training()) + " cell types have no training entry"
                   : "");

  // Right-hand sides: the training signatures, one row per training pair, this rank's row block.
  engine::RowShardedMatrix rhs(ctx, n, genes);
  const auto mine = rhs.range();
  for (auto i = mine.begin; i < mine.end; ++i)
    rhs.local().row(i - mine.begin) = table.values.col(train_entries[std::size_t(i)]).transpose();

  const double budget = ntk_memory_budget_bytes(params_, ctx.node_size());
  const auto choice = choose_kernel_solver(params_.solver, n, genes, ctx.size(),
                                           default_threads(ctx, params_.matrix_free), budget, params_.matrix_free);
  engine::info("ntk: ", choice.reason);
  engine::RowShardedMatrix solution;
  if (choice.kind == KernelSolverKind::kExact) {
    ExactOptions exact;
    exact.jitter = params_.jitter;
    exact.max_jitter = std::max(exact.max_jitter, params_.jitter);
    exact.block_size = params_.block_size;
    auto solved = solve_exact(ctx, kernel, rhs, exact);
    engine::info("ntk exact solve: N = ", n, ", kernel ", solved.build_seconds, " s, Cholesky ", solved.factor_seconds,
                 " s, solve ", solved.solve_seconds, " s",
                 solved.jitter > 0 ? ", jitter " + std::to_string(solved.jitter) + " x mean diagonal" : "");
    solution = std::move(solved.solution);
  } else {
    const MatrixFreeParams cg = matrix_free_params_for(params_, train_entries, queries);
    auto solved = solve_matrix_free(ctx, kernel, rhs.local(), cg, [] { return engine::stop_signalled(); });
    if (solved.stopped)
      throw engine::StopRequested(cg.checkpoint_path.empty()
                                      ? "ntk: matrix-free solve stopped by a signal (no ntk_checkpoint_dir, so it "
                                        "will start afresh)"
                                      : "ntk: matrix-free solve stopped by a signal; its state is in " +
                                            cg.checkpoint_path + " and the same command resumes from it");
    if (!solved.converged)
      engine::warn("ntk matrix-free solve: not every gene reached ntk_cg_tolerance = ", params_.matrix_free.tolerance,
                   " within ", params_.matrix_free.max_iterations, " iterations; predictions use the last iterate");
    solution = engine::RowShardedMatrix(ctx, n, genes);
    solution.local() = std::move(solved.x_local);
  }

  // predictions (genes x queries) = X^T K_cross = sum over ranks of X[my rows]^T K_cross[my rows, :], in chunks
  // of queries so that the cross-kernel block stays small.
  const auto& x = solution.local();
  const auto q_total = std::int64_t(queries.size());
  Eigen::MatrixXd predicted = Eigen::MatrixXd::Zero(genes, q_total);
  // The chunk width must be the same on every rank (each chunk is one allreduce), so it derives from the
  // largest row block, not from this rank's.
  const std::int64_t largest_block = (n + ctx.size() - 1) / ctx.size();
  const std::int64_t chunk = std::max<std::int64_t>(256, (std::int64_t(1) << 23) / largest_block);
  const int threads = default_threads(ctx, params_.matrix_free);
  Eigen::MatrixXd cross, part;
  for (std::int64_t q0 = 0; q0 < q_total; q0 += chunk) {
    const auto width = std::min(chunk, q_total - q0);
    cross.resize(mine.size(), width);
    // Column strips of the cross kernel on this rank's share of the cores.
    const std::int64_t strip = 64, strips = mine.size() > 0 ? (width + strip - 1) / strip : 0;
    parallel_for(strips, threads, [&](std::int64_t k, int) {
      const auto c0 = k * strip, cols = std::min(strip, width - c0);
      kernel.cross_tile(query_pairs, mine.begin, q0 + c0, cross.middleCols(c0, cols));
    });
    gemm_tn(x, cross, part);
    engine::allreduce_sum(ctx, part);
    predicted.middleCols(q0, width) = part;
  }
  return predicted;
}

}  // namespace tessera::solvers::ntk
