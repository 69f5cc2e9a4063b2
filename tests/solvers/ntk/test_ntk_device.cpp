// The NTK's GPU path (ntk_device, solvers/ntk/device_regression.h), run under mpirun at 1, 2 and 3 ranks. On a
// machine with a CUDA device every GPU answer is compared with the CPU's exact solve of the same problem and with
// the brute force from explicit features; without one (the build machines, CI) the GPU cases skip with
// "no CUDA device" and the cases that check how a missing GPU is reported run instead. The GPU cases sit in the
// *OnGpu* suites, which ctest runs as test_ntk_device_np<ranks>_gpu (reported Skipped without a GPU).
#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <string>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/random.h"
#include "solvers/ntk/device/device_exact.h"
#include "solvers/ntk/device_regression.h"
#include "solvers/ntk/kernel/flat_kernel.h"
#include "solvers/ntk/kernel/flat_tables.h"
#include "solvers/ntk/kernel/ntk_operator.h"
#include "solvers/ntk/ntk_imputer.h"
#include "tests/solvers/ntk/ntk_fixtures.h"

namespace tessera::solvers::ntk {
namespace {

using test::relative;
using test::simulated_table;

bool have_device() { return engine::cuda_device_count() > 0; }

#define SKIP_WITHOUT_CUDA_DEVICE()                                                                           \
  do {                                                                                                       \
    if (!have_device())                                                                                      \
      GTEST_SKIP() << "no CUDA device" << (engine::cuda_built() ? "" : " (this build has no CUDA backend)"); \
  } while (0)

struct Split {
  std::vector<std::uint8_t> train;
  std::vector<std::int64_t> queries;
};

// 80% of the measured entries train; the held-out and never-measured ones are the queries.
Split split(const io::PerturbationTable& table) {
  Split s;
  s.train.assign(std::size_t(table.num_entries()), 0);
  engine::RandomStream random(5, "test/ntk-device-split");
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (table.observed[std::size_t(e)] && random.bernoulli(0.8))
      s.train[std::size_t(e)] = 1;
    else
      s.queries.push_back(e);
  }
  return s;
}

NtkParams params_for(const std::string& prior, int depth, double bias, engine::DeviceRequest device) {
  NtkParams params;
  params.prior = name_table(PriorKind{}).parse(prior, "ntk_prior");
  params.depth = depth;
  params.bias = bias;
  params.reference_cell = "cell0";
  params.solve.solver = KernelSolverRequest::kExact;
  params.solve.block_size = 16;
  params.solve.device = device;
  return params;
}

struct DeviceCase {
  std::string prior;
  int depth;
  double bias;
};

class NtkOnGpuTest : public ::testing::TestWithParam<DeviceCase> {};
class NtkDeviceFormulation : public ::testing::TestWithParam<DeviceCase> {};

// The GPU builds K from the same Gram tables as the CPU and solves the same system: the predictions agree within
// 1e-8 relative (the bound for the exact path), on every rank, and match the brute force too.
TEST_P(NtkOnGpuTest, GpuPredictionsEqualTheCpuExactSolve) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const engine::Context world;
  const auto table = simulated_table(21);
  const auto [train, queries] = split(table);
  const auto& c = GetParam();
  const Eigen::MatrixXd cpu = NtkImputer(params_for(c.prior, c.depth, c.bias, engine::DeviceRequest::kCpu))
                                  .impute(world, table, train, queries);
  const Eigen::MatrixXd gpu = NtkImputer(params_for(c.prior, c.depth, c.bias, engine::DeviceRequest::kCuda))
                                  .impute(world, table, train, queries);
  ASSERT_EQ(gpu.rows(), cpu.rows());
  ASSERT_EQ(gpu.cols(), cpu.cols());
  EXPECT_LT(relative(gpu, cpu), 1e-8) << c.prior;
  test::expect_same_on_every_rank(world, gpu);
}

INSTANTIATE_TEST_SUITE_P(Priors, NtkOnGpuTest,
                         ::testing::Values(DeviceCase{"reference", 1, 0.0}, DeviceCase{"all_cells", 1, 0.0},
                                           DeviceCase{"similarity", 1, 0.0}, DeviceCase{"reference", 3, 0.5}));

// Beyond the GPU's memory the matrix-free solver runs with its kernel products on the GPU: the same answer as the
// CPU's matrix-free solver, to its CG tolerance.
TEST(NtkOnGpu, MatrixFreeProductsOnTheGpuEqualTheCpus) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const engine::Context world;
  const auto table = simulated_table(4);
  const auto [train, queries] = split(table);
  auto params = [](engine::DeviceRequest device) {
    auto p = params_for("similarity", 1, 0.0, device);
    p.solve.solver = KernelSolverRequest::kMatrixFree;
    p.solve.matrix_free.tolerance = 1e-10;
    return p;
  };
  const Eigen::MatrixXd cpu = NtkImputer(params(engine::DeviceRequest::kCpu)).impute(world, table, train, queries);
  const Eigen::MatrixXd gpu = NtkImputer(params(engine::DeviceRequest::kCuda)).impute(world, table, train, queries);
  EXPECT_LT(relative(gpu, cpu), 1e-7);  // both solves stop at relative residual 1e-10
  test::expect_same_on_every_rank(world, gpu);
}

// Duplicate training rows without the one-hot term: the GPU follows the CPU's jitter policy step for step.
TEST(NtkOnGpu, IndefiniteKernelGetsTheCpuJitter) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const engine::Context self(MPI_COMM_SELF);
  const auto table = simulated_table(21);
  std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  const NtkOperator kernel = test::duplicate_rows_kernel(table, train);
  const Eigen::MatrixXd rhs = test::random_matrix(kernel.size(), 3, 9);
  const auto device = engine::select_device(self, engine::DeviceRequest::kCuda, "ntk_device");
  const auto gpu = solve_exact_on_device(kernel.features(), kernel.pairs(),
                                         kernel.features().encode({table.entry(1, 0)}), NtkShape{}, rhs);
  const auto cpu = solve_exact(self, kernel, engine::RowShardedMatrix::scatter_from_replicated(self, rhs));
  EXPECT_GT(cpu.jitter, 0.0);
  EXPECT_EQ(gpu.jitter, cpu.jitter);
  EXPECT_EQ(gpu.factorisations, cpu.factorisations);
  EXPECT_TRUE(gpu.predictions.allFinite());
  EXPECT_EQ(device.kind, engine::DeviceKind::kCuda);
}

// Without a device: ntk_device=cuda is refused with the fix on every rank, and auto quietly gives the CPU's
// answer, bit for bit.
TEST(NtkDevice, WithoutAGpuCudaIsRefusedAndAutoRunsOnTheCpu) {
  if (have_device()) GTEST_SKIP() << "a CUDA device is visible: this case checks the machines without one";
  const engine::Context world;
  const auto table = simulated_table(4);
  const auto [train, queries] = split(table);
  try {
    NtkImputer(params_for("reference", 1, 0.0, engine::DeviceRequest::kCuda)).impute(world, table, train, queries);
    FAIL() << "ntk_device=cuda ran without a CUDA device";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("ntk_device=cpu"), std::string::npos) << message;
    EXPECT_NE(message.find(engine::cuda_built() ? "no CUDA device is visible" : "built without CUDA"),
              std::string::npos)
        << message;
  }
  const Eigen::MatrixXd cpu =
      NtkImputer(params_for("reference", 1, 0.0, engine::DeviceRequest::kCpu)).impute(world, table, train, queries);
  const Eigen::MatrixXd automatic =
      NtkImputer(params_for("reference", 1, 0.0, engine::DeviceRequest::kAuto)).impute(world, table, train, queries);
  EXPECT_EQ((automatic - cpu).cwiseAbs().maxCoeff(), 0.0);
}

// The GPU's kernel entries without a GPU: ntk_entry(), the function every GPU thread evaluates, run on the host over
// host copies of the flat arrays, against the CPU's tiles (PairFeatures::rho_tile + apply_ntk) for every prior and
// shape, training kernel and cross kernel alike.
FlatPairs flat_view(const PairList& pairs, const PairSourceColumns& sources) {
  return {pairs.cell.data(),         pairs.slot.data(),   pairs.prior_norm.data(), pairs.inv_scale.data(),
          pairs.source_begin.data(), sources.cell.data(), sources.column.data(),   sources.weight.data()};
}

TEST_P(NtkDeviceFormulation, FlatEntriesEqualTheCpuTiles) {
  const auto& c = GetParam();
  const auto table = simulated_table(21);
  const auto [train, queries] = split(table);
  FeatureOptions options;
  options.prior = name_table(PriorKind{}).parse(c.prior, "ntk_prior");
  options.reference_cells = {0};
  const auto features = std::make_shared<const PairFeatures>(table, train, options);
  std::vector<std::int64_t> train_entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (train[std::size_t(e)] && table.cell_of(e) != 0) train_entries.push_back(e);
  const NtkShape shape{c.depth, c.bias};
  const NtkOperator kernel(features, features->encode(train_entries), shape);
  const PairList query_pairs = features->encode(queries);
  const auto n = kernel.size(), q = query_pairs.size();
  Eigen::MatrixXd cpu(n, n), cpu_cross(n, q);
  kernel.tile(0, 0, cpu);
  kernel.cross_tile(query_pairs, 0, 0, cpu_cross);

  const RhoTables rho = features->rho_tables();
  const FlatGrams grams(rho);
  FlatRhoTables flat;
  flat.alpha = rho.alpha;
  flat.similarity = rho.similarity;
  flat.cell_gram = rho.cell_gram;
  flat.cells = rho.cells;
  flat.slot_gram = rho.slot_gram;
  flat.slots = rho.slots;
  flat.grams = grams.grams.data();
  flat.gram_offset = grams.offset.data();
  flat.gram_size = grams.size.data();
  flat.depth = shape.depth;
  flat.bias_sq = shape.bias * shape.bias;
  const PairSourceColumns train_sources(kernel.pairs()), query_sources(query_pairs);
  const FlatPairs rows = flat_view(kernel.pairs(), train_sources), cols = flat_view(query_pairs, query_sources);
  Eigen::MatrixXd entries(n, n), cross(n, q);
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = 0; i < n; ++i) entries(i, j) = ntk_entry(flat, rows, i, rows, j, /*same_list=*/true);
  for (std::int64_t j = 0; j < q; ++j)
    for (std::int64_t i = 0; i < n; ++i) cross(i, j) = ntk_entry(flat, rows, i, cols, j, /*same_list=*/false);
  // The same operations in the same order: equal to rounding (a compiler may contract a product into an FMA).
  const double eps = std::numeric_limits<double>::epsilon();
  EXPECT_LE((entries - cpu).cwiseAbs().maxCoeff(), 8 * eps * cpu.cwiseAbs().maxCoeff()) << c.prior;
  EXPECT_LE((cross - cpu_cross).cwiseAbs().maxCoeff(), 8 * eps * cpu_cross.cwiseAbs().maxCoeff()) << c.prior;
  EXPECT_EQ(entries(3, 3), ntk_diagonal(shape));
}

INSTANTIATE_TEST_SUITE_P(Priors, NtkDeviceFormulation,
                         ::testing::Values(DeviceCase{"reference", 1, 0.0}, DeviceCase{"all_cells", 1, 0.0},
                                           DeviceCase{"similarity", 1, 0.0}, DeviceCase{"similarity", 3, 0.5},
                                           DeviceCase{"reference", 2, 1.0}));

// Where a solve goes, from the GPU's free memory and the solver asked for: checked with a described GPU, so it runs
// on any machine.
TEST(NtkDevice, PlanFollowsTheGpuMemoryAndTheSolver) {
  const engine::Context world;
  engine::Device gpu;
  gpu.kind = engine::DeviceKind::kCuda;
  gpu.index = 0;
  gpu.name = "described GPU";
  const std::int64_t n = 1000, genes = 978;
  KernelSolveParams params;
  params.device = engine::DeviceRequest::kCuda;
  gpu.free_bytes = device_exact_bytes(n, genes);  // just fits
  EXPECT_EQ(plan_device_solve(world, gpu, n, genes, params), DevicePlan::kExact);
  // The rho tables count too: with 1 GB of them the same GPU no longer holds the exact solve.
  EXPECT_EQ(plan_device_solve(world, gpu, n, genes, params, 1e9), DevicePlan::kMatrixFree);
  gpu.free_bytes = device_exact_bytes(n, genes) - 1;  // does not
  EXPECT_EQ(plan_device_solve(world, gpu, n, genes, params), DevicePlan::kMatrixFree);
  params.solver = KernelSolverRequest::kExact;
  try {
    plan_device_solve(world, gpu, n, genes, params);
    FAIL() << "an exact solve larger than the GPU was planned";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("ntk_solver=auto or matrix_free"), std::string::npos) << error.what();
  }
  params.solver = KernelSolverRequest::kMatrixFree;
  gpu.free_bytes = 1e15;
  EXPECT_EQ(plan_device_solve(world, gpu, n, genes, params), DevicePlan::kMatrixFree);
  params.solver = KernelSolverRequest::kNystrom;
  EXPECT_THROW(plan_device_solve(world, gpu, n, genes, params), Error);
  params.device = engine::DeviceRequest::kAuto;
  EXPECT_EQ(plan_device_solve(world, gpu, n, genes, params), DevicePlan::kCpu);
  params.solver = KernelSolverRequest::kAuto;
  EXPECT_EQ(plan_device_solve(world, engine::Device{}, n, genes, params), DevicePlan::kCpu);
}

// A build without the CUDA backend refuses the device solver itself with the rebuild that would give it.
TEST(NtkDevice, BuildWithoutCudaRefusesTheDeviceSolver) {
  if (device_exact_built()) GTEST_SKIP() << "this build has the CUDA backend";
  const auto table = simulated_table(4);
  const std::vector<std::uint8_t> train(table.observed.begin(), table.observed.end());
  FeatureOptions options;
  options.reference_cells = {0};
  const PairFeatures features(table, train, options);
  const auto pairs = features.encode({table.entry(1, 0)});
  EXPECT_THROW(solve_exact_on_device(features, pairs, pairs, NtkShape{}, Eigen::MatrixXd::Zero(1, 30)), Error);
}

// The device layer's answers without a GPU, and the names of the knob's values.
TEST(NtkDevice, DeviceRequestsParseAndTheCpuIsAlwaysThere) {
  EXPECT_EQ(name_table(engine::DeviceRequest{}).parse("auto", "ntk_device"), engine::DeviceRequest::kAuto);
  EXPECT_THROW(name_table(engine::DeviceRequest{}).parse("gpu", "ntk_device"), Error);
  const engine::Context world;
  const auto cpu = engine::select_device(world, engine::DeviceRequest::kCpu, "ntk_device");
  EXPECT_EQ(cpu.kind, engine::DeviceKind::kCpu);
  EXPECT_EQ(cpu.description(), "cpu");
  const auto automatic = engine::select_device(world, engine::DeviceRequest::kAuto, "ntk_device");
  EXPECT_EQ(automatic.kind, have_device() ? engine::DeviceKind::kCuda : engine::DeviceKind::kCpu);
  if (have_device()) {
    EXPECT_EQ(automatic.index, world.node_rank() % engine::cuda_device_count());
  }
}

}  // namespace
}  // namespace tessera::solvers::ntk
