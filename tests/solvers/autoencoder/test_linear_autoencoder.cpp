// The closed-form linear autoencoder spans the top-k principal subspace and attains the Eckart-Young error;
// the LibTorch autoencoder with linear activation converges to the same optimum.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include "engine/context.h"
#include "engine/random.h"
#include "solvers/autoencoder/linear_autoencoder.h"
#include "solvers/autoencoder/trainer.h"
#include "tests/support/test_helpers.h"

namespace ae = tessera::solvers::autoencoder;

namespace {

// genes x n samples with a decaying spectrum (distinct eigenvalues, so the top-k subspace is unique) and an offset.
Eigen::MatrixXd low_rank_data(int genes, int n, std::uint64_t seed) {
  tessera::engine::RandomStream random(seed, "test/linear_ae");
  Eigen::MatrixXd mix(genes, genes), latent(genes, n);
  for (int i = 0; i < mix.size(); ++i) mix.data()[i] = random.normal();
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < genes; ++i) latent(i, j) = random.normal() * std::pow(0.7, i);
  Eigen::VectorXd offset(genes);
  for (int i = 0; i < genes; ++i) offset[i] = random.uniform(-3, 3);
  return (mix * latent).colwise() + offset;
}

}  // namespace

TEST(LinearAutoencoder, SpansTopPrincipalSubspace) {
  const int genes = 12, n = 200, k = 4;
  const Eigen::MatrixXd x = low_rank_data(genes, n, 7);
  const auto model = ae::fit_linear_autoencoder(x, k);

  // Reference: the top-k eigenvectors of the sample covariance (a different algorithm than the SVD).
  const Eigen::MatrixXd centred = x.colwise() - x.rowwise().mean();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(centred * centred.transpose());
  const Eigen::MatrixXd top = eigen.eigenvectors().rightCols(k);  // ascending order: the last k
  const Eigen::MatrixXd p_model = model.basis * model.basis.transpose();
  const Eigen::MatrixXd p_pca = top * top.transpose();
  const double eps = std::numeric_limits<double>::epsilon();
  EXPECT_LE((p_model - p_pca).norm(), 1e3 * eps * genes) << "projectors differ";
  EXPECT_LE((model.basis.transpose() * model.basis - Eigen::MatrixXd::Identity(k, k)).norm(), 100 * eps * k);

  // Eckart-Young: the error is the tail of the spectrum.
  double tail = 0;
  for (int i = k; i < model.singular_values.size(); ++i) tail += model.singular_values[i] * model.singular_values[i];
  const double error = model.reconstruction_error(x);
  EXPECT_NEAR(error, tail / n, 1e3 * eps * (centred.squaredNorm() / n));

  // Any other rank-k subspace does worse.
  tessera::engine::RandomStream random(3, "test/linear_ae/other");
  Eigen::MatrixXd other(genes, k);
  for (int i = 0; i < other.size(); ++i) other.data()[i] = random.normal();
  ae::LinearAutoencoder rival = model;
  rival.basis = Eigen::HouseholderQR<Eigen::MatrixXd>(other).householderQ() * Eigen::MatrixXd::Identity(genes, k);
  EXPECT_GT(rival.reconstruction_error(x), error);
}

TEST(LinearAutoencoder, FullRankReconstructsExactly) {
  const Eigen::MatrixXd x = low_rank_data(6, 30, 11);
  const auto model = ae::fit_linear_autoencoder(x, 6);
  EXPECT_LE(model.reconstruction_error(x), 1e3 * std::numeric_limits<double>::epsilon() * x.squaredNorm() / 30);
}

TEST(LinearAutoencoder, RejectsBadRank) {
  const Eigen::MatrixXd x = low_rank_data(5, 8, 1);
  tessera::testing::expect_mentions(tessera::testing::error_of([&] { ae::fit_linear_autoencoder(x, 0); }), {"k = 0"});
  tessera::testing::expect_mentions(tessera::testing::error_of([&] { ae::fit_linear_autoencoder(x, 6); }), {"[1, 5]"});
}

// The LibTorch autoencoder with linear activation and no bias, trained by Adam, approaches the closed-form
// optimum of the uncentred rank-k linear autoencoder from above (it can never beat it).
TEST(LinearAutoencoder, TrainedLinearNetworkApproachesTheClosedForm) {
  const int genes = 8, n = 256, k = 3;
  const Eigen::MatrixXd x = low_rank_data(genes, n, 5);
  const auto optimum = ae::fit_linear_autoencoder(x, k, /*center=*/false);
  const double best = optimum.reconstruction_error(x) / genes;  // the trainer's loss is a mean over genes

  ae::AutoencoderParams params;
  params.width = k;
  params.activation = ae::Activation::kLinear;
  params.learning_rate = 1e-2;
  params.batch_size = 32;
  params.max_epochs = 300;
  params.threads = 1;
  const tessera::engine::Context self(MPI_COMM_SELF);
  ae::Trainer trainer(self, params, genes);
  ae::TrainOptions quiet;
  quiet.poll_signals = false;
  quiet.log_epochs = false;
  trainer.fit(x.cast<float>(), quiet);
  const double trained = trainer.reconstruction_loss(x.cast<float>());
  EXPECT_GE(trained, best * (1 - 1e-4));
  EXPECT_LE(trained, best * 1.10) << "trained " << trained << ", closed form " << best;
}
