#include "solvers/ntk/ntk_imputer.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/log.h"
#include "solvers/imputation/training_set.h"
#include "solvers/ntk/device_regression.h"
#include "solvers/ntk/kernel/flat_tables.h"
#include "solvers/ntk/kernel/ntk_operator.h"

namespace tessera::solvers::ntk {

using imputation::is_training;

namespace {

// A query in a reference cell type whose drug no reference cell type measured gets the fallback drug prior, the
// same for every such drug, and the one-hot block never meets a training row: these queries all get one and the
// same prediction, whatever their drug. In the published method's use (completing the other cell types from the
// reference) that never happens; completing the reference cell type itself does (every unmeasured drug there).
void warn_of_reference_queries(const PairFeatures& features, const io::PerturbationTable& table,
                               const std::vector<std::int64_t>& queries, const std::string& reference) {
  const auto& cells = features.options().reference_cells;
  std::vector<std::int64_t> in_reference;
  for (const auto e : queries)
    if (std::find(cells.begin(), cells.end(), table.cell_of(e)) != cells.end()) in_reference.push_back(e);
  const auto alike = features.encode(in_reference).fallback_pairs;
  if (alike > 1)
    engine::warn_once("ntk/reference-queries/" + reference, "ntk: ", alike, " queries in the reference cell type(s) ",
                      reference, " have drugs no reference cell type measured, so the reference prior gives them ",
                      "all the same features and the same prediction; to impute the reference cell type use ",
                      "--ntk-prior all_cells or similarity, or another --ntk-reference-cell (warned once per run)");
}

}  // namespace

std::string ntk_kernel_label(const NtkParams& params, std::string_view prior_name) {
  // The checkpoint names of earlier versions hashed these same bytes one field at a time; FNV-1a over their
  // concatenation is the same hash, so those checkpoints still resume.
  const double knobs[] = {params.alpha, params.beta, double(params.depth), params.bias};
  std::string label(reinterpret_cast<const char*>(knobs), sizeof knobs);
  return label.append(prior_name).append(params.reference_cell);
}

void NtkParams::validate() const {
  engine::check_knobs(*this);
  solve.validate();  // the fields of the solvers that are not knobs
}

std::vector<std::int64_t> resolve_reference_cells(const NtkParams& params, const io::PerturbationTable& table,
                                                  const std::vector<std::uint8_t>& train) {
  std::vector<std::int64_t> cells;
  for (const auto& id : engine::split_comma_list(params.reference_cell)) {
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

void check_prior_fits(PriorKind prior, double needed_bytes, double available_bytes) {
  const auto gigabytes = [](double bytes) { return std::ceil(bytes / 1e8) / 10; };  // 0.1 GB, rounded up
  TESSERA_CHECK(needed_bytes <= available_bytes, "ntk: the ", prior_name(prior), " prior's tables need about ",
                gigabytes(needed_bytes), " GB per rank (a Gram table of the drugs' priors",
                prior == PriorKind::kSimilarity ? " per cell type" : "", "), but this rank can get ",
                gigabytes(available_bytes), " GB: give each rank more memory (fewer ranks per node)",
                prior == PriorKind::kReference ? "" : ", or use --ntk-prior reference (one cell type's drugs)",
                ", or select fewer drugs in the input");
}

NtkImputer::NtkImputer(const NtkParams& params) : params_(params) { params_.validate(); }

bool NtkImputer::distributes_itself(const engine::Context& ctx, const io::PerturbationTable& table) const {
  return !solves_alone(ctx, table.num_observed(), table.num_genes(), params_.solve);
}

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
  options.prior = params_.prior;
  std::vector<std::uint8_t> in_kernel(std::size_t(table.num_cells()), 1);
  if (options.prior == PriorKind::kReference) {
    options.reference_cells = resolve_reference_cells(params_, table, train);
    if (!params_.reference_in_kernel)
      for (const auto c : options.reference_cells) in_kernel[std::size_t(c)] = 0;
  }
  check_prior_fits(params_.prior, PairFeatures::table_bytes(table, train, options), ctx.available_memory_per_rank());
  const auto features = std::make_shared<const PairFeatures>(table, train, options);

  std::vector<std::int64_t> train_entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (is_training(table, train, e) && in_kernel[std::size_t(table.cell_of(e))]) train_entries.push_back(e);
  TESSERA_CHECK(!train_entries.empty(), "ntk: no training pair outside the reference cell type(s); the train ",
                "mask must flag observed entries of other cell types (or set ntk_reference_in_kernel)");
  const NtkShape shape{params_.depth, params_.bias};
  const auto device = engine::select_device(ctx, params_.solve.device, "ntk_device");
  const auto plan = plan_device_solve(ctx, device, std::int64_t(train_entries.size()), table.num_genes(), params_.solve,
                                      rho_table_bytes(features->rho_tables()));
  const NtkOperator kernel(features, features->encode(train_entries), shape,
                           plan == DevicePlan::kMatrixFree ? device : engine::Device{});
  const PairList query_pairs = features->encode(queries);
  const auto n = kernel.size();

  std::string reference;
  for (const auto c : options.reference_cells)
    reference += (reference.empty() ? "" : ",") + table.cells[std::size_t(c)];
  engine::info("ntk: ", n, " training pairs, ", queries.size(), " queries, prior ",
               name_table(params_.prior).name(params_.prior), reference.empty() ? "" : " (reference " + reference + ")",
               "; ", kernel.pairs().fallback_pairs, " training and ", query_pairs.fallback_pairs,
               " query pairs use the fallback drug prior",
               features->cells_without_training() > 0
                   ? "; " + std::to_string(features->cells_without_training()) + " cell types have no training entry"
                   : "");

  if (options.prior == PriorKind::kReference) warn_of_reference_queries(*features, table, queries, reference);

  if (plan == DevicePlan::kExact)
    return device_kernel_regression(ctx, device, kernel, query_pairs, table, train_entries, params_.solve);
  KernelSolveParams solve = params_.solve;
  if (plan == DevicePlan::kMatrixFree) solve.solver = KernelSolverRequest::kMatrixFree;

  const CrossKernel cross = [&](std::int64_t row0, std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) {
    kernel.cross_tile(query_pairs, row0, q0, out);
  };
  const CrossKernelAt cross_at = [&](std::span<const std::int64_t> rows, std::int64_t q0,
                                     Eigen::Ref<Eigen::MatrixXd> out) {
    kernel.cross_tile_at(rows, query_pairs, q0, out);
  };
  return kernel_regression(ctx, kernel, cross, table, train_entries, queries, solve,
                           ntk_kernel_label(params_, name_table(params_.prior).name(params_.prior)), cross_at);
}

}  // namespace tessera::solvers::ntk
