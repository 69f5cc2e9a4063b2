// Collectives and the row-sharded matrix on 1, 2 and 3 ranks: each result is compared with the value computed
// serially on every rank (closed forms, or the whole matrix built locally).
#include <gtest/gtest.h>

#include <numeric>

#include "engine/collectives.h"
#include "engine/random.h"
#include "engine/sharded_matrix.h"

using namespace tessera::engine;

namespace {
// A matrix every rank can build identically: entry (i, j) = sin(i + 2j) + i / 7.
Eigen::MatrixXd reference_matrix(int rows, int cols) {
  Eigen::MatrixXd m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m(i, j) = std::sin(i + 2.0 * j) + i / 7.0;
  return m;
}
}  // namespace

TEST(Collectives, AllreduceSumOfRanks) {
  Context ctx;
  std::vector<double> values{double(ctx.rank()), 1.0};
  allreduce_sum(ctx, std::span<double>(values));
  EXPECT_EQ(values[0], ctx.size() * (ctx.size() - 1) / 2.0);  // 0 + 1 + ... + (size - 1)
  EXPECT_EQ(values[1], double(ctx.size()));
  EXPECT_EQ(allreduce_sum(ctx, std::int64_t(2)), 2 * ctx.size());
  EXPECT_EQ(allreduce_max(ctx, double(ctx.rank())), ctx.size() - 1);
}

TEST(Collectives, AnyIsTrueEverywhereWhenOneRankSaysSo) {
  Context ctx;
  EXPECT_TRUE(allreduce_any(ctx, ctx.rank() == ctx.size() - 1));
  EXPECT_FALSE(allreduce_any(ctx, false));
}

TEST(Collectives, BroadcastStringAndNumbers) {
  Context ctx;
  std::string text = ctx.is_root() ? "from root, with , commas" : "other";
  broadcast(ctx, text);
  EXPECT_EQ(text, "from root, with , commas");
  std::vector<double> values(3, ctx.is_root() ? 2.5 : -1.0);
  broadcast(ctx, std::span<double>(values));
  EXPECT_EQ(values, std::vector<double>(3, 2.5));
}

TEST(Collectives, AllgathervConcatenatesInRankOrder) {
  Context ctx;
  // Rank r contributes r + 1 copies of r: uneven sizes, rank 0 nearly empty.
  std::vector<std::int64_t> mine(std::size_t(ctx.rank() + 1), ctx.rank());
  const auto all = allgatherv(ctx, std::span<const std::int64_t>(mine));
  std::vector<std::int64_t> expected;
  for (int r = 0; r < ctx.size(); ++r) expected.insert(expected.end(), std::size_t(r + 1), r);
  EXPECT_EQ(all, expected);

  std::vector<std::string> words;
  if (ctx.rank() == 1) words = {"", "b,c"};
  if (ctx.rank() == 0) words = {"a"};
  const auto gathered = allgatherv(ctx, words);
  std::vector<std::string> expected_words{"a"};
  if (ctx.size() > 1) expected_words.insert(expected_words.end(), {"", "b,c"});
  EXPECT_EQ(gathered, expected_words);
}

TEST(RowShardedMatrix, GatherGramAndSumsEqualSerial) {
  Context ctx;
  for (int rows : {1, 2, 7, 50}) {
    const Eigen::MatrixXd full = reference_matrix(rows, 5);
    const auto sharded = RowShardedMatrix::scatter_from_replicated(ctx, full);
    EXPECT_EQ(sharded.range().size(), block_range(rows, ctx.size(), ctx.rank()).size());
    EXPECT_EQ(sharded.gather_all(ctx), full) << rows << " rows";  // a copy: exact
    // Sums differ from the serial ones only in summation order: 1e-12 relative.
    const Eigen::MatrixXd gram = full.transpose() * full;
    EXPECT_LE((sharded.gram(ctx) - gram).norm(), 1e-12 * gram.norm());
    EXPECT_LE((sharded.column_sums(ctx) - full.colwise().sum().transpose()).norm(), 1e-12 * full.norm());
    EXPECT_NEAR(sharded.squared_norm(ctx), full.squaredNorm(), 1e-12 * full.squaredNorm());
  }
}

TEST(Partition, BlocksCoverEveryItemOnceAndOwnerAgrees) {
  for (int parts = 1; parts <= 5; ++parts) {
    for (std::int64_t n : {0, 1, 4, 5, 13, 100}) {
      std::int64_t next = 0;
      for (int r = 0; r < parts; ++r) {
        const auto range = block_range(n, parts, r);
        EXPECT_EQ(range.begin, next);
        EXPECT_LE(range.size(), n / parts + 1);
        EXPECT_GE(range.size(), n / parts);
        for (auto i = range.begin; i < range.end; ++i) EXPECT_EQ(block_owner(n, parts, i), r);
        next = range.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}
