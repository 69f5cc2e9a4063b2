// engine::alltoallv and engine::BlockRing (engine/collectives.h) on 1, 2 and 3 ranks, against a brute force that
// every rank computes alone: what rank s sends rank d is a closed form of (s, d), with uneven and empty runs.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/error.h"

namespace tessera::engine {
namespace {

// Values rank `from` sends rank `to`: 0 to 4 of them (some runs empty), each naming its sender, receiver and place.
std::int64_t run_length(int from, int to) { return (3 * from + 5 * to + 1) % 5; }
double value(int from, int to, std::int64_t i) { return 1000.0 * from + 100.0 * to + double(i) + 0.25; }

TEST(Alltoallv, EveryRankGetsWhatEachRankSentItInRankOrder) {
  const Context world;
  const int me = world.rank(), ranks = world.size();
  std::vector<double> send;
  std::vector<std::int64_t> send_counts, recv_counts;
  for (int to = 0; to < ranks; ++to) {
    send_counts.push_back(run_length(me, to));
    for (std::int64_t i = 0; i < run_length(me, to); ++i) send.push_back(value(me, to, i));
  }
  std::vector<double> expected;  // brute force: every sender's run for me, in sender order
  for (int from = 0; from < ranks; ++from) {
    recv_counts.push_back(run_length(from, me));
    for (std::int64_t i = 0; i < run_length(from, me); ++i) expected.push_back(value(from, me, i));
  }
  EXPECT_EQ(alltoallv(world, send, send_counts, recv_counts), expected) << "rank " << me << " of " << ranks;
}

TEST(Alltoallv, CountsThatDoNotMatchTheDataAreAnError) {
  const Context world;
  const std::vector<std::int64_t> counts(std::size_t(world.size()), 2);
  const std::vector<double> short_send(std::size_t(2 * world.size() - 1), 1.0);  // one value short, on every rank
  EXPECT_THROW(alltoallv(world, short_send, counts, counts), Error);
  const std::vector<std::int64_t> too_few(std::size_t(world.size()) + 1, 0);
  EXPECT_THROW(alltoallv(world, {}, too_few, too_few), Error);
}

// Rank `owner`'s block in the ring tests: sizes 4, 0, 9, 4, 0, ... (rank 1's is empty), values naming the owner.
std::int64_t block_length(int owner) { return std::vector<std::int64_t>{4, 0, 9}[std::size_t(owner % 3)]; }
std::vector<double> block_of(int owner) {
  std::vector<double> block(std::size_t(block_length(owner)));
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = 10.0 * owner + double(i) / 8;
  return block;
}

TEST(BlockRing, VisitsEveryBlockFromItsOwnLeftwards) {
  const Context world;
  const int me = world.rank(), ranks = world.size();
  EXPECT_EQ(BlockRing::buffer_count(1), 0);
  EXPECT_EQ(BlockRing::buffer_count(2), 1);
  EXPECT_EQ(BlockRing::buffer_count(5), 2);
  BlockRing ring(world, 9);
  const auto mine = block_of(me);
  for (int pass = 0; pass < 2; ++pass) {  // the buffers are reused
    std::vector<int> owners;
    ring.rotate(mine, block_length, [&](int owner, const double* block) {
      owners.push_back(owner);
      EXPECT_EQ(std::vector<double>(block, block + block_length(owner)), block_of(owner)) << "block of " << owner;
    });
    ASSERT_EQ(int(owners.size()), ranks);
    for (int step = 0; step < ranks; ++step) EXPECT_EQ(owners[std::size_t(step)], (me - step + ranks) % ranks);
  }
}

TEST(BlockRing, AVisitThatThrowsStillPassesTheBlocksOn) {
  const Context world;
  const int me = world.rank(), ranks = world.size();
  BlockRing ring(world, 9);
  int visited = 0;
  const auto rotate = [&] {
    ring.rotate(block_of(me), block_length, [&](int owner, const double* block) {
      if (me == ranks - 1) throw std::runtime_error("visit failed");  // at its first block, on the last rank
      ++visited;
      EXPECT_EQ(std::vector<double>(block, block + block_length(owner)), block_of(owner));
    });
  };
  if (me == ranks - 1) {
    EXPECT_THROW(rotate(), std::runtime_error);
    EXPECT_EQ(visited, 0);
  } else {
    EXPECT_NO_THROW(rotate());  // the neighbours got every block: no hang
    EXPECT_EQ(visited, ranks);
  }
  // Nothing is left in flight: the next rotation sees the right blocks everywhere.
  int next = 0;
  ring.rotate(block_of(me), block_length, [&](int owner, const double* block) {
    ++next;
    EXPECT_EQ(std::vector<double>(block, block + block_length(owner)), block_of(owner));
  });
  EXPECT_EQ(next, ranks);
}

TEST(BlockRing, ABlockLargerThanTheBuffersIsAnErrorOnEveryRank) {
  const Context world;
  BlockRing ring(world, 3);  // rank 0's block of 4 does not fit
  const auto mine = block_of(world.rank());
  int visits = 0;
  const auto rotate = [&] { ring.rotate(mine, block_length, [&](int, const double*) { ++visits; }); };
  if (world.size() == 1) {
    EXPECT_NO_THROW(rotate());  // one rank sends nothing
    EXPECT_EQ(visits, 1);
  } else {
    EXPECT_THROW(rotate(), Error);
    EXPECT_EQ(visits, 0);
  }
  // Nothing was sent: a ring that fits still works.
  BlockRing wide(world, 9);
  visits = 0;
  wide.rotate(mine, block_length, [&](int owner, const double* block) {
    ++visits;
    EXPECT_EQ(std::vector<double>(block, block + block_length(owner)), block_of(owner));
  });
  EXPECT_EQ(visits, world.size());
}

}  // namespace
}  // namespace tessera::engine
