// engine/device.h and engine/device_communicator.h at 1, 2 and 3 ranks. Host buffers are summed through MPI on
// every machine; the *OnGpu* cases put the buffers in device memory and sum them through NCCL, and skip without a
// CUDA device per rank (ctest's test_device_communicator_np<ranks>_gpu; scripts/gpu_check.sh runs them on a GPU).
#include <gtest/gtest.h>

#include <vector>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/device.h"
#include "engine/device_communicator.h"
#include "engine/error.h"
#include "tests/engine/device_sum.h"

namespace tessera::engine {
namespace {

// Rank r contributes r + 1 + k / 4 at position k: the sum over s ranks is s (s + 1) / 2 + s k / 4, exact in
// binary floating point.
template <typename T>
std::vector<T> contribution(const Context& ctx, int count) {
  std::vector<T> values(static_cast<std::size_t>(count));
  for (int k = 0; k < count; ++k) values[std::size_t(k)] = T(ctx.rank() + 1) + T(k) / T(4);
  return values;
}

template <typename T>
void expect_sums(const Context& ctx, const std::vector<T>& sums) {
  const double s = ctx.size();
  for (std::size_t k = 0; k < sums.size(); ++k) ASSERT_EQ(double(sums[k]), s * (s + 1) / 2 + s * double(k) / 4) << k;
}

TEST(DeviceCommunicator, HostBuffersAreSummedThroughMpi) {
  const Context world;
  DeviceCommunicator communicator(world, Device{});
  EXPECT_FALSE(communicator.uses_nccl());
  auto doubles = contribution<double>(world, 1000);
  communicator.allreduce_sum(std::span<double>(doubles));
  expect_sums(world, doubles);
  auto floats = contribution<float>(world, 17);
  communicator.allreduce_sum(std::span<float>(floats));
  expect_sums(world, floats);
}

TEST(DeviceCommunicator, CpuRequestGivesTheCpuAndCudaNamesTheFix) {
  const Context world;
  EXPECT_EQ(select_device(world, DeviceRequest::kCpu, "ae_device").kind, DeviceKind::kCpu);
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is visible";
  try {
    select_device(world, DeviceRequest::kCuda, "ae_device");
    FAIL() << "cuda was granted without a device";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("ae_device=cpu"), std::string::npos) << message;
  }
  EXPECT_EQ(select_device(world, DeviceRequest::kAuto, "ae_device").kind, DeviceKind::kCpu);
}

bool every_rank_has_a_gpu(const Context& ctx) {
  // Ranks of one node share its GPUs, and NCCL needs one GPU per rank.
  const int devices = cuda_device_count();
  return allreduce_sum(ctx, std::int64_t(devices > ctx.node_rank() ? 0 : 1)) == 0;
}

TEST(DeviceCommunicatorOnGpu, DeviceBuffersAreSummedThroughNccl) {
  const Context world;
  if (!every_rank_has_a_gpu(world))
    GTEST_SKIP() << "no CUDA device for every rank (" << cuda_device_count() << " visible"
                 << (cuda_built() ? "" : "; this build has no CUDA backend") << ")";
  const auto device = select_device(world, DeviceRequest::kCuda, "test_device");
  DeviceCommunicator communicator(world, device);
  EXPECT_TRUE(communicator.uses_nccl());
  // One million doubles: several NCCL chunks, and the same bits as the host path's exact sums.
  expect_sums(world, test::sum_on_device(communicator, contribution<double>(world, 1 << 20)));
  expect_sums(world, test::sum_on_device(communicator, contribution<float>(world, 1000)));
  // A host buffer through the same communicator still goes through MPI.
  auto host = contribution<double>(world, 10);
  communicator.allreduce_sum(std::span<double>(host));
  expect_sums(world, host);
}

}  // namespace
}  // namespace tessera::engine
