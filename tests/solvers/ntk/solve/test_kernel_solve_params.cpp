// The generic kernel-solve layer's parameters (solvers/ntk/solve/kernel_regression.h): the one memory knob, the
// knob names in its messages, and the checkpoint file that names a problem; and the range of every NTK knob,
// declared once and checked the same by the imputer and by the struct below it that library callers use. One rank.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/parameters.h"
#include "solvers/ntk/kernel/kernel.h"
#include "solvers/ntk/ntk_imputer.h"
#include "solvers/ntk/solve/exact.h"
#include "solvers/ntk/solve/kernel_regression.h"
#include "solvers/ntk/solve/matrix_free.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::ntk {
namespace {

using tessera::testing::refusal_of;

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

// One NTK knob with a range: what --help says it allows, values just outside the range (as the message writes
// them) and the bounds themselves (just inside an open bound), and the check of the struct that declares it for
// library callers (bench/, the solver tests), which must say the same as the imputer's.
struct RangedKnob {
  const char* name;
  const char* allowed;
  std::function<void(NtkParams&, double)> set;
  std::vector<std::pair<double, const char*>> refused;
  std::vector<double> accepted;
  std::function<void(const NtkParams&)> library_check;  // empty: the knob belongs to NtkParams itself
};

void check_shape(const NtkParams& p) { NtkShape{p.depth, p.bias}.validate(); }
void check_exact(const NtkParams& p) {
  ExactOptions exact;
  exact.jitter = p.solve.jitter;
  exact.max_jitter = std::max(exact.max_jitter, p.solve.jitter);  // as the imputer passes it
  exact.block_size = p.solve.block_size;
  exact.validate();
}
void check_solve(const NtkParams& p) { p.solve.validate(); }
void check_matrix_free(const NtkParams& p) { p.solve.matrix_free.validate(); }
void check_nystrom(const NtkParams& p) { p.solve.nystrom.validate(); }

const std::vector<RangedKnob>& ranged_knobs() {
  static const std::vector<RangedKnob> knobs = {
      {"ntk_alpha", "at least 0", [](NtkParams& p, double v) { p.alpha = v; }, {{-0.001, "-0.001"}}, {0.0}, {}},
      {"ntk_beta", "at least 0", [](NtkParams& p, double v) { p.beta = v; }, {{-0.001, "-0.001"}}, {0.0}, {}},
      {"ntk_depth",
       "in [1, 100]",
       [](NtkParams& p, double v) { p.depth = int(v); },
       {{0, "0"}, {101, "101"}},
       {1, 100},
       check_shape},
      {"ntk_bias",
       "at least 0",
       [](NtkParams& p, double v) { p.bias = v; },
       {{-0.001, "-0.001"}, {NAN, "nan"}},
       {0.0},
       check_shape},
      {"ntk_memory_gb",
       "at least 0",
       [](NtkParams& p, double v) { p.solve.memory_gb = v; },
       {{-0.001, "-0.001"}, {INFINITY, "inf"}},
       {0.0},
       check_solve},
      {"ntk_max_minutes",
       "at least 0",
       [](NtkParams& p, double v) { p.solve.max_minutes = v; },
       {{-0.5, "-0.5"}, {NAN, "nan"}},
       {0.0},
       check_solve},
      {"ntk_jitter",
       "in (0, 1)",
       [](NtkParams& p, double v) { p.solve.jitter = v; },
       {{0.0, "0"}, {1.0, "1"}},
       {1e-15, 0.999999},
       check_exact},
      {"ntk_block_size",
       "in [1, 4096]",
       [](NtkParams& p, double v) { p.solve.block_size = int(v); },
       {{0, "0"}, {4097, "4097"}},
       {1, 4096},
       check_exact},
      {"ntk_cg_tolerance",
       "in (0, 1)",
       [](NtkParams& p, double v) { p.solve.matrix_free.tolerance = v; },
       {{0.0, "0"}, {1.0, "1"}},
       {1e-15, 0.999999},
       check_matrix_free},
      {"ntk_cg_max_iterations",
       "at least 1",
       [](NtkParams& p, double v) { p.solve.matrix_free.max_iterations = int(v); },
       {{0, "0"}},
       {1},
       check_matrix_free},
      {"ntk_nystrom_centres",
       "at least 0",
       [](NtkParams& p, double v) { p.solve.matrix_free.num_centres = std::int64_t(v); },
       {{-1, "-1"}},
       {0},
       check_matrix_free},
      {"ntk_checkpoint_every",
       "at least 0",
       [](NtkParams& p, double v) { p.solve.matrix_free.checkpoint_every = int(v); },
       {{-1, "-1"}},
       {0},
       check_matrix_free},
      {"ntk_centres",
       "in [1, 1000000]",
       [](NtkParams& p, double v) { p.solve.nystrom.centres = std::int64_t(v); },
       {{0, "0"}, {1000001, "1000001"}},
       {1, 1000000},
       check_nystrom},
      {"ntk_nystrom_ridge",
       "in [0, 1]",
       [](NtkParams& p, double v) { p.solve.nystrom.ridge = v; },
       {{-1e-9, "-1e-09"}, {1.5, "1.5"}},
       {0.0, 1.0},
       check_nystrom},
      {"ntk_leverage_ridge",
       "in (0, 1000000]",
       [](NtkParams& p, double v) { p.solve.nystrom.leverage_ridge = v; },
       {{0.0, "0"}, {2e6, "2000000"}},
       {1e-12, 1e6},
       check_nystrom},
  };
  return knobs;
}

// Every knob, in --help order, and what each allows (what --help appends to its help): the ranged ones exactly
// those of the table above.
TEST(NtkKnobs, AreDeclaredOnceWithTheirRange) {
  NtkParams params;
  std::vector<std::string> names, ranged;
  engine::declare_each(params, [&](const auto& knob) {
    names.push_back(knob.name());
    using Value = typename std::decay_t<decltype(knob)>::Value;
    if constexpr (!std::is_enum_v<Value>) {
      if (knob.allowed().empty()) return;
      ranged.push_back(knob.name());
      for (const auto& expected : ranged_knobs()) {
        if (knob.name() == std::string(expected.name)) {
          EXPECT_EQ(knob.allowed(), expected.allowed) << knob.name();
        }
      }
    }
  });
  EXPECT_EQ(names, (std::vector<std::string>{"ntk_alpha",
                                             "ntk_beta",
                                             "ntk_depth",
                                             "ntk_bias",
                                             "ntk_prior",
                                             "ntk_reference_cell",
                                             "ntk_reference_in_kernel",
                                             "ntk_solver",
                                             "ntk_device",
                                             "ntk_memory_gb",
                                             "ntk_max_minutes",
                                             "ntk_jitter",
                                             "ntk_block_size",
                                             "ntk_cg_tolerance",
                                             "ntk_cg_max_iterations",
                                             "ntk_nystrom_centres",
                                             "ntk_checkpoint_every",
                                             "ntk_checkpoint_dir",
                                             "ntk_centres",
                                             "ntk_centre_sampling",
                                             "ntk_nystrom_ridge",
                                             "ntk_leverage_ridge"}));
  std::vector<std::string> expected;
  for (const auto& knob : ranged_knobs()) expected.push_back(knob.name);
  EXPECT_EQ(ranged, expected);
}

// Each ranged knob refuses a value just outside its range, naming the option, the knob and the range, and
// accepts its bounds; the struct that declares it says the same to library callers.
TEST(NtkKnobs, RefuseValuesJustOutsideTheirRangeAndAcceptTheBounds) {
  for (const auto& knob : ranged_knobs()) {
    SCOPED_TRACE(knob.name);
    const std::string option = "--" + engine::option_spelling(knob.name);
    for (const auto& [value, text] : knob.refused) {
      NtkParams params;
      knob.set(params, value);
      const std::string expected =
          option + " " + text + " is invalid: the allowed values of " + knob.name + " are " + knob.allowed;
      EXPECT_EQ(refusal_of([&] { params.validate(); }), expected);
      EXPECT_EQ(refusal_of([&] { NtkImputer{params}; }), expected);
      if (knob.library_check) {
        EXPECT_EQ(refusal_of([&] { knob.library_check(params); }), expected);
      }
    }
    for (const double value : knob.accepted) {
      NtkParams params;
      knob.set(params, value);
      EXPECT_EQ(refusal_of([&] { params.validate(); }), "") << value;
      if (knob.library_check) {
        EXPECT_EQ(refusal_of([&] { knob.library_check(params); }), "") << value;
      }
    }
  }
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
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(genes, cells * perts);
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
      for (int g = 0; g < genes; ++g) dense(g, e) = 0.1 * (g + 1) * (p + 1) - 0.2 * c;
      train_entries.push_back(e);
    }
  table.set_dense(dense);
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
