// Spreading the queries of one impute() call over ranks: each rank predicts a contiguous block of queries
// (engine::block_range), then one allgatherv gives every rank the whole genes x queries matrix. Blocks are in
// rank order, so the gathered values are the matrix itself; a query's prediction does not depend on which
// rank computes it, so the result is bit-identical for any rank count.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/partition.h"

namespace tessera::solvers::imputation {

// Collective. predict(first, last, out) fills out (an Eigen::Ref<Eigen::MatrixXd>, genes x (last - first)) with the
// predictions of queries [first, last). Each rank predicts its block `per_round` queries at a time, and the ranks
// agree after every round (engine::run_agreeing_in_rounds): a throw on any rank makes every rank throw, naming
// `method`, and a stop signal on any rank makes every rank throw engine::StopRequested within one round. Choose
// per_round so that a round takes well under a second (a round costs one allreduce).
template <typename Predict>
Eigen::MatrixXd predict_in_blocks(const engine::Context& ctx, const char* method, Eigen::Index genes,
                                  std::int64_t num_queries, std::int64_t per_round, Predict&& predict) {
  const auto mine = engine::block_range(num_queries, ctx.size(), ctx.rank());
  // The largest block (rank 0's: block_range gives the first ranks one more) sets the rounds, the same on every rank.
  const std::int64_t largest = engine::block_range(num_queries, ctx.size(), 0).size();
  Eigen::MatrixXd local(genes, mine.size());
  engine::run_agreeing_in_rounds(
      ctx, method, (largest + per_round - 1) / per_round,
      [&](std::int64_t round) {
        const std::int64_t first = mine.begin + round * per_round, last = std::min(mine.end, first + per_round);
        if (first < last)
          predict(first, last, Eigen::Ref<Eigen::MatrixXd>(local.middleCols(first - mine.begin, last - first)));
      },
      [&](std::int64_t rounds) {
        const std::int64_t done = std::min(num_queries, rounds * per_round * ctx.size());
        return std::string(method) + ": stopped after " + std::to_string(done) + " of " + std::to_string(num_queries) +
               " queries";
      });
  if (ctx.size() == 1) return local;
  const std::vector<double> all =
      engine::allgatherv(ctx, std::span<const double>(local.data(), std::size_t(local.size())));
  local = Eigen::MatrixXd();  // lower the peak: only the gathered values and the result coexist
  return Eigen::Map<const Eigen::MatrixXd>(all.data(), genes, Eigen::Index(num_queries));
}

}  // namespace tessera::solvers::imputation
