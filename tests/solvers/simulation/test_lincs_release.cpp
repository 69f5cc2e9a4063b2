// The simulated LINCS release: exact counts, unique names, the side tables against the GCTX, the truth function
// against the written values (exactly without noise, within the noise bound with it), and the same bytes at 1, 2
// and 3 ranks: each run writes the release on all ranks and again on rank 0 alone, and compares the two.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "engine/collectives.h"
#include "engine/error.h"
#include "io/gctx.h"
#include "solvers/simulation/lincs_release.h"
#include "tests/support/shared_temp_dir.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::simulation {
namespace {

using tessera::testing::error_of;
using tessera::testing::expect_mentions;
namespace fs = std::filesystem;

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

// This test case's folder, shared by the ranks.
struct TempDir : tessera::testing::SharedTempDir {
  TempDir() : SharedTempDir("tessera_test_lincs") {}
};

LincsReleaseParams small_params() {
  LincsReleaseParams p;
  p.seed = 7;
  p.cells = 9;
  p.compounds = 60;
  p.observed = 0.25;  // 135 treated signatures
  p.genes = 40;
  p.factors = 4;
  p.dmso_per_cell = 2;
  p.write_chunk = 13;  // several slabs per rank, not aligned with the blocks
  return p;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(LincsRelease, CountsMatchTheRequestExactly) {
  for (const double observed : {0.01, 0.04, 0.25, 0.9, 1.0}) {
    LincsReleaseParams p = small_params();
    p.observed = observed;
    const auto signatures = lincs_signatures(p);
    const std::int64_t treated = std::llround(observed * p.cells * p.compounds);
    EXPECT_EQ(p.treated_signatures(), treated);
    ASSERT_EQ(std::int64_t(signatures.size()), treated + p.cells * p.dmso_per_cell) << observed;
    std::set<std::pair<int, int>> pairs;
    std::vector<int> per_compound(std::size_t(p.compounds), 0);
    std::vector<int> controls(std::size_t(p.cells), 0);
    std::set<std::string> ids;
    int last_cell = 0;
    for (const auto& s : signatures) {
      EXPECT_GE(s.cell, last_cell) << "signatures are grouped by cell";
      last_cell = s.cell;
      ids.insert(lincs_sig_id(p, s));
      if (s.compound < 0) {
        ++controls[std::size_t(s.cell)];
        continue;
      }
      EXPECT_TRUE(pairs.insert({s.cell, s.compound}).second) << "pair observed twice";
      ++per_compound[std::size_t(s.compound)];
    }
    EXPECT_EQ(ids.size(), signatures.size()) << "sig_ids are unique";
    EXPECT_EQ(std::int64_t(pairs.size()), treated);
    for (int c : controls) EXPECT_EQ(c, p.dmso_per_cell);
    // With at least one signature per compound, every compound is measured somewhere.
    if (treated >= p.compounds) {
      for (int n : per_compound) EXPECT_GE(n, 1);
    }
  }
  // LINCS's size: 230 x 20,000 at 4% is 184,000 treated signatures.
  LincsReleaseParams lincs;
  EXPECT_EQ(lincs.treated_signatures(), 184000);
  EXPECT_EQ(lincs.total_signatures(), 184000 + 230 * 4);
}

TEST(LincsRelease, NamesFollowBeta) {
  LincsReleaseParams p;
  LincsSignature s;
  s.cell = 0;
  s.compound = 0;
  EXPECT_EQ(lincs_sig_id(p, s), "SIM001_CELL001_24H:BRD-K00000001:10");
  s.cell = 229;
  s.compound = 19999;
  s.short_time = true;
  s.dose = 5;
  EXPECT_EQ(lincs_sig_id(p, s), "SIM020_CELL230_6H:BRD-K00020000:3.33");
  s.compound = -1;
  s.control = 2;
  EXPECT_EQ(lincs_sig_id(p, s), "CTL001_CELL230_24H:DMSO:3");
  EXPECT_EQ(lincs_gene_id(0), 1);
  EXPECT_LT(lincs_gene_id(977), lincs_gene_id(978));
  EXPECT_EQ(lincs_release_files("out", p).gctx, fs::path("out/level5_beta_all_n184920x978.gctx"));
}

// The whole release on every rank of the job, and again on rank 0 alone with another slab size: the same bytes.
TEST(LincsRelease, SameBytesForEveryRankCountAndSlabSize) {
  TempDir dir;
  const LincsReleaseParams p = small_params();
  const LincsReleaseFiles files = write_lincs_release(dir / "ranks", p, world());
  if (world().is_root()) {
    const engine::Context alone(MPI_COMM_SELF);
    LincsReleaseParams one_slab = p;
    one_slab.write_chunk = 1000;
    const LincsReleaseFiles serial = write_lincs_release(dir / "one", one_slab, alone);
    EXPECT_EQ(file_bytes(files.siginfo), file_bytes(serial.siginfo));
    EXPECT_EQ(file_bytes(files.geneinfo), file_bytes(serial.geneinfo));
    const io::GeneMatrix a = io::read_gctx<float>(files.gctx, alone);
    const io::GeneMatrix b = io::read_gctx<float>(serial.gctx, alone);
    EXPECT_EQ(a.cols.ids, b.cols.ids);
    EXPECT_EQ(a.rows.ids, b.rows.ids);
    ASSERT_EQ(a.values.size(), b.values.size());
    EXPECT_EQ(std::memcmp(a.values.data(), b.values.data(), std::size_t(a.values.size()) * sizeof(float)), 0);
    // Columns carry only `id`.
    EXPECT_TRUE(a.cols.fields.empty());
  }
  world().barrier();
}

// The side tables name what the GCTX holds, in its order, with the filters' fields.
TEST(LincsRelease, SideTablesAgreeWithTheGctx) {
  TempDir dir;
  LincsReleaseParams p = small_params();
  p.genes = 1000;  // landmarks and best inferred genes
  p.compounds = 20;
  const LincsReleaseFiles files = write_lincs_release(dir / "release", p, world());
  const io::GeneMatrix m = io::read_gctx<float>(files.gctx, world());
  EXPECT_EQ(files.gctx.filename(), "level5_beta_all_n" + std::to_string(p.total_signatures()) + "x1000.gctx");
  ASSERT_EQ(m.num_signatures(), p.total_signatures());
  auto siginfo = tessera::testing::read_tsv_columns(files.siginfo);
  EXPECT_EQ(siginfo["sig_id"], m.cols.ids);
  int controls = 0, treated = 0, gold = 0;
  for (std::size_t i = 0; i < m.cols.ids.size(); ++i) {
    const std::string& type = siginfo["pert_type"][i];
    if (type == "ctl_vehicle") {
      ++controls;
      EXPECT_EQ(siginfo["pert_id"][i], "DMSO");
    } else {
      ++treated;
      EXPECT_EQ(type, "trt_cp");
      EXPECT_EQ(siginfo["pert_id"][i].substr(0, 5), "BRD-K");
      // sig_id = <plate>_<cell>_<time>H:<pert_id>:<dose>
      EXPECT_EQ(siginfo["sig_id"][i], "SIM001_" + siginfo["cell_iname"][i] + "_" + siginfo["pert_time"][i] +
                                          "H:" + siginfo["pert_id"][i] + ":" + siginfo["pert_dose"][i]);
      EXPECT_EQ(siginfo["pert_idose"][i], siginfo["pert_dose"][i] + " uM");
    }
    gold += siginfo["is_gold"][i] == "1";
    if (siginfo["is_gold"][i] == "1") {
      EXPECT_EQ(siginfo["qc_pass"][i], "1");
    }
  }
  EXPECT_EQ(controls, p.cells * p.dmso_per_cell);
  EXPECT_EQ(treated, p.treated_signatures());
  EXPECT_GT(gold, 0);
  EXPECT_LT(gold, int(m.cols.ids.size()));
  auto geneinfo = tessera::testing::read_tsv_columns(files.geneinfo);
  EXPECT_EQ(geneinfo["gene_id"], m.rows.ids);
  std::map<std::string, int> spaces;
  for (const auto& space : geneinfo["feature_space"]) ++spaces[space];
  EXPECT_EQ(spaces["landmark"], 978);
  EXPECT_EQ(spaces["best inferred"], 22);
}

// Without noise the GCTX holds float(truth) exactly; with noise, the residuals are the noise: within 6 sd, with
// the sd of the gold signatures and twice that for the others.
TEST(LincsRelease, TruthFunctionReproducesTheSignatures) {
  TempDir dir;
  for (const double noise : {0.0, 0.5}) {
    LincsReleaseParams p = small_params();
    p.noise = noise;
    const std::string name = noise == 0 ? "clean" : "noisy";
    const LincsReleaseFiles files = write_lincs_release(dir / name, p, world());
    const LincsModel model = read_lincs_truth(files.truth);
    const LincsModel made = make_lincs_model(p);
    EXPECT_EQ(model.gene_loadings, made.gene_loadings);
    EXPECT_EQ(model.compound_strength, made.compound_strength);
    EXPECT_EQ(model.params.describe(), p.describe());
    const io::GeneMatrix m = io::read_gctx<float>(files.gctx, world());
    auto siginfo = tessera::testing::read_tsv_columns(files.siginfo);
    const auto signatures = lincs_signatures(p);
    ASSERT_EQ(std::int64_t(signatures.size()), m.num_signatures());
    double gold_squares = 0;
    std::int64_t gold_values = 0;
    for (std::size_t j = 0; j < signatures.size(); ++j) {
      const auto& s = signatures[j];
      EXPECT_EQ(siginfo["cell_iname"][j], lincs_cell_name(p, s.cell));
      const Eigen::VectorXd truth =
          s.compound < 0 ? Eigen::VectorXd::Zero(p.genes) : lincs_true_signature(model, s.cell, s.compound);
      const double sd = siginfo["is_gold"][j] == "1" ? noise : 2 * noise;
      for (int g = 0; g < p.genes; ++g) {
        const float value = m.values(g, Eigen::Index(j));
        if (noise == 0) {
          ASSERT_EQ(value, float(truth[g])) << m.cols.ids[j] << " gene " << g;
        } else {
          ASSERT_LE(std::abs(value - truth[g]), 6 * sd + 1e-6) << m.cols.ids[j] << " gene " << g;
          if (sd == noise) {
            gold_squares += (value - truth[g]) * (value - truth[g]);
            ++gold_values;
          }
        }
      }
    }
    if (noise > 0) {  // thousands of draws: the sample sd within 10% of the noise
      ASSERT_GT(gold_values, 1000);
      EXPECT_NEAR(std::sqrt(gold_squares / double(gold_values)), noise, 0.05);
    }
  }
  // The signal is there: a treated pair's truth is not zero.
  const LincsModel model = make_lincs_model(small_params());
  EXPECT_GT(lincs_true_signature(model, 0, 0).norm(), 0.1);
}

TEST(LincsRelease, BadInputsNameTheFix) {
  TempDir dir;
  if (world().is_root()) {
    std::ofstream(dir / "not_truth.h5") << "text";
    expect_mentions(error_of([&] { read_lincs_truth(dir / "not_truth.h5"); }), {"not_truth.h5"});
  }
  LincsReleaseParams p = small_params();
  p.observed = 0;
  p.dmso_per_cell = 0;
  expect_mentions(error_of([&] { p.validate(); }), {"no treated signature", "--observed"});
  p = small_params();
  p.observed = 1.5;
  expect_mentions(error_of([&] { p.validate(); }), {"observed"});
  const LincsModel model = make_lincs_model(small_params());
  expect_mentions(error_of([&] { lincs_true_signature(model, 9, 0); }), {"(cell 9, compound 0)", "9 cells x 60"});
}

}  // namespace
}  // namespace tessera::solvers::simulation
