// Right-hand sides for the kernel solvers' tests: a random N x m block, and a rank's block_range rows of it.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>

#include "engine/context.h"
#include "engine/partition.h"
#include "engine/random.h"

namespace tessera::testing {

// N(0, 1) values with column j scaled by j + 1 (columns of different sizes), from the named random stream.
inline Eigen::MatrixXd random_right_hand_sides(std::int64_t n, std::int64_t m, std::uint64_t seed,
                                               const std::string& stream_name) {
  engine::RandomStream stream(seed, stream_name);
  Eigen::MatrixXd y(n, m);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index i = 0; i < n; ++i) y(i, j) = stream.normal() * double(j + 1);
  return y;
}

// This rank's engine::block_range rows of a matrix every rank holds whole.
inline Eigen::MatrixXd rows_of_this_rank(const engine::Context& ctx, const Eigen::MatrixXd& full) {
  const auto r = engine::block_range(full.rows(), ctx.size(), ctx.rank());
  return full.middleRows(r.begin, r.size());
}

}  // namespace tessera::testing
