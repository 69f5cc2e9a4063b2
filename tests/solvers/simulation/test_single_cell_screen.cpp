// The simulated single-cell screen (solvers/simulation/single_cell_screen.h), checked against closed forms and
// independent recomputations: the groups and names asked for; the truth as the exact change of expected
// normalize_total shares, singles following the bulk simulator's signatures and pairs exactly multiplicative at the
// default interaction (an interaction only on the genes the parts change); Poisson counts with the right mean and
// variance; the file read back by io::read_h5ad_local equal to the simulated counts, and the pseudobulk of many
// cells (computed here from the file, and by io/pseudobulk.h) within a z-test of the truth; anndata's view of the file;
// bit-identical bytes for a seed; refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <string>

#include "engine/context.h"
#include "engine/error.h"
#include "io/h5ad.h"
#include "io/pseudobulk.h"
#include "solvers/simulation/lincs_release.h"
#include "solvers/simulation/single_cell_screen.h"
#include "tests/io/anndata_report.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::simulation {
namespace {

namespace fs = std::filesystem;
using tessera::testing::message_of;

// A small network: 40 genes, targets from 20 of them.
SimulationParams small_network(std::uint64_t seed = 7) {
  SimulationParams p;
  p.seed = seed;
  p.num_genes = 40;
  p.target_pool_size = 20;
  return p;
}

SingleCellParams small_screen() {
  SingleCellParams p;
  p.cell_types = 2;
  p.singles = 4;
  p.pairs = 3;
  p.cells_per_group = 20;
  p.control_cells = 30;
  return p;
}

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Dense cells x genes of the CSR counts.
Eigen::MatrixXd dense(const io::CsrMatrix& x) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.rows, x.cols);
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (auto k = x.indptr[std::size_t(r)]; k < x.indptr[std::size_t(r) + 1]; ++k)
      out(r, x.indices[std::size_t(k)]) = x.data[std::size_t(k)];
  return out;
}

const io::MetaColumn& column(const io::MetaTable& table, const std::string& name) { return table.require(name, "obs"); }

// pi(c, p) recovered from the truth: the control's shares plus the truth in share units.
Eigen::VectorXd shares(const SingleCellScreen& s, const SingleCellParams& p, int cell, std::size_t perturbation) {
  return s.control_proportions.col(cell) +
         s.truth.signatures.col(s.truth.entry(cell, std::int64_t(perturbation))) / p.target_sum;
}

TEST(SingleCellScreen, HasTheGroupsAndNamesAskedFor) {
  const SingleCellParams p = small_screen();
  const SingleCellScreen s = simulate_single_cell(small_network(), p);
  const GroundTruth& t = s.truth;
  ASSERT_EQ(t.drugs.size(), 7u);
  EXPECT_TRUE(std::is_sorted(t.drugs.begin(), t.drugs.end()));
  std::set<std::string> singles, pairs;
  for (std::size_t d = 0; d < t.drugs.size(); ++d) {
    const auto& parts = s.parts[d];
    if (parts.size() == 1) {
      singles.insert(t.drugs[d]);
      EXPECT_EQ(t.drugs[d], "DRUG000" + std::to_string(parts[0] + 1));
    } else {
      ASSERT_EQ(parts.size(), 2u);
      EXPECT_LT(parts[0], parts[1]);
      EXPECT_EQ(t.drugs[d], "DRUG000" + std::to_string(parts[0] + 1) + "+DRUG000" + std::to_string(parts[1] + 1));
      pairs.insert(t.drugs[d]);
    }
  }
  EXPECT_EQ(singles.size(), 4u);
  EXPECT_EQ(pairs.size(), 3u);  // distinct
  EXPECT_EQ(t.cells, (std::vector<std::string>{"CELL01", "CELL02"}));
  EXPECT_EQ(t.genes.size(), 40u);
  EXPECT_EQ(s.genes, t.genes);

  // Cells per group: the controls, then cells_per_group per measured group; every perturbation measured somewhere.
  std::map<std::pair<std::string, std::string>, int> groups;
  const auto& perturbation = column(s.obs, "perturbation").text;
  const auto& cell_type = column(s.obs, "cell_type").text;
  const auto& condition = column(s.obs, "condition").text;
  for (std::size_t i = 0; i < s.obs.size(); ++i) {
    ++groups[{cell_type[i], perturbation[i]}];
    const bool pair = perturbation[i].find('+') != std::string::npos;
    EXPECT_EQ(condition[i], perturbation[i] == "ctrl" ? "ctrl" : pair ? perturbation[i] : perturbation[i] + "+ctrl");
  }
  std::int64_t expected_cells = 0;
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ((groups[{t.cells[std::size_t(c)], "ctrl"}]), 30);
    expected_cells += 30;
    for (std::size_t d = 0; d < t.drugs.size(); ++d) {
      const bool measured = t.observed[std::size_t(t.entry(c, std::int64_t(d)))];
      EXPECT_EQ((groups[{t.cells[std::size_t(c)], t.drugs[d]}]), measured ? 20 : 0) << t.drugs[d];
      expected_cells += measured ? 20 : 0;
    }
  }
  for (std::size_t d = 0; d < t.drugs.size(); ++d)
    EXPECT_TRUE(t.observed[std::size_t(t.entry(0, std::int64_t(d)))] ||
                t.observed[std::size_t(t.entry(1, std::int64_t(d)))]);
  EXPECT_EQ(s.counts.rows, expected_cells);
  EXPECT_EQ(std::int64_t(s.obs.size()), expected_cells);
  EXPECT_EQ(s.counts.cols, 40);
}

// Singles follow the bulk simulator: pi(c, s) / pi(c, ctrl) is 2^sig(c, s) up to the normalisation (one constant
// per group). Pairs at interaction 0: pi(A+B) is proportional to pi(A) pi(B) / pi(ctrl), exactly.
TEST(SingleCellScreen, TruthFollowsTheBulkSignaturesAndIsMultiplicativeForPairs) {
  const SimulationParams network = small_network();
  const SingleCellParams p = small_screen();
  const SingleCellScreen s = simulate_single_cell(network, p);
  const GroundTruth bulk = simulate_screen(single_cell_base_params(network, p)).truth;
  for (int c = 0; c < p.cell_types; ++c) {
    const Eigen::VectorXd control = s.control_proportions.col(c);
    EXPECT_NEAR(control.sum(), 1.0, 1e-12);
    for (std::size_t d = 0; d < s.truth.drugs.size(); ++d) {
      const Eigen::VectorXd pi = shares(s, p, c, d);
      EXPECT_NEAR(pi.sum(), 1.0, 1e-12) << "the truth of a group sums to 0: shares move, the total does not";
      Eigen::VectorXd model = Eigen::VectorXd::Ones(40);
      for (const int part : s.parts[d]) {
        if (s.parts[d].size() == 1)
          model = (std::log(2.0) * bulk.signatures.col(bulk.entry(c, part))).array().exp();
        else
          model = model.cwiseProduct(
              shares(s, p, c,
                     std::size_t(std::find(s.truth.drugs.begin(), s.truth.drugs.end(), bulk.drugs[std::size_t(part)]) -
                                 s.truth.drugs.begin()))
                  .cwiseQuotient(control));
      }
      const Eigen::VectorXd ratio = pi.cwiseQuotient(control).cwiseQuotient(model);
      EXPECT_LT((ratio.array() / ratio.mean() - 1).abs().maxCoeff(), 1e-9) << s.truth.drugs[d] << " in cell " << c;
    }
  }
}

TEST(SingleCellScreen, AnInteractionChangesOnlyPairsAndOnlyOnGenesTheirPartsChange) {
  const SimulationParams network = small_network();
  SingleCellParams p = small_screen();
  const SingleCellScreen additive = simulate_single_cell(network, p);
  p.interaction_sd = 0.5;
  const SingleCellScreen interacting = simulate_single_cell(network, p);
  const GroundTruth bulk = simulate_screen(single_cell_base_params(network, p)).truth;
  ASSERT_EQ(additive.truth.drugs, interacting.truth.drugs);
  int changed_pairs = 0;
  for (int c = 0; c < p.cell_types; ++c)
    for (std::size_t d = 0; d < additive.truth.drugs.size(); ++d) {
      const auto e = additive.truth.entry(c, std::int64_t(d));
      if (additive.parts[d].size() == 1) {
        EXPECT_EQ(additive.truth.signatures.col(e), interacting.truth.signatures.col(e)) << "a single is unchanged";
        continue;
      }
      // log(pi_interacting / pi_additive) = interaction - log(normaliser ratio): constant on untouched genes.
      const Eigen::ArrayXd log_ratio = (shares(interacting, p, c, d).array() / shares(additive, p, c, d).array()).log();
      std::vector<double> untouched;
      bool any_touched_differs = false;
      for (Eigen::Index g = 0; g < 40; ++g) {
        bool touched = false;
        for (const int part : additive.parts[d]) touched = touched || bulk.signatures(g, bulk.entry(c, part)) != 0;
        if (touched)
          any_touched_differs = true;
        else
          untouched.push_back(log_ratio[g]);
      }
      if (!any_touched_differs) continue;
      ++changed_pairs;
      EXPECT_GT(log_ratio.maxCoeff() - log_ratio.minCoeff(), 0.01) << additive.truth.drugs[d];
      if (!untouched.empty()) {
        const auto [low, high] = std::minmax_element(untouched.begin(), untouched.end());
        EXPECT_LT(*high - *low, 1e-9) << additive.truth.drugs[d];
      }
    }
  EXPECT_GT(changed_pairs, 0);
}

// With no size-factor spread, a control cell's counts are Poisson(library_size * pi): mean and variance both equal
// the rate, on genes below 10 (inversion) and above (transformed rejection). 4000 cells: the sample mean is within
// 5 standard errors and the variance / mean within 0.12 of 1 (its sd is about sqrt(2 / 4000) = 0.022).
TEST(SingleCellScreen, CountsArePoissonAroundTheGroupRates) {
  SingleCellParams p = small_screen();
  p.cell_types = 1;
  p.control_cells = 4000;
  p.library_sd = 0;
  p.library_size = 1000;
  const SingleCellScreen s = simulate_single_cell(small_network(), p);
  const Eigen::MatrixXd counts = dense(s.counts).topRows(4000);
  ASSERT_TRUE(std::all_of(column(s.obs, "perturbation").text.begin(), column(s.obs, "perturbation").text.begin() + 4000,
                          [](const auto& v) { return v == "ctrl"; }));
  int small = 0, large = 0;
  for (Eigen::Index g = 0; g < 40; ++g) {
    const double rate = 1000 * s.control_proportions(g, 0);
    const double mean = counts.col(g).mean();
    const double variance = (counts.col(g).array() - mean).square().sum() / 3999;
    EXPECT_NEAR(mean, rate, 5 * std::sqrt(rate / 4000)) << "gene " << g;
    if (rate > 0.5) {
      EXPECT_NEAR(variance / mean, 1.0, 0.12) << "gene " << g << " rate " << rate;
    }
    (rate < 10 ? small : large) += rate > 0.5;
  }
  EXPECT_GT(small, 0);
  EXPECT_GT(large, 0);
}

// The file, read back by the h5ad reader, holds exactly the simulated counts; the mean of each group's
// normalize_total counts minus its cell type's control mean agrees with the truth by a z-test on every gene of
// every measured group (|z| < 5; mean z^2 near 1, so the truth is neither biased nor the tolerance loose).
TEST(SingleCellScreen, FileReadsBackAndItsPseudobulkConvergesToTheTruth) {
  const fs::path dir = tessera::testing::scratch_dir("tessera_test_single_cell_screen", "pseudobulk");
  SingleCellParams p = small_screen();
  p.cells_per_group = 1500;
  p.control_cells = 3000;
  const SingleCellScreen s = simulate_single_cell(small_network(), p);
  write_single_cell_screen(dir / "screen.h5ad", s);
  const engine::Context self(MPI_COMM_SELF);
  const auto read = io::read_h5ad_local<double>(dir / "screen.h5ad", self);
  ASSERT_EQ(read.values.cols(), s.counts.rows);
  ASSERT_EQ(read.values.rows(), 40);
  EXPECT_EQ(read.values, dense(s.counts).transpose());
  EXPECT_EQ(read.rows.ids, s.genes);
  EXPECT_EQ(read.cols.ids, s.obs.ids);
  EXPECT_EQ(column(read.cols, "perturbation").text, column(s.obs, "perturbation").text);
  EXPECT_EQ(column(read.cols, "cell_type").text, column(s.obs, "cell_type").text);

  // Per group: sum and sum of squares of normalised counts, and the cell count.
  struct Moments {
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(40), squares = Eigen::ArrayXd::Zero(40);
    double n = 0;
  };
  std::map<std::pair<std::string, std::string>, Moments> groups;
  const auto& perturbation = column(read.cols, "perturbation").text;
  const auto& cell_type = column(read.cols, "cell_type").text;
  for (Eigen::Index i = 0; i < read.values.cols(); ++i) {
    const double total = read.values.col(i).sum();
    ASSERT_GT(total, 0) << "no cell without counts at these sizes";
    const Eigen::ArrayXd normalised = read.values.col(i).array() / total * p.target_sum;
    auto& m = groups[{cell_type[std::size_t(i)], perturbation[std::size_t(i)]}];
    m.sum += normalised, m.squares += normalised.square(), m.n += 1;
  }
  auto mean_and_error = [](const Moments& m) {
    const Eigen::ArrayXd mean = m.sum / m.n;
    const Eigen::ArrayXd variance = (m.squares - m.n * mean.square()) / (m.n - 1);
    return std::pair<Eigen::ArrayXd, Eigen::ArrayXd>(mean, variance / m.n);  // evaluated: no expression outlives it
  };
  // Tessera's own pseudobulk (io/pseudobulk.h, normalize_total at target_sum, no log1p) gives the same group means.
  {
    const io::H5adCells file(dir / "screen.h5ad", self);
    std::vector<std::int64_t> group_of_cell;
    std::vector<const Moments*> moments;
    std::map<std::pair<std::string, std::string>, std::int64_t> index;
    for (std::size_t i = 0; i < perturbation.size(); ++i) {
      const auto key = std::pair{cell_type[i], perturbation[i]};
      if (!index.count(key)) index[key] = std::int64_t(moments.size()), moments.push_back(&groups.at(key));
      group_of_cell.push_back(index[key]);
    }
    std::vector<std::int64_t> genes(40);
    std::iota(genes.begin(), genes.end(), 0);
    const auto bulk = io::pseudobulk(self, file, group_of_cell, std::int64_t(moments.size()), genes,
                                     io::PseudobulkOptions{p.target_sum, false});
    for (std::size_t k = 0; k < moments.size(); ++k) {
      const Eigen::ArrayXd mean = moments[k]->sum / moments[k]->n;
      EXPECT_LT((bulk.means.col(Eigen::Index(k)).array() - mean).abs().maxCoeff(), 1e-9 * mean.abs().maxCoeff());
      EXPECT_EQ(bulk.cells[k], std::int64_t(moments[k]->n));
    }
  }
  double z_squares = 0, max_z = 0;
  int tests = 0;
  for (int c = 0; c < p.cell_types; ++c) {
    const std::string& cell = s.truth.cells[std::size_t(c)];
    const auto [control_mean, control_error] = mean_and_error(groups.at({cell, "ctrl"}));
    for (std::size_t d = 0; d < s.truth.drugs.size(); ++d) {
      if (!s.truth.observed[std::size_t(s.truth.entry(c, std::int64_t(d)))]) continue;
      const auto [mean, error] = mean_and_error(groups.at({cell, s.truth.drugs[d]}));
      const Eigen::ArrayXd truth = s.truth.signatures.col(s.truth.entry(c, std::int64_t(d))).array();
      for (Eigen::Index g = 0; g < 40; ++g) {
        const double se = std::sqrt(error[g] + control_error[g]);
        if (se == 0) continue;  // a gene never seen in either group
        const double z = (mean[g] - control_mean[g] - truth[g]) / se;
        z_squares += z * z, max_z = std::max(max_z, std::abs(z)), ++tests;
      }
    }
  }
  ASSERT_GT(tests, 200);
  EXPECT_LT(max_z, 5.0);
  EXPECT_NEAR(z_squares / tests, 1.0, 0.25) << tests << " comparisons";
  fs::remove_all(dir.parent_path());  // scratch_dir's per-process folder too
}

TEST(SingleCellScreen, AnndataSeesTheShapeCategoriesAndTotal) {
  if (const std::string why = tessera::testing::why_no_anndata(); !why.empty()) GTEST_SKIP() << why;
  const fs::path dir = tessera::testing::scratch_dir("tessera_test_single_cell_screen", "anndata");
  const SingleCellParams p = small_screen();
  const SingleCellScreen s = simulate_single_cell(small_network(), p);
  write_single_cell_screen(dir / "screen.h5ad", s);
  const auto seen = tessera::testing::read_with_anndata(TESSERA_H5AD_CSR_CHECK, dir / "screen.h5ad");
  double total = 0;
  for (const float v : s.counts.data) total += v;
  const auto& x = seen.one("X");
  ASSERT_EQ(x.size(), 6u) << seen.report;
  EXPECT_EQ(std::vector<std::string>(x.begin(), x.begin() + 5),
            (std::vector<std::string>{"csr_matrix", "float32", std::to_string(s.counts.rows), "40",
                                      std::to_string(s.counts.nonzeros())}));
  EXPECT_EQ(std::stod(x[5]), total);  // integer counts: exact
  for (const char* name : {"perturbation", "cell_type", "condition"}) {
    std::vector<std::string> categories = column(s.obs, name).text;
    std::sort(categories.begin(), categories.end());
    categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
    EXPECT_EQ(seen.one(std::string("obs_column:") + name)[0], "category") << name;
    EXPECT_EQ(seen.one(std::string("obs_categories:") + name), categories) << name;
    EXPECT_EQ(seen.one(std::string("obs_values:") + name), column(s.obs, name).text) << name;
  }
  EXPECT_EQ(seen.one("var_index"), s.genes);
  EXPECT_EQ(seen.one("anndata_differences"), std::vector<std::string>{"0"}) << seen.report;
  fs::remove_all(dir.parent_path());  // scratch_dir's per-process folder too
}

// The truth file is compared by content: io::Hdf5Writer stores object modification times, so its bytes change from
// one second to the next.
TEST(SingleCellScreen, TheSameSeedGivesTheSameBytesAndTheTruthReadsBack) {
  const fs::path dir = tessera::testing::scratch_dir("tessera_test_single_cell_screen", "bytes");
  const SingleCellParams p = small_screen();
  for (const char* name : {"a", "b"}) {
    const SingleCellScreen s = simulate_single_cell(small_network(11), p);
    write_single_cell_screen(dir / (std::string(name) + ".h5ad"), s);
    write_ground_truth(dir / (std::string(name) + "_truth.h5"), s.truth);
  }
  const SingleCellScreen other = simulate_single_cell(small_network(12), p);
  write_single_cell_screen(dir / "c.h5ad", other);
  EXPECT_TRUE(bytes_of(dir / "a.h5ad") == bytes_of(dir / "b.h5ad"));
  EXPECT_FALSE(bytes_of(dir / "a.h5ad") == bytes_of(dir / "c.h5ad"));

  const SingleCellScreen s = simulate_single_cell(small_network(11), p);
  const GroundTruth truth = read_ground_truth(dir / "a_truth.h5");
  EXPECT_EQ(truth.drugs, s.truth.drugs);
  EXPECT_EQ(truth.cells, s.truth.cells);
  EXPECT_EQ(truth.observed, s.truth.observed);
  EXPECT_EQ(truth.signatures, s.truth.signatures);
  EXPECT_EQ(read_ground_truth(dir / "b_truth.h5").signatures, s.truth.signatures);
  fs::remove_all(dir.parent_path());  // scratch_dir's per-process folder too
}

TEST(SingleCellScreen, DefaultsAreValidAndSmall) {
  const SingleCellParams p;
  EXPECT_NO_THROW(p.validate());
  EXPECT_NO_THROW(single_cell_base_params(SimulationParams{}, p).validate());
  // The knobs share `tessera simulate`'s options with the bulk and release modes: no name may repeat theirs.
  std::set<std::string> names;
  SimulationParams bulk;
  LincsReleaseParams release;
  engine::for_each_knob(bulk, [&](const char* name, const auto&, const char*) { names.insert(name); });
  engine::for_each_knob(release, [&](const char* name, const auto&, const char*) { names.insert(name); });
  engine::for_each_knob(p, [&](const char* name, const auto&, const char*) {
    EXPECT_TRUE(names.insert(name).second) << name << " is also a knob of another simulate mode";
  });
  EXPECT_EQ(std::int64_t(p.cell_types) * (p.control_cells + (p.singles + p.pairs) * p.cells_per_group), 3 * 900);
}

TEST(SingleCellScreen, RefusesImpossibleSizes) {
  SingleCellParams p = small_screen();
  p.pairs = 7;
  EXPECT_EQ(message_of([&] { p.validate(); }),
            "single-cell simulation parameter pairs = 7 exceeds the 6 distinct pairs of 4 singles; lower --pairs or "
            "raise --singles");
  p = small_screen();
  p.cells_per_group = 0;
  EXPECT_EQ(message_of([&] { p.validate(); }),
            "--cells-per-group 0 is invalid: the allowed values of cells_per_group are in [1, 1000000]");
}

}  // namespace
}  // namespace tessera::solvers::simulation
