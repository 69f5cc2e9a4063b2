#include "solvers/ntk/ntk_dnpp.h"

#include <cmath>

#include "engine/error.h"
#include "engine/log.h"
#include "solvers/imputation/training_set.h"
#include "solvers/ntk/kernel/explicit_kernel.h"
#include "solvers/ntk/solve/kernel_regression.h"

namespace tessera::solvers::ntk {

using imputation::is_training;

namespace {

// genes x cells: the unit-norm mean of each cell type's training signatures (zero without any).
Eigen::MatrixXd unit_cell_means(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train) {
  Eigen::MatrixXd means = imputation::TrainingMeans(table, train).cell_sum;
  for (Eigen::Index c = 0; c < means.cols(); ++c)
    if (const double norm = means.col(c).norm(); norm > 0.0) means.col(c) /= norm;
  return means;
}

// Column j of the result: [alpha |m_j| cbar_(cell j), m_j].
Eigen::MatrixXd pair_features(const Eigen::MatrixXd& drug_block, const std::vector<std::int64_t>& cells,
                              const Eigen::MatrixXd& cell_unit, double alpha) {
  const Eigen::Index genes = drug_block.rows();
  Eigen::MatrixXd features(2 * genes, drug_block.cols());
  for (Eigen::Index j = 0; j < drug_block.cols(); ++j) {
    features.col(j).head(genes) = alpha * drug_block.col(j).norm() * cell_unit.col(cells[std::size_t(j)]);
    features.col(j).tail(genes) = drug_block.col(j);
  }
  return features;
}

}  // namespace

NtkDnppImputer::NtkDnppImputer(const NtkDnppParams& params, const NtkParams& ntk, const imputation::DnppParams& dnpp)
    : params_(params), ntk_(ntk), dnpp_(dnpp) {
  params_.validate();
  ntk_.validate();
  dnpp_.validate();
}

bool NtkDnppImputer::distributes_itself(const engine::Context& ctx, const io::PerturbationTable& table) const {
  return !solves_alone(ctx, table.num_observed(), table.num_genes(), ntk_.solve);
}

Eigen::MatrixXd NtkDnppImputer::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                       const std::vector<std::uint8_t>& train,
                                       const std::vector<std::int64_t>& queries) const {
  imputation::check_impute_arguments("ntk_dnpp", table, train, queries);
  std::vector<std::int64_t> training_drugs(std::size_t(table.num_cells()), 0);
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    training_drugs[std::size_t(table.cell_of(e))] += is_training(table, train, e);

  // Split the queries: rich cell types take DNPP features, the others the plain prior.
  std::vector<std::int64_t> rich, plain;
  std::vector<Eigen::Index> rich_at, plain_at;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const bool is_rich = training_drugs[std::size_t(table.cell_of(queries[q]))] >= params_.min_training_drugs;
    (is_rich ? rich : plain).push_back(queries[q]);
    (is_rich ? rich_at : plain_at).push_back(Eigen::Index(q));
  }
  std::string rich_cells;
  for (std::int64_t c = 0; c < table.num_cells(); ++c)
    if (training_drugs[std::size_t(c)] >= params_.min_training_drugs)
      rich_cells += (rich_cells.empty() ? "" : ",") + table.cells[std::size_t(c)];
  engine::info("ntk_dnpp: ", rich.size(), " queries in cell types with >= ", params_.min_training_drugs,
               " training drugs (", rich_cells.empty() ? "none" : rich_cells, ") use DNPP features; ", plain.size(),
               " use the plain prior with alpha ", params_.plain_alpha);

  Eigen::MatrixXd predicted(table.num_genes(), Eigen::Index(queries.size()));
  if (!plain.empty()) {
    NtkParams plain_params = ntk_;
    plain_params.alpha = params_.plain_alpha;
    const Eigen::MatrixXd part = NtkImputer(plain_params).impute(ctx, table, train, plain);
    for (std::size_t k = 0; k < plain.size(); ++k) predicted.col(plain_at[k]) = part.col(Eigen::Index(k));
  }
  if (!rich.empty()) {
    const Eigen::MatrixXd prior = imputation::Dnpp(dnpp_).impute(ctx, table, train, rich);
    const Eigen::MatrixXd part = regress_on_dnpp_features(ctx, table, train, rich, prior);
    for (std::size_t k = 0; k < rich.size(); ++k) predicted.col(rich_at[k]) = part.col(Eigen::Index(k));
  }
  return predicted;
}

Eigen::MatrixXd NtkDnppImputer::regress_on_dnpp_features(const engine::Context& ctx, const io::PerturbationTable& table,
                                                         const std::vector<std::uint8_t>& train,
                                                         const std::vector<std::int64_t>& queries,
                                                         const Eigen::MatrixXd& prior) const {
  std::vector<std::int64_t> train_entries, train_cells, query_cells;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (is_training(table, train, e)) train_entries.push_back(e), train_cells.push_back(table.cell_of(e));
  TESSERA_CHECK(!train_entries.empty(), "ntk_dnpp: the train mask flags no observed entry");
  for (const auto e : queries) query_cells.push_back(table.cell_of(e));

  Eigen::MatrixXd signatures(table.num_genes(), Eigen::Index(train_entries.size()));
  for (std::size_t i = 0; i < train_entries.size(); ++i)
    signatures.col(Eigen::Index(i)) = table.signature(train_entries[i]);
  TESSERA_CHECK(signatures.allFinite(), "ntk_dnpp: a training signature holds NaN or infinity; impute or drop it");
  const Eigen::MatrixXd cell_unit = unit_cell_means(table, train);
  const ExplicitFeatureKernel kernel(pair_features(signatures, train_cells, cell_unit, ntk_.alpha), ntk_.beta,
                                     NtkShape{ntk_.depth, ntk_.bias});
  const Eigen::MatrixXd query_features = pair_features(prior, query_cells, cell_unit, ntk_.alpha);
  const std::vector<double> query_scales = inverse_scales(query_features, ntk_.beta);
  const CrossKernel cross = [&](std::int64_t row0, std::int64_t q0, Eigen::Ref<Eigen::MatrixXd> out) {
    kernel.cross_tile(query_features, query_scales, row0, q0, out);
  };
  return kernel_regression(ctx, kernel, cross, table, train_entries, queries, ntk_.solve,
                           ntk_kernel_label(ntk_, "ntk_dnpp"));
}

}  // namespace tessera::solvers::ntk
