// Latent-space drug pairs (solvers/autoencoder/latent_pairs.h) ranked by `tessera rank --pairs --pair-space
// latent`: the closed form of a linear autoencoder, the direct formula dec(z_c + delta_i + delta_j) on a
// nonlinear encoder, pairs of two cell types never ranked, the same table on 1, 2 and 3 ranks (an MPI test),
// loading a `tessera train` folder, and the errors for a missing control row or a model of other genes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "engine/context.h"
#include "engine/random.h"
#include "io/hdf5_file.h"
#include "solvers/autoencoder/checkpoint.h"
#include "solvers/autoencoder/latent_pairs.h"
#include "solvers/autoencoder/linear_autoencoder.h"
#include "solvers/search/cell_controls.h"
#include "solvers/search/rank.h"
#include "solvers/search/top_k.h"
#include "tests/support/test_helpers.h"

namespace ae = tessera::solvers::autoencoder;
namespace search = tessera::solvers::search;
using tessera::engine::Context;

namespace {

// n signatures over `genes` genes; cell types cycle through `cells` ("A", "B", ...).
tessera::io::GeneMatrix random_library(int n, int genes, int cells, std::uint64_t seed) {
  tessera::io::GeneMatrix m;
  for (int g = 0; g < genes; ++g) m.rows.ids.push_back(std::to_string(1000 + g));
  tessera::engine::RandomStream random(seed, "test/latent_pairs/library");
  m.values.resize(genes, n);
  for (Eigen::Index i = 0; i < m.values.size(); ++i) m.values.data()[i] = float(random.normal());
  tessera::io::MetaColumn cell{"cell_id", tessera::io::MetaType::kString, {}, {}};
  tessera::io::MetaColumn pert{"pert_id", tessera::io::MetaType::kString, {}, {}};
  for (int c = 0; c < n; ++c) {
    m.cols.ids.push_back("sig" + std::to_string(c));
    cell.text.push_back(std::string(1, char('A' + c % cells)));
    pert.text.push_back("drug" + std::to_string(c));
  }
  m.cols.fields = {cell, pert};
  return m;
}

Eigen::MatrixXf random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed, double sd = 1.0) {
  tessera::engine::RandomStream random(seed, "test/latent_pairs/matrix");
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = float(sd * random.normal());
  return m;
}

ae::ProfileScaling random_scaling(Eigen::Index genes, std::uint64_t seed) {
  tessera::engine::RandomStream random(seed, "test/latent_pairs/scaling");
  ae::ProfileScaling s;
  s.mean.resize(genes);
  s.scale.resize(genes);
  for (Eigen::Index g = 0; g < genes; ++g)
    s.mean(g) = float(random.normal()), s.scale(g) = float(0.5 + random.uniform(0, 1));
  return s;
}

// A linear, bias-free autoencoder with encoder U^T and decoder U (U: genes x k, orthonormal columns).
std::unique_ptr<ae::Trainer> linear_model(const Context& ctx, const Eigen::MatrixXd& basis) {
  ae::AutoencoderParams p;
  p.width = int(basis.cols());
  p.activation = ae::Activation::kLinear;
  p.threads = 1;
  auto trainer = std::make_unique<ae::Trainer>(ctx, p, basis.rows());
  auto state = trainer->state();
  const Eigen::Index g = basis.rows(), k = basis.cols();
  // Weights are [out, in] row-major: the encoder's is U^T (k x g), the decoder's U (g x k).
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> enc = basis.transpose().cast<float>();
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> dec = basis.cast<float>();
  state.parameters[0].assign(enc.data(), enc.data() + k * g);
  state.parameters[1].assign(dec.data(), dec.data() + g * k);
  trainer->load_state(state);
  return trainer;
}

std::unique_ptr<ae::Trainer> nonlinear_model(const Context& ctx, Eigen::Index genes, int width) {
  ae::AutoencoderParams p;
  p.width = width;
  p.depth = 2;
  p.bias = true;
  p.threads = 1;
  p.seed = 7;
  return std::make_unique<ae::Trainer>(ctx, p, genes);  // PyTorch-style random initialisation: nonlinear enough
}

search::CellControls controls_of(const search::Library& library, std::uint64_t seed) {
  tessera::io::CsvTable table;
  table.header.push_back("cell_iname");
  // Genes in another order than the library's, plus an extra column that must be ignored.
  for (std::int64_t g = library.num_genes() - 1; g >= 0; --g)
    table.header.push_back(library.rows().ids[std::size_t(g)]);
  table.header.push_back("99999");
  const Eigen::MatrixXf values = random_matrix(Eigen::Index(table.header.size()), 4, seed, 2.0);
  for (int c = 0; c < 4; ++c) {
    std::vector<std::string> row{std::string(1, char('A' + (3 - c)))};  // cells listed D, C, B, A
    for (std::size_t g = 1; g < table.header.size(); ++g) row.push_back(std::to_string(values(Eigen::Index(g), c)));
    table.rows.push_back(row);
  }
  return search::match_cell_controls(table, "controls.csv", library);
}

search::PreparedQuery full_query(Eigen::Index genes, std::uint64_t seed) {
  const Eigen::MatrixXf q = random_matrix(genes, 1, seed);
  std::vector<int> rows(static_cast<std::size_t>(genes));
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<double> values(q.data(), q.data() + genes);
  return search::prepare_query(rows, values, int(genes), int(std::min<Eigen::Index>(15, genes / 4)));
}

}  // namespace

TEST(CellControls, MatchesGenesAndCellsInAnyOrder) {
  search::Library library;
  library.add(random_library(10, 12, 3, 1), "", {});
  const auto controls = controls_of(library, 2);
  EXPECT_EQ(controls.field, "id");
  EXPECT_EQ(controls.cells, (std::vector<std::string>{"A", "B", "C"}));
  ASSERT_EQ(controls.values.rows(), 12);
  ASSERT_EQ(controls.values.cols(), 3);
  for (std::int64_t k = 0; k < library.size(); ++k)
    EXPECT_EQ(controls.cells[std::size_t(controls.cell_of[std::size_t(k)])], library.info(k).cell);
  // Library gene g is header column 12 - g (reversed), random_matrix row 12 - g; cell A is CSV row 3.
  const Eigen::MatrixXf values = random_matrix(14, 4, 2, 2.0);
  EXPECT_NEAR(controls.values(0, 0), values(12, 3), 1e-5);
  EXPECT_NEAR(controls.values(5, 1), values(7, 2), 1e-5);
}

TEST(CellControls, MissingRowOrGeneIsAnErrorNamingIt) {
  search::Library library;
  library.add(random_library(8, 6, 2, 3), "", {});
  tessera::io::CsvTable table;
  table.header = {"cell_iname", "1000", "1001", "1002", "1003", "1004", "1005"};
  table.rows = {{"A", "1", "2", "3", "4", "5", "6"}};
  const auto message = tessera::testing::error_of([&] { search::match_cell_controls(table, "c.csv", library); });
  tessera::testing::expect_mentions(message, {"c.csv", "no control row for cell type 'B'", "--cell"});
  table.header[3] = "foo";
  table.rows.push_back({"B", "1", "2", "3", "4", "5", "6"});
  const auto genes = tessera::testing::error_of([&] { search::match_cell_controls(table, "c.csv", library); });
  tessera::testing::expect_mentions(genes, {"1 of the library's 6 genes have no column", "1002"});
  table.header[3] = "1002";
  table.rows[1][2] = "NA";
  const auto value = tessera::testing::error_of([&] { search::match_cell_controls(table, "c.csv", library); });
  tessera::testing::expect_mentions(value, {"cell 'B'", "not a finite number"});
}

// Linear autoencoder, encoder U^T, decoder U, scaling x -> (x - m) / s: a pair (i, j) of one cell type is
// s * P ((y_i + y_j) / s) with P = U U^T (the control and the mean cancel), whatever the control.
TEST(LatentPairs, LinearAutoencoderIsTheProjectedSum) {
  const Context world;
  const int genes = 20, k = 6;
  const auto basis = ae::fit_linear_autoencoder(random_matrix(genes, 40, 11).cast<double>(), k).basis;
  const auto model = linear_model(world, basis);
  const auto scaling = random_scaling(genes, 12);
  search::Library library;
  library.add(random_library(9, genes, 2, 13), "", {});
  const auto controls = controls_of(library, 14);
  ae::LatentPairs pairs(world, *model, scaling, library.values(), controls.values, controls.cell_of);
  EXPECT_EQ(pairs.latent_width(), k);
  const Eigen::MatrixXd projector = basis * basis.transpose();
  const Eigen::ArrayXd s = scaling.scale.cast<double>().array();
  Eigen::VectorXf out(genes);
  int combined = 0;
  for (std::int64_t i = 0; i < library.size(); ++i)
    for (std::int64_t j = i + 1; j < library.size(); ++j) {
      const bool same = library.info(i).cell == library.info(j).cell;
      ASSERT_EQ(pairs.combine(i, j, {out.data(), std::size_t(genes)}), same) << i << " " << j;
      if (!same) continue;
      ++combined;
      const Eigen::ArrayXd sum = (library.values().col(i) + library.values().col(j)).cast<double>().array();
      const Eigen::VectorXd expected = s * (projector * (sum / s).matrix()).array();
      EXPECT_LT((out.cast<double>() - expected).cwiseAbs().maxCoeff(), 1e-4 * (1 + expected.cwiseAbs().maxCoeff()))
          << i << " " << j;
    }
  EXPECT_EQ(combined, 5 * 4 / 2 + 4 * 3 / 2);
}

// On a nonlinear encoder (depth 2, bias, leaky ReLU) the precomputed sum equals the defining formula
// undo(dec(z_c + delta_i + delta_j)) - undo(dec(z_c)) evaluated directly (the decoder is affine).
TEST(LatentPairs, EqualsTheDirectFormulaOnANonlinearEncoder) {
  const Context world;
  const int genes = 16;
  const auto model = nonlinear_model(world, genes, 24);
  const auto scaling = random_scaling(genes, 21);
  search::Library library;
  library.add(random_library(8, genes, 2, 22), "", {});
  const auto controls = controls_of(library, 23);
  ae::LatentPairs pairs(world, *model, scaling, library.values(), controls.values, controls.cell_of);
  Eigen::VectorXf out(genes);
  for (std::int64_t i = 0; i < library.size(); ++i)
    for (std::int64_t j = i + 2; j < library.size(); j += 2) {  // same cell type: same parity
      const Eigen::MatrixXf x = controls.values.col(controls.cell_of[std::size_t(i)]);
      const Eigen::MatrixXf z = model->encode(scaling.apply(x));
      const Eigen::MatrixXf zi = model->encode(scaling.apply(x + library.values().col(i))) - z;
      const Eigen::MatrixXf zj = model->encode(scaling.apply(x + library.values().col(j))) - z;
      const Eigen::VectorXf direct = scaling.undo(model->decode(z + zi + zj)) - scaling.undo(model->decode(z));
      ASSERT_TRUE(pairs.combine(i, j, {out.data(), std::size_t(genes)}));
      EXPECT_LT((out - direct).cwiseAbs().maxCoeff(), 1e-4f * (1 + direct.cwiseAbs().maxCoeff())) << i << " " << j;
      EXPECT_GT((out - (library.values().col(i) + library.values().col(j))).norm(), 1e-2f);  // not the gene sum
    }
}

// Ranked with latent pairs: every candidate's score equals a brute-force recomputation, no pair of two cell
// types is ever ranked (even when k exceeds the candidates), and 1 rank (MPI_COMM_SELF) and all ranks return
// the same table. The gene path with no combiner is unchanged (tests/solvers/search/test_rank.cpp).
TEST(LatentPairs, RankedTopKNeverMixesCellTypesAndIsTheSameOnAnyRankCount) {
  const Context world;
  const int genes = 40;
  const auto model = nonlinear_model(world, genes, 32);
  search::Library library;
  library.add(random_library(21, genes, 3, 31), "", {});
  const auto controls = controls_of(library, 32);
  ae::LatentPairs pairs(world, *model, random_scaling(genes, 33), library.values(), controls.values, controls.cell_of);
  const auto query = full_query(genes, 34);
  const std::int64_t n = library.size(), same_cell_pairs = 3 * (7 * 6 / 2);
  for (std::size_t k : {std::size_t(12), std::size_t(1000)}) {
    search::RankOptions options;
    options.top_k = k;
    options.pairs = true;
    options.progress = false;
    options.pair_signature = &pairs;
    const auto result = search::rank_candidates(world, library, query, options);
    EXPECT_EQ(result.candidates, n + same_cell_pairs);
    EXPECT_EQ(result.declined, n * (n - 1) / 2 - same_cell_pairs);
    ASSERT_EQ(result.top.size(), std::min<std::size_t>(k, std::size_t(n + same_cell_pairs)));
    search::Scorer scorer(query);
    std::vector<search::Ranked> all;
    const search::CandidateSpace space{n, true};
    Eigen::VectorXf s(genes);
    for (std::int64_t c = 0; c < space.size(); ++c) {
      const auto [i, j] = space.decode(c);
      if (j < 0)
        s = library.values().col(i);
      else if (!pairs.combine(i, j, {s.data(), std::size_t(genes)}))
        continue;
      all.push_back({scorer.score({s.data(), std::size_t(genes)}, options.rank_by), c});
    }
    std::sort(all.begin(), all.end(), search::better);
    for (std::size_t r = 0; r < result.top.size(); ++r) {
      const auto& c = result.top[r];
      EXPECT_EQ(c.index, all[r].index) << r;
      EXPECT_EQ(c.score, all[r].score) << r;
      EXPECT_EQ(c.score, c.scores.connectivity()) << r;
      if (c.second >= 0) {
        EXPECT_EQ(library.info(c.first).cell, library.info(c.second).cell) << r;
      }
    }
    const auto serial = search::rank_candidates(Context(MPI_COMM_SELF), library, query, options);
    ASSERT_EQ(serial.top.size(), result.top.size());
    for (std::size_t r = 0; r < result.top.size(); ++r) {
      EXPECT_EQ(serial.top[r].index, result.top[r].index) << r;
      EXPECT_EQ(serial.top[r].score, result.top[r].score) << r;
    }
  }
}

// A checkpoint's /params text reads back into the same knobs, enum knobs by their names (the device forced to
// cpu: inference here is CPU-only); a name outside a knob's table is an error naming the knob and the text.
TEST(LatentPairs, CheckpointParamsReadBackByName) {
  ae::AutoencoderParams p;
  p.width = 8;
  p.activation = ae::Activation::kTanh;
  p.optimizer = ae::OptimizerKind::kSgd;
  p.device = ae::Device::kCuda;
  p.transport = ae::Transport::kNearest;
  std::vector<std::string> names, values;
  for (const auto& [name, value] : ae::params_as_text(p)) names.push_back(name), values.push_back(value);
  const auto q = ae::params_from_text(names, values);
  EXPECT_EQ(q.width, 8);
  EXPECT_EQ(q.activation, ae::Activation::kTanh);
  EXPECT_EQ(q.optimizer, ae::OptimizerKind::kSgd);
  EXPECT_EQ(q.device, ae::Device::kCpu);
  EXPECT_EQ(q.transport, ae::Transport::kNearest);
  const auto activation = std::find(names.begin(), names.end(), "ae_activation") - names.begin();
  values[std::size_t(activation)] = "gelu";
  tessera::testing::expect_mentions(tessera::testing::error_of([&] { ae::params_from_text(names, values); }),
                                    {"checkpoint parameter ae_activation has an unreadable value 'gelu'"});
}

TEST(LatentPairs, ModelOfOtherGenesIsAnError) {
  const Context world;
  const auto model = nonlinear_model(world, 13, 8);
  search::Library library;
  library.add(random_library(6, 12, 2, 41), "", {});
  const auto controls = controls_of(library, 42);
  const auto message = tessera::testing::error_of(
      [&] { ae::LatentPairs(world, *model, {}, library.values(), controls.values, controls.cell_of); });
  tessera::testing::expect_mentions(message, {"trained on 13 genes", "the library has 12", "--genes"});
}

// A `tessera train` folder (checkpoints/latest, scaling.h5) loads into the same model; an empty folder is an error.
TEST(LatentPairs, LoadsATrainFolder) {
  const Context world;
  const int genes = 12;
  const auto model = nonlinear_model(world, genes, 10);
  const auto scaling = random_scaling(genes, 51);
  const auto dir = tessera::testing::scratch_dir("tessera_latent_pairs", "train");
  auto state = model->state();
  ae::write_checkpoint(dir / "checkpoints", state);
  {
    tessera::io::Hdf5Writer file(dir / "scaling.h5");
    file.write_vector("/mean", {scaling.mean.begin(), scaling.mean.end()});
    file.write_vector("/scale", {scaling.scale.begin(), scaling.scale.end()});
  }
  const auto loaded = ae::load_latent_model(world, dir);
  EXPECT_EQ(loaded.trainer->flat_parameters(), model->flat_parameters());
  EXPECT_EQ(loaded.trainer->params().width, 10);
  EXPECT_EQ(loaded.trainer->params().depth, 2);
  EXPECT_TRUE(loaded.scaling.mean.isApprox(scaling.mean));
  EXPECT_TRUE(loaded.scaling.scale.isApprox(scaling.scale));
  const auto empty = tessera::testing::scratch_dir("tessera_latent_pairs", "empty");
  tessera::testing::expect_mentions(tessera::testing::error_of([&] { ae::load_latent_model(world, empty); }),
                                    {"no trained model", "tessera train"});
}
