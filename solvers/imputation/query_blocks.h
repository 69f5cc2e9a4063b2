// Spreading the queries of one impute() call over ranks: each rank predicts a contiguous block of queries
// (engine::block_range), then one allgatherv gives every rank the whole genes x queries matrix. Blocks are in
// rank order, so the gathered values are the matrix itself; a query's prediction does not depend on which
// rank computes it, so the result is bit-identical for any rank count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/partition.h"

namespace tessera::solvers::imputation {

// Collective. predict(first, last, out) fills out (genes x (last - first)) with the predictions of queries
// [first, last). A throw on any rank makes every rank throw (engine::run_agreeing), naming `method`.
template <typename Predict>
Eigen::MatrixXd predict_in_blocks(const engine::Context& ctx, const char* method, Eigen::Index genes,
                                  std::int64_t num_queries, Predict&& predict) {
  const auto mine = engine::block_range(num_queries, ctx.size(), ctx.rank());
  Eigen::MatrixXd local(genes, mine.size());
  engine::run_agreeing(ctx, method, [&] { predict(mine.begin, mine.end, local); });
  if (ctx.size() == 1) return local;
  const std::vector<double> all =
      engine::allgatherv(ctx, std::span<const double>(local.data(), std::size_t(local.size())));
  local = Eigen::MatrixXd();  // lower the peak: only the gathered values and the result coexist
  return Eigen::Map<const Eigen::MatrixXd>(all.data(), genes, Eigen::Index(num_queries));
}

}  // namespace tessera::solvers::imputation
