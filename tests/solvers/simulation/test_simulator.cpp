// Tests of the CMap-like simulator: closed forms against hand-derived and dense-solve answers, sampling against
// the model's moments, the mask, determinism, metadata, validation, the GCTX path and the truth file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <Eigen/LU>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "engine/error.h"
#include "io/aggregate.h"
#include "io/gctx.h"
#include "io/hdf5_file.h"
#include "solvers/simulation/cmap_simulator.h"

namespace sim = tessera::solvers::simulation;
using sim::Edge, sim::GeneNetwork, sim::Intervention, sim::InterventionKind, sim::LinearSem, sim::SimulationParams;

namespace {

// The hand-made SEM: root 2, chain 2 -> 0 -> 3, fork 2 -> 1; gene labels differ from the order on purpose.
//   x2 = b2 + e2;  x0 = 0.5 x2 + b0 + e0;  x3 = -0.4 x0 + b3 + e3;  x1 = 2 x2 + b1 + e1.
struct HandSem {
  GeneNetwork network{{2, 0, 3, 1}, {{2, 0}, {0, 3}, {2, 1}}};
  LinearSem sem{&network, {}, Eigen::Vector4d(2.0, 0.5, 1.0, 3.0), 1.0};  // b0, b1, b2, b3
  HandSem() {  // weights follow network.edges(), which are sorted by the child's position
    for (const Edge& e : network.edges()) sem.weights.push_back(e.child == 0 ? 0.5 : e.child == 3 ? -0.4 : 2.0);
  }
};

Eigen::MatrixXd dense_i_minus_b(const GeneNetwork& network, const std::vector<double>& weights) {
  return Eigen::MatrixXd::Identity(network.num_genes(), network.num_genes()) -
         Eigen::MatrixXd(network.weight_matrix(weights));
}

double correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const Eigen::VectorXd x = a.array() - a.mean(), y = b.array() - b.mean();
  const double denominator = x.norm() * y.norm();
  return denominator > 0 ? x.dot(y) / denominator : 0.0;
}

double median(std::vector<double> values) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Expects call() to throw a tessera::Error whose message contains every one of `parts`.
template <typename Call>
void expect_error(Call call, std::initializer_list<std::string> parts) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one mentioning '" << *parts.begin() << "'";
  } catch (const tessera::Error& error) {
    for (const auto& part : parts) EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << error.what();
  }
}

}  // namespace

TEST(GeneNetwork, HandMadeShiftEqualsClosedForm) {
  HandSem hand;
  // Means by hand: x2 = 1; x0 = 0.5 + 2 = 2.5; x3 = -1 + 3 = 2; x1 = 2 + 0.5 = 2.5.
  const Eigen::VectorXd mu = hand.sem.mean();
  EXPECT_LT((mu - Eigen::Vector4d(2.5, 2.5, 1.0, 2.0)).norm(), 1e-15);
  // (I - B)^-1 delta by hand, delta = 1.5 on gene 2 and 2 on gene 0:
  //   x2 = 1.5; x0 = 0.5 * 1.5 + 2 = 2.75; x3 = -0.4 * 2.75 = -1.1; x1 = 2 * 1.5 = 3.
  const Eigen::VectorXd effect = hand.sem.effect({InterventionKind::kShift, {2, 0}, {1.5, 2.0}}, mu);
  EXPECT_LT((effect - Eigen::Vector4d(2.75, 3.0, 1.5, -1.1)).norm(), 1e-15);
}

TEST(GeneNetwork, HandMadePerfectInterventionEqualsMutilatedMean) {
  HandSem hand;
  const Eigen::VectorXd mu = hand.sem.mean();
  // do(x0 = 4): the edge 2 -> 0 is cut; x2 = 1, x0 = 4, x3 = -1.6 + 3 = 1.4, x1 = 2.5: change (1.5, 0, 0, -0.6).
  Eigen::VectorXd effect = hand.sem.effect({InterventionKind::kPerfect, {0}, {4.0}}, mu);
  EXPECT_LT((effect - Eigen::Vector4d(1.5, 0.0, 0.0, -0.6)).norm(), 1e-15);
  // do(x2 = 0): x0 = 2, x3 = -0.8 + 3 = 2.2, x1 = 0.5: change (-0.5, -2, -1, 0.2).
  effect = hand.sem.effect({InterventionKind::kPerfect, {2}, {0.0}}, mu);
  EXPECT_LT((effect - Eigen::Vector4d(-0.5, -2.0, -1.0, 0.2)).norm(), 1e-15);
}

TEST(GeneNetwork, RejectsEdgesAgainstTheOrder) {
  EXPECT_THROW(GeneNetwork({0, 1}, {{1, 0}}), tessera::Error);          // back edge
  EXPECT_THROW(GeneNetwork({0, 1}, {{0, 0}}), tessera::Error);          // self loop
  EXPECT_THROW(GeneNetwork({0, 1}, {{0, 1}, {0, 1}}), tessera::Error);  // duplicate
  EXPECT_THROW(GeneNetwork({0, 0}, {}), tessera::Error);                // not a permutation
}

TEST(GeneNetwork, RandomDagIsAcyclicSparseAndHasHubs) {
  tessera::engine::RandomStream random(7, "test/dag");
  const sim::NetworkShape shape;  // defaults: 1.5 parents, 5% hubs, 30% of edges from hubs
  const GeneNetwork network = GeneNetwork::random(978, shape, random);
  std::set<std::pair<int, int>> seen;
  for (const Edge& e : network.edges()) {
    EXPECT_LT(network.position()[std::size_t(e.parent)], network.position()[std::size_t(e.child)]);
    EXPECT_TRUE(seen.insert({e.parent, e.child}).second);
  }
  EXPECT_NEAR(double(network.num_edges()) / 978, shape.expected_parents, 0.15);
  const auto degrees = network.out_degrees();
  double hub_edges = 0;  // hubs are the first round(hub_share * genes) genes of the order
  for (int k = 0; k < std::lround(shape.hub_share * 978); ++k) hub_edges += degrees[std::size_t(network.order()[k])];
  EXPECT_NEAR(hub_edges / double(network.num_edges()), shape.hub_edge_share, 0.06);
}

TEST(Simulator, SignaturesEqualDenseSolve) {
  SimulationParams params;
  params.num_genes = 60, params.num_cells = 3, params.num_drugs = 20, params.target_pool_size = 30;
  params.perfect_share = 0.5, params.seed = 11;
  const auto truth = sim::simulate_screen(params).truth;
  int kinds[2] = {0, 0};
  for (int c = 0; c < params.num_cells; ++c) {
    const LinearSem sem = truth.sem(c);
    const Eigen::MatrixXd i_minus_b = dense_i_minus_b(truth.network, sem.weights);
    const Eigen::VectorXd mu = i_minus_b.partialPivLu().solve(sem.intercepts);
    EXPECT_LT((truth.baseline_means.col(c) - mu).norm(), 1e-12 * mu.norm());
    for (int d = 0; d < params.num_drugs; ++d) {
      const Intervention drug = truth.intervention(c, d);
      ++kinds[int(drug.kind)];
      Eigen::VectorXd expected;
      if (drug.kind == InterventionKind::kShift) {
        Eigen::VectorXd delta = Eigen::VectorXd::Zero(60);
        for (std::size_t t = 0; t < drug.targets.size(); ++t) delta[drug.targets[t]] += drug.values[t];
        expected = i_minus_b.partialPivLu().solve(delta);
      } else {  // the mutilated SEM: targets lose their parents and take their value
        Eigen::MatrixXd mutilated = i_minus_b;
        Eigen::VectorXd b = sem.intercepts;
        for (std::size_t t = 0; t < drug.targets.size(); ++t) {
          mutilated.row(drug.targets[t]) = Eigen::RowVectorXd::Unit(60, drug.targets[t]);
          b[drug.targets[t]] = drug.values[t];
        }
        expected = Eigen::VectorXd(mutilated.partialPivLu().solve(b)) - mu;
      }
      const Eigen::VectorXd actual = truth.signatures.col(truth.entry(c, d));
      EXPECT_LE((actual - expected).norm(), 1e-12 * expected.norm()) << "cell " << c << " drug " << d;
    }
  }
  EXPECT_GT(kinds[0], 0);
  EXPECT_GT(kinds[1], 0);
}

// The moments of many draws of each (cell, drug) match the model: mean mu_c + signature, covariance
// A D A^T + measurement_sd^2 I, with A the (mutilated) total-effect matrix and D the equations' noise variances.
TEST(Simulator, SampleMomentsConvergeToTheModel) {
  SimulationParams params;
  const int n = 20000, genes = 25;
  params.num_genes = genes, params.num_cells = 1, params.num_drugs = 4, params.target_pool_size = 10;
  params.replicates = n, params.controls_per_cell = n, params.perfect_share = 0.5, params.expected_parents = 2.0;
  params.reference_cells = 1, params.reference_density = 1.0, params.seed = 5;
  const auto screen = sim::simulate_screen(params);
  const auto& truth = screen.truth;
  const LinearSem sem = truth.sem(0);
  int kinds[2] = {0, 0};
  for (int block = 0; block <= params.num_drugs; ++block) {  // controls, then each drug (all observed)
    const Eigen::MatrixXd x = screen.samples.values.middleCols(Eigen::Index(block) * n, n).cast<double>();
    Eigen::VectorXd expected_mean = truth.baseline_means.col(0);
    Eigen::MatrixXd i_minus_b = dense_i_minus_b(truth.network, sem.weights);
    Eigen::VectorXd noise_var = Eigen::VectorXd::Constant(genes, params.noise_sd * params.noise_sd);
    if (block > 0) {
      const Intervention drug = truth.intervention(0, block - 1);
      ++kinds[int(drug.kind)];
      expected_mean += truth.signatures.col(truth.entry(0, block - 1));
      if (drug.kind == InterventionKind::kPerfect)
        for (int t : drug.targets) i_minus_b.row(t) = Eigen::RowVectorXd::Unit(genes, t), noise_var[t] = 0;
    }
    const Eigen::MatrixXd a = i_minus_b.inverse();
    const Eigen::MatrixXd expected_cov = a * noise_var.asDiagonal() * a.transpose() +
                                         std::pow(params.measurement_sd, 2) * Eigen::MatrixXd::Identity(genes, genes);
    const Eigen::VectorXd mean = x.rowwise().mean();
    const Eigen::MatrixXd centred = x.colwise() - mean;
    const Eigen::MatrixXd cov = centred * centred.transpose() / (n - 1);
    for (int i = 0; i < genes; ++i) {
      EXPECT_LT(std::abs(mean[i] - expected_mean[i]), 5 * std::sqrt(expected_cov(i, i) / n)) << block << "/" << i;
      for (int j = 0; j < genes; ++j) {  // sd of a normal sample covariance: sqrt((S_ii S_jj + S_ij^2) / n)
        const double error = std::sqrt((expected_cov(i, i) * expected_cov(j, j) + std::pow(expected_cov(i, j), 2)) / n);
        EXPECT_LT(std::abs(cov(i, j) - expected_cov(i, j)), 5 * error) << block << "/" << i << "," << j;
      }
    }
  }
  EXPECT_GT(kinds[0], 0);
  EXPECT_GT(kinds[1], 0);
}

TEST(Simulator, MaskMimicsCmap) {
  SimulationParams params;  // default mask knobs: 2 reference cell types at 0.9, the other 10 at ~0.15
  const int drugs = 3000;
  params.num_genes = 20, params.target_pool_size = 10, params.num_drugs = drugs, params.seed = 3;
  const auto screen = sim::simulate_screen(params);
  const auto& truth = screen.truth;
  ASSERT_EQ(truth.reference_cells.size(), 2u);
  std::vector<double> cells_per_drug(drugs, 0);
  double other_density = 0, observed = 0;
  for (int c = 0; c < params.num_cells; ++c) {
    double count = 0;
    for (int d = 0; d < drugs; ++d) {
      count += truth.observed[std::size_t(truth.entry(c, d))];
      cells_per_drug[std::size_t(d)] += truth.observed[std::size_t(truth.entry(c, d))];
    }
    observed += count;
    const bool reference = std::count(truth.reference_cells.begin(), truth.reference_cells.end(), c) > 0;
    if (reference) {
      EXPECT_NEAR(count / drugs, params.reference_density, 0.025) << truth.cells[std::size_t(c)];
    }
    other_density += reference ? 0.0 : count / drugs / (params.num_cells - 2);
  }
  EXPECT_NEAR(other_density, params.density, 0.02);
  EXPECT_NEAR(observed / (12 * drugs), (2 * 0.9 + 10 * 0.15) / 12, 0.02);
  EXPECT_GE(*std::min_element(cells_per_drug.begin(), cells_per_drug.end()), 1);  // every drug observed
  EXPECT_LE(median(cells_per_drug), 3.0);  // most drugs: the reference cell types and at most one more
  EXPECT_GE(*std::max_element(cells_per_drug.begin(), cells_per_drug.end()), 7);     // popular drugs: many
  EXPECT_EQ(screen.samples.num_signatures(), 12 * 16 + Eigen::Index(observed) * 3);  // controls + replicates
}

TEST(Simulator, DeterministicFromTheSeed) {
  SimulationParams params;
  params.num_genes = 100, params.num_drugs = 30, params.target_pool_size = 20;
  const auto first = sim::simulate_screen(params), second = sim::simulate_screen(params);
  ASSERT_EQ(first.samples.values.size(), second.samples.values.size());
  EXPECT_EQ(0, std::memcmp(first.samples.values.data(), second.samples.values.data(),
                           sizeof(float) * std::size_t(first.samples.values.size())));
  EXPECT_TRUE(first.truth.signatures == second.truth.signatures && first.truth.observed == second.truth.observed);
  EXPECT_EQ(first.samples.cols.ids, second.samples.cols.ids);
  params.seed = 2;
  const auto other = sim::simulate_screen(params);
  EXPECT_TRUE(first.truth.observed != other.truth.observed && first.truth.signatures != other.truth.signatures);
  EXPECT_FALSE(first.samples.values.leftCols(16).isApprox(other.samples.values.leftCols(16)));
}

TEST(Simulator, MetadataFieldsAndUniqueIds) {
  SimulationParams params;
  params.num_genes = 50, params.num_drugs = 40, params.target_pool_size = 20;
  const auto screen = sim::simulate_screen(params);
  const auto& [values, rows, cols] = screen.samples;
  EXPECT_TRUE(rows.ids.size() == 50 && rows.ids.front() == "g0001" && rows.ids.back() == "g0050");
  EXPECT_EQ(rows.require("pr_gene_symbol", "test").text.back(), "GENE0050");
  EXPECT_EQ(screen.truth.cells.front(), "CELL01");
  EXPECT_EQ(screen.truth.drugs.back(), "DRUG0040");
  for (const auto* ids : {&screen.truth.genes, &screen.truth.cells, &screen.truth.drugs})
    EXPECT_TRUE(std::is_sorted(ids->begin(), ids->end()) && std::adjacent_find(ids->begin(), ids->end()) == ids->end());
  EXPECT_EQ(std::set<std::string>(cols.ids.begin(), cols.ids.end()).size(), cols.ids.size());
  std::map<std::string, const std::vector<std::string>*> field;
  for (const char* name : {"cell_id", "pert_id", "pert_iname", "pert_idose", "pert_itime", "pert_type"}) {
    field[name] = &cols.require(name, "test").text;
    ASSERT_EQ(field[name]->size(), cols.ids.size()) << name;
  }
  std::map<std::string, int> controls_per_cell, profiles_per_pair;
  for (std::size_t j = 0; j < cols.ids.size(); ++j) {
    const std::string& type = field["pert_type"]->at(j);
    const std::string& pert = field["pert_id"]->at(j);
    EXPECT_TRUE(type == "ctl_vehicle" ? pert == "DMSO" : type == "trt_cp" && field["pert_idose"]->at(j) == "10 uM");
    EXPECT_EQ(field["pert_itime"]->at(j), "24 h");
    ++(type == "ctl_vehicle" ? controls_per_cell[field["cell_id"]->at(j)]
                             : profiles_per_pair[field["cell_id"]->at(j) + "/" + pert]);
  }
  EXPECT_EQ(controls_per_cell.size(), std::size_t(params.num_cells));
  for (const auto& [cell, count] : controls_per_cell) EXPECT_EQ(count, params.controls_per_cell) << cell;
  const auto& mask = screen.truth.observed;
  EXPECT_EQ(profiles_per_pair.size(), std::size_t(std::count(mask.begin(), mask.end(), 1)));
  for (const auto& [pair, count] : profiles_per_pair) EXPECT_EQ(count, params.replicates) << pair;
}

TEST(Simulator, ValidationNamesTheBadParameter) {
  EXPECT_NO_THROW(SimulationParams{}.validate());
  const auto check = [](auto change, const std::string& name) {
    SimulationParams params;
    change(params);
    expect_error([&] { sim::simulate_screen(params); }, {name, "allowed"});
  };
  check([](auto& p) { p.num_genes = 0; }, "num_genes");
  check([](auto& p) { p.num_drugs = -3; }, "num_drugs");
  check([](auto& p) { p.weight_low = 0.8; }, "weight_low");
  check([](auto& p) { p.weight_high = 1.5; }, "weight_high");
  check([](auto& p) { p.targets_per_drug = 200; }, "targets_per_drug");
  check([](auto& p) { p.reference_cells = 13; }, "reference_cells");
  check([](auto& p) { p.density = 1.5; }, "density");
  check([](auto& p) { p.replicates = 0; }, "replicates");
  check([](auto& p) { p.noise_sd = std::nan(""); }, "noise_sd");
  EXPECT_NE(SimulationParams{}.describe().find("seed=1 num_genes=978 "), std::string::npos);
}

// The default data set, through the engine's own aggregation (mean treated - mean controls): time, gene
// variances and the CMap-like correlations. The printed figures are the calibration report; the bounds keep the
// defaults from drifting out of the realistic regime.
TEST(Simulator, DefaultsAreCalibrated) {
  const SimulationParams params;
  const auto start = std::chrono::steady_clock::now();
  const auto screen = sim::simulate_screen(params);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& truth = screen.truth;
  const int drugs = params.num_drugs;
  // Gene variances (in units of noise_sd^2): sum_j A_ij^2, A = (I - B)^-1 built a column at a time.
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(params.num_genes, params.num_genes);
  for (int j = 0; j < params.num_genes; ++j) truth.network.propagate(truth.sem(0).weights, a.col(j));
  const Eigen::VectorXd variances = a.rowwise().squaredNorm();

  std::vector<double> true_same, true_different, observed_same, observed_different, same_cell;
  for (int d = 0; d < drugs; ++d)
    for (int c1 = 0; c1 < params.num_cells; ++c1)
      for (int c2 = c1 + 1; c2 < params.num_cells; ++c2) {
        const int other = (d + 1 + (c1 * 7 + c2 * 13) % (drugs - 1)) % drugs;  // a different drug, spread out
        const auto column = [&](int c, int drug) { return truth.signatures.col(truth.entry(c, drug)); };
        true_same.push_back(correlation(column(c1, d), column(c2, d)));
        true_different.push_back(correlation(column(c1, d), column(c2, other)));
      }
  const tessera::io::LocalGctx<float> local{
      screen.samples.rows, screen.samples.cols, {0, screen.samples.num_signatures()}, screen.samples.values};
  const auto table = tessera::io::aggregate(tessera::engine::Context(MPI_COMM_SELF), local, {}, "simulation");
  ASSERT_EQ(table.cells, truth.cells);
  ASSERT_EQ(table.perts, truth.drugs);
  std::vector<std::int64_t> observed;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (table.observed[std::size_t(e)]) observed.push_back(e);
  for (std::size_t i = 0; i < observed.size(); ++i)
    for (std::size_t j = i + 1; j < observed.size(); ++j) {
      const auto e = observed[i], f = observed[j];
      // Entries of one cell type share its control mean, which adds a positive correlation: kept apart.
      auto& list = e / drugs == f / drugs ? same_cell : e % drugs == f % drugs ? observed_same : observed_different;
      list.push_back(correlation(table.signature(e), table.signature(f)));
    }
  std::cout << "[calibration] defaults: " << seconds << " s, " << screen.samples.num_signatures() << " profiles, "
            << observed.size() << " observed entries, " << truth.network.num_edges() << " edges; gene variance / "
            << "noise_sd^2: median " << median({variances.data(), variances.data() + variances.size()}) << ", max "
            << variances.maxCoeff() << "\n[calibration] same drug, two cell types: median r true " << median(true_same)
            << ", observed " << median(observed_same) << " (" << observed_same.size() << " pairs)\n"
            << "[calibration] different drugs: median r true " << median(true_different) << ", observed "
            << median(observed_different) << " (two cell types), " << median(same_cell) << " (same cell type)\n";
  EXPECT_LT(variances.maxCoeff(), 20.0);
  EXPECT_TRUE(median(true_same) > 0.5 && median(true_same) < 0.95) << median(true_same);
  EXPECT_TRUE(median(observed_same) > 0.15 && median(observed_same) < 0.5) << median(observed_same);
  EXPECT_LT(std::abs(median(observed_different)), 0.1);
}

// The screen written as GCTX, read back and aggregated by the engine: it finds the simulator's cells, drugs and
// mask, and with many replicates the aggregated signatures approach the true ones (the design is unbiased).
TEST(Simulator, ScreenThroughGctxAndAggregation) {
  SimulationParams params;
  params.num_genes = 30, params.num_cells = 3, params.num_drugs = 8, params.target_pool_size = 10;
  params.replicates = 1500, params.controls_per_cell = 3000, params.seed = 21;
  const auto screen = sim::simulate_screen(params);
  const auto path = std::filesystem::temp_directory_path() / ("tessera_sim_" + std::to_string(::getpid()) + ".gctx");
  tessera::io::write_gctx(path, screen.samples);
  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto local = tessera::io::read_gctx_local<float>(path, self);
  std::filesystem::remove(path);
  EXPECT_EQ(local.cols.ids, screen.samples.cols.ids);
  const auto table = tessera::io::aggregate(self, local, {}, path.string());
  const auto& truth = screen.truth;
  ASSERT_EQ(table.genes, truth.genes);
  ASSERT_EQ(table.cells, truth.cells);
  ASSERT_EQ(table.perts, truth.drugs);
  ASSERT_EQ(table.observed, truth.observed);
  // The noise sd of an aggregated gene is at most sqrt(0.6 / 1500 + 0.6 / 3000) ~ 0.025: allow ~5 sd.
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!table.observed[std::size_t(e)]) continue;
    EXPECT_LT((table.signature(e) - truth.signatures.col(e)).cwiseAbs().maxCoeff(), 0.12) << "entry " << e;
  }
}

TEST(Simulator, GroundTruthFileRoundTrip) {
  SimulationParams params;
  params.num_genes = 40, params.num_drugs = 15, params.target_pool_size = 20, params.seed = 99;
  const auto truth = sim::simulate_screen(params).truth;
  const auto folder = std::filesystem::temp_directory_path() / ("tessera_sim_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  sim::write_ground_truth(folder / "truth.h5", truth);
  const auto back = sim::read_ground_truth(folder / "truth.h5");
  EXPECT_EQ(back.params.describe(), truth.params.describe());
  EXPECT_EQ(back.params.seed, truth.params.seed);
  EXPECT_TRUE(back.genes == truth.genes && back.gene_symbols == truth.gene_symbols);
  EXPECT_TRUE(back.cells == truth.cells && back.drugs == truth.drugs);
  EXPECT_EQ(back.signatures, truth.signatures);
  EXPECT_EQ(back.observed, truth.observed);
  EXPECT_EQ(back.reference_cells, truth.reference_cells);
  EXPECT_TRUE(back.baseline_means == truth.baseline_means && back.intercepts == truth.intercepts);
  EXPECT_TRUE(back.network.order() == truth.network.order() && back.network.edges() == truth.network.edges());
  EXPECT_EQ(back.edge_weights, truth.edge_weights);
  EXPECT_EQ(back.kinds, truth.kinds);
  EXPECT_TRUE(back.target_offsets == truth.target_offsets && back.target_genes == truth.target_genes);
  EXPECT_EQ(back.target_values, truth.target_values);
  const Eigen::VectorXd again = back.sem(1).effect(back.intervention(1, 4), back.baseline_means.col(1));
  EXPECT_EQ(again, truth.signatures.col(truth.entry(1, 4)));  // the model read back reproduces its signatures

  {  // an HDF5 file that is not a truth file, and a file that is not HDF5 at all
    tessera::io::Hdf5Writer writer(folder / "other.h5");
    writer.write_vector("/something/else", {1.0, 2.0});
  }
  expect_error([&] { sim::read_ground_truth(folder / "other.h5"); }, {"other.h5", "not a Tessera simulation truth"});
  std::ofstream(folder / "text.h5") << "hello";
  EXPECT_THROW(sim::read_ground_truth(folder / "text.h5"), tessera::Error);
  std::filesystem::remove_all(folder);
}
