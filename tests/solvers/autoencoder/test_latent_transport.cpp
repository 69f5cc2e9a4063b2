// The `autoencoder` imputation method (latent transport) and the alignment report on a small synthetic table
// where each drug moves every cell type alike (y(c, d) = v_d + small noise): transporting the drug's latent shift
// from the other cell types must recover the held-out signatures.
#include <gtest/gtest.h>

#include "engine/random.h"
#include "solvers/autoencoder/alignment.h"
#include "solvers/autoencoder/latent_transport.h"
#include "solvers/registry.h"
#include "tests/support/test_helpers.h"

namespace ae = tessera::solvers::autoencoder;
using tessera::engine::Context;

namespace {

tessera::io::PerturbationTable shared_effect_table(int genes, int cells, int perts) {
  tessera::engine::RandomStream random(23, "test/ae/table");
  tessera::io::PerturbationTable t;
  // append(), not "g" + ...: GCC 12 warns falsely (-Wrestrict) on a literal + a temporary string.
  for (int g = 0; g < genes; ++g) t.genes.push_back(std::string("g").append(std::to_string(g)));
  for (int c = 0; c < cells; ++c) t.cells.push_back(std::string("c").append(std::to_string(c)));
  for (int p = 0; p < perts; ++p) t.perts.push_back(std::string("p").append(std::to_string(p)));
  Eigen::MatrixXd effect(genes, perts);
  for (int i = 0; i < effect.size(); ++i) effect.data()[i] = random.normal();
  t.controls.resize(genes, cells);
  for (int i = 0; i < t.controls.size(); ++i) t.controls.data()[i] = 0.5 * random.normal();
  t.control_counts.assign(std::size_t(cells), 3);
  Eigen::MatrixXd dense(genes, cells * perts);
  for (int c = 0; c < cells; ++c)
    for (int p = 0; p < perts; ++p)
      for (int g = 0; g < genes; ++g) dense(g, c * perts + p) = effect(g, p) + 0.05 * random.normal();
  t.observed.assign(std::size_t(cells * perts), 1);
  t.replicates.assign(std::size_t(cells * perts), 1);
  t.set_dense(dense);
  return t;
}

ae::AutoencoderParams quick_params() {
  ae::AutoencoderParams p;
  p.width = 32;
  p.batch_size = 8;
  p.max_epochs = 150;
  p.learning_rate = 5e-3;
  p.threads = 1;
  return p;
}

double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b) { return a.dot(b) / (a.norm() * b.norm()); }

}  // namespace

TEST(LatentTransport, RecoversSharedDrugEffects) {
  const Context self(MPI_COMM_SELF);
  const auto table = shared_effect_table(12, 4, 6);
  // Hold out cell type 0's first three drugs.
  std::vector<std::uint8_t> train(table.observed);
  std::vector<std::int64_t> queries;
  for (int p = 0; p < 3; ++p) {
    train[std::size_t(table.entry(0, p))] = 0;
    queries.push_back(table.entry(0, p));
  }
  for (const auto transport : {ae::Transport::kMean, ae::Transport::kNearest}) {
    auto params = quick_params();
    params.transport = transport;
    params.transport_neighbours = 2;
    const ae::LatentTransportImputer imputer(params);
    const Eigen::MatrixXd predicted = imputer.impute(self, table, train, queries);
    ASSERT_EQ(predicted.rows(), table.num_genes());
    ASSERT_EQ(predicted.cols(), 3);
    for (int q = 0; q < 3; ++q)
      EXPECT_GT(cosine(predicted.col(q), table.signature(queries[std::size_t(q)])), 0.8)
          << name_table(transport).name(transport) << " query " << q;
  }
}

TEST(LatentTransport, DrugWithoutDonorsPredictsZero) {
  const Context self(MPI_COMM_SELF);
  auto table = shared_effect_table(6, 3, 3);
  std::vector<std::uint8_t> train(table.observed);
  for (int c = 0; c < 3; ++c) train[std::size_t(table.entry(c, 2))] = 0;  // drug 2 never in training
  auto params = quick_params();
  params.max_epochs = 2;
  const Eigen::MatrixXd predicted = ae::LatentTransportImputer(params).impute(self, table, train, {table.entry(0, 2)});
  EXPECT_EQ(predicted.norm(), 0.0);
}

TEST(LatentTransport, RegisteredInTheMethodTable) {
  tessera::solvers::MethodParams params;
  params.autoencoder.max_epochs = 1;
  const auto imputer = tessera::solvers::make_imputer("autoencoder", params);
  EXPECT_EQ(imputer->name(), "autoencoder");
  const auto names = tessera::solvers::imputation_methods();
  EXPECT_NE(std::find(names.begin(), names.end(), "autoencoder"), names.end());
}

TEST(Alignment, ReportsInputAndLatentCosines) {
  const Context self(MPI_COMM_SELF);
  const auto table = shared_effect_table(8, 3, 5);
  ae::Trainer model(self, quick_params(), table.num_genes());
  Eigen::MatrixXf profiles(table.num_genes(), table.num_entries());
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    profiles.col(e) = (table.controls.col(table.cell_of(e)) + table.signature(e)).cast<float>();
  ae::TrainOptions quiet;
  quiet.poll_signals = false;
  quiet.log_epochs = false;
  model.fit(profiles, quiet);
  const auto rows = ae::alignment_report(model, table, "c0", "c2");
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    EXPECT_GT(row.input_cosine, 0.9) << row.pert;   // shared effects: aligned in the input space
    EXPECT_GT(row.latent_cosine, 0.5) << row.pert;  // and still aligned after encoding
    EXPECT_LE(row.latent_cosine, 1.0 + 1e-9);
  }
  tessera::testing::expect_mentions(tessera::testing::error_of([&] { ae::alignment_report(model, table, "c0", "zz"); }),
                                    {"'zz'"});
}
