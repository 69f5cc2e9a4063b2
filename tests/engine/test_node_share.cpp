// A rank's share of its node (engine/context.h) on 1, 2 and 3 ranks (all on this one node), against what the
// kernel reports independently (sysconf, /proc/meminfo), and the one BLAS thread guard (engine/blas.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/context.h"

extern "C" {
void openblas_set_num_threads(int threads) __attribute__((weak));
}

namespace tessera::engine {
namespace {

// A field of /proc/meminfo in bytes, -1 when absent.
double meminfo_bytes(const char* field) {
  std::FILE* file = std::fopen("/proc/meminfo", "r");
  if (file == nullptr) return -1;
  char line[256];
  double kib = -1;
  const std::size_t length = std::strlen(field);
  while (std::fgets(line, sizeof line, file) != nullptr)
    if (std::strncmp(line, field, length) == 0 && line[length] == ':') {
      std::sscanf(line + length + 1, "%lf", &kib);
      break;
    }
  std::fclose(file);
  return kib < 0 ? -1 : kib * 1024;
}

TEST(NodeShare, ThreadsAreTheOnlineCoresSharedByTheNodesRanks) {
  const Context world;
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  ASSERT_GT(online, 0);
  EXPECT_EQ(world.threads_per_rank(), std::max<long>(1, online / world.node_size()));
  // The ranks of this node together do not ask for more threads than it has (unless there are more ranks).
  const std::int64_t on_node = allreduce_sum(world, std::int64_t(world.threads_per_rank()));
  EXPECT_LE(on_node, std::max<std::int64_t>(online, world.node_size()));
}

TEST(NodeShare, MemoryIsTheNodesMemorySharedByItsRanks) {
  const Context world;
  const double total = meminfo_bytes("MemTotal");
  if (total < 0) GTEST_SKIP() << "no /proc/meminfo";
  EXPECT_NEAR(world.physical_memory_per_rank() * world.node_size(), total, 1 << 20);
  const double available = world.available_memory_per_rank();
  EXPECT_GT(available, 0);
  EXPECT_LE(available, world.physical_memory_per_rank());
}

// A rank working alone while the others work too (a task farm's task) keeps its share of the node; a plain
// one-rank Context would take the whole node on every rank at once.
TEST(NodeShare, AloneIsOneRankWithTheSameShareOfTheNode) {
  const Context world;
  const Context alone = world.alone();
  EXPECT_EQ(alone.size(), 1);
  EXPECT_EQ(alone.rank(), 0);
  EXPECT_EQ(alone.threads_per_rank(), world.threads_per_rank());
  EXPECT_EQ(alone.physical_memory_per_rank(), world.physical_memory_per_rank());
  EXPECT_EQ(alone.node_rank(), world.node_rank());  // its GPU stays its own
  const Context serial(MPI_COMM_SELF);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_EQ(serial.threads_per_rank(), online);  // what each farmed task took before alone()
  const std::int64_t on_node = allreduce_sum(world, std::int64_t(alone.threads_per_rank()));
  EXPECT_LE(on_node, std::max<std::int64_t>(online, world.node_size()));
}

TEST(NodeShare, ResidentMemoryCountsWhatThisProcessTouches) {
  const double before = resident_memory();
  EXPECT_GT(before, 0);
  std::vector<char> block(std::size_t(64) << 20);
  for (std::size_t i = 0; i < block.size(); i += 4096) block[i] = char(i);  // touch every page
  EXPECT_GE(resident_memory() - before, 60.0 * (1 << 20));
  EXPECT_NE(block[4096], 1);  // keeps the writes
}

TEST(BlasThreadLimit, LimitsOpenBlasWhileAliveAndRestoresIt) {
  if (openblas_set_num_threads == nullptr || blas::current_threads() == 0) GTEST_SKIP() << "not OpenBLAS";
  const int before = blas::current_threads();
  openblas_set_num_threads(3);
  ASSERT_EQ(blas::current_threads(), 3);
  {
    const blas::ThreadLimit one(1);
    EXPECT_EQ(blas::current_threads(), 1);
  }
  EXPECT_EQ(blas::current_threads(), 3);
  {
    const blas::ThreadLimit share(2);
    EXPECT_EQ(blas::current_threads(), 2);
    const blas::ThreadLimit nested(1);
    EXPECT_EQ(blas::current_threads(), 1);
  }
  EXPECT_EQ(blas::current_threads(), 3);
  {
    const blas::ThreadLimit more(8);  // a limit never raises the count
    EXPECT_EQ(blas::current_threads(), 3);
    const blas::ThreadLimit none(0);  // at least one thread
    EXPECT_EQ(blas::current_threads(), 1);
  }
  EXPECT_EQ(blas::current_threads(), 3);
  openblas_set_num_threads(before);
}

}  // namespace
}  // namespace tessera::engine
