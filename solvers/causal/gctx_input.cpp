#include "solvers/causal/gctx_input.h"

#include <cmath>

#include "engine/error.h"
#include "io/gct.h"
#include "io/gctx.h"
#include "io/h5ad.h"

namespace tessera::solvers::causal {

namespace {

// The whole file on every rank: GCT text, an AnnData file (cells = samples; every rank reads alone), or GCTX.
io::GeneMatrixD read_matrix(const engine::Context& ctx, const std::filesystem::path& path) {
  if (path.extension() == ".gct") return io::read_gct<double>(path);
  if (io::is_h5ad_path(path)) {
    io::LocalGctx<double> whole = io::read_h5ad_local<double>(path, ctx.alone());
    return {std::move(whole.values), std::move(whole.rows), std::move(whole.cols)};
  }
  return io::read_gctx<double>(path, ctx);
}

}  // namespace

InterventionalData read_causal_gctx(const engine::Context& ctx, const std::filesystem::path& path,
                                    const std::string& targets_spec, const CausalCsvOptions& options,
                                    const GctxInputOptions& gctx) {
  const std::string where = path.string();
  const auto matrix = read_matrix(ctx, path);
  const auto& setting = matrix.cols.require(gctx.setting_field, where);
  std::vector<std::string> setting_values;
  for (std::size_t c = 0; c < matrix.cols.size(); ++c) setting_values.push_back(setting.as_string(c));
  std::vector<std::string> variables = matrix.rows.ids;
  if (!gctx.variable_field.empty()) {
    const auto& names = matrix.rows.require(gctx.variable_field, where);
    for (std::size_t g = 0; g < variables.size(); ++g) variables[g] = names.as_string(g);
  }
  for (Eigen::Index g = 0; g < matrix.values.rows(); ++g)
    for (Eigen::Index c = 0; c < matrix.values.cols(); ++c)
      TESSERA_CHECK(std::isfinite(matrix.values(g, c)), where, ": gene '", variables[std::size_t(g)],
                    "' has a missing value in sample '", matrix.cols.ids[std::size_t(c)],
                    "'; drop the gene or the sample");
  return interventional_data_from_rows(std::move(variables), matrix.values.transpose(), setting_values, targets_spec,
                                       options, where, "column field '" + gctx.setting_field + "'");
}

}  // namespace tessera::solvers::causal
