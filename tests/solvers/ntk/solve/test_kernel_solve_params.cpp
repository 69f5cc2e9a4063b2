// The generic kernel-solve layer's parameters (solvers/ntk/solve/kernel_regression.h): the one memory knob, the
// knob names in its messages, and the checkpoint file that names a problem. One rank.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/error.h"
#include "solvers/ntk/ntk_imputer.h"
#include "solvers/ntk/solve/kernel_regression.h"

namespace tessera::solvers::ntk {
namespace {

// FNV-1a 64, written out here so that the test does not trust the code under test for the expected name.
std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t hash = 0xcbf29ce484222325ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * 0x100000001b3ull;
  return hash;
}

std::string message_of(const KernelSolveParams& params) {
  try {
    params.validate();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(KernelSolveParams, OneMemoryKnobInGigabytes) {
  const engine::Context world;
  KernelSolveParams params;
  params.memory_gb = 2.5;
  EXPECT_EQ(kernel_solve_budget_bytes(world, params), 2.5e9);  // the knob wins
  params.memory_gb = 0;
  const double physical = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  EXPECT_DOUBLE_EQ(kernel_solve_budget_bytes(world, params), 0.5 * physical / world.node_size());  // half of RAM
}

// ntk_memory_gb bounds the matrix-free solve too (its batches of genes), in bytes; 0 leaves the solver's own
// automatic budget.
TEST(KernelSolveParams, TheMatrixFreeSolveGetsTheSameBudget) {
  KernelSolveParams params;
  params.memory_gb = 3;
  EXPECT_EQ(matrix_free_params_for(params, {0, 1}, {2}, "k").memory_budget_bytes, 3e9);
  params.memory_gb = 0;
  params.matrix_free.memory_budget_bytes = 0;
  EXPECT_EQ(matrix_free_params_for(params, {0, 1}, {2}, "k").memory_budget_bytes, 0);
  EXPECT_EQ(matrix_free_params_for(params, {0, 1}, {2}, "k").checkpoint_path, "");  // no folder, no checkpoint
}

TEST(KernelSolveParams, MessagesNameTheKnobsUsersSet) {
  KernelSolveParams params;
  EXPECT_EQ(message_of(params), "");
  params.memory_gb = -1;
  EXPECT_NE(message_of(params).find("ntk_memory_gb"), std::string::npos) << message_of(params);
  params.memory_gb = 1;
  params.jitter = 0;
  EXPECT_NE(message_of(params).find("jitter"), std::string::npos) << message_of(params);
}

// A matrix-free solve with a checkpoint folder writes ntk_cg_<FNV-1a of training rows, queries, alpha, beta,
// depth, bias, prior, reference cells>.h5: the same name as before the solvers moved to their own layer, so a job
// preempted under an older build finds its checkpoint (and is told plainly if its format is too old to resume).
TEST(KernelSolveParams, CheckpointFileNamesTheProblemAsBefore) {
  const engine::Context world;
  io::PerturbationTable table;
  const int cells = 3, perts = 6, genes = 4;
  for (int g = 0; g < genes; ++g) table.genes.push_back("g" + std::to_string(g));
  for (int c = 0; c < cells; ++c) table.cells.push_back("cell" + std::to_string(c));
  for (int p = 0; p < perts; ++p) table.perts.push_back("drug" + std::to_string(p));
  table.values = Eigen::MatrixXd::Zero(genes, cells * perts);
  table.observed.assign(std::size_t(cells * perts), 0);
  table.replicates.assign(std::size_t(cells * perts), 0);
  std::vector<std::uint8_t> train(std::size_t(cells * perts), 0);
  std::vector<std::int64_t> train_entries, queries;
  for (int c = 0; c < cells; ++c)
    for (int p = 0; p < perts; ++p) {
      const auto e = table.entry(c, p);
      if ((c + p) % 3 == 0) {
        queries.push_back(e);
        continue;
      }
      table.observed[std::size_t(e)] = table.replicates[std::size_t(e)] = train[std::size_t(e)] = 1;
      for (int g = 0; g < genes; ++g) table.values(g, e) = 0.1 * (g + 1) * (p + 1) - 0.2 * c;
      train_entries.push_back(e);
    }
  table.controls = Eigen::MatrixXd::Zero(genes, cells);
  table.control_counts.assign(std::size_t(cells), 0);

  const auto dir = std::filesystem::temp_directory_path() / ("tessera_solve_params_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  NtkParams params;
  params.prior = PriorKind::kAllCells;  // every training entry is a regression row, in table order
  params.solve.solver = KernelSolverRequest::kMatrixFree;
  params.solve.checkpoint_dir = dir.string();
  params.solve.matrix_free.num_centres = 4;
  params.solve.matrix_free.checkpoint_every = 1;
  NtkImputer(params).impute(world, table, train, queries);

  std::uint64_t hash = fnv1a(train_entries.data(), train_entries.size() * sizeof(std::int64_t));
  hash = fnv1a(queries.data(), queries.size() * sizeof(std::int64_t), hash);
  const double knobs[] = {params.alpha, params.beta, double(params.depth), params.bias};
  hash = fnv1a(knobs, sizeof knobs, hash);
  const std::string prior = "all_cells";
  hash = fnv1a(prior.data(), prior.size(), hash);
  hash = fnv1a(params.reference_cell.data(), params.reference_cell.size(), hash);
  char name[40];
  std::snprintf(name, sizeof name, "ntk_cg_%016llx.h5", static_cast<unsigned long long>(hash));

  // The problem's file, and its per-rank shards named after it (solve/cg_checkpoint.h).
  int named = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string file = entry.path().filename();
    EXPECT_EQ(file.rfind(name, 0), 0u) << file << " is not " << name << " or one of its shards";
    named += file == name;
  }
  EXPECT_EQ(named, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::solvers::ntk
