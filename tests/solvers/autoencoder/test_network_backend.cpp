// The autoencoder's LibTorch backend (solvers/autoencoder/network_backend.h): loaded into the process only when
// the first network is built, and its gradient and SGD step equal the closed form of a linear autoencoder.
// This program links the torch-free autoencoder library only, so LibTorch's presence in its memory map says
// exactly whether the module was loaded. The first test must run first (gtest keeps the file's order).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "engine/random.h"
#include "solvers/autoencoder/network_backend.h"

namespace ae = tessera::solvers::autoencoder;

namespace {

bool libtorch_is_mapped() {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find("libtorch_cpu") != std::string::npos) return true;
  return false;
}

Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> as_matrix(ae::NetworkBackend& net,
                                                                                            std::size_t tensor) {
  return {net.values(tensor).data(), net.rows(tensor), net.cols(tensor)};
}

}  // namespace

TEST(NetworkBackend, LibTorchIsLoadedByTheFirstNetworkOnly) {
  EXPECT_FALSE(libtorch_is_mapped()) << "LibTorch was loaded before any autoencoder was built";
  ae::AutoencoderParams params;
  params.width = 3;
  const auto net = ae::make_network_backend(params, 5);
  EXPECT_TRUE(libtorch_is_mapped());
  ASSERT_EQ(net->num_tensors(), 2u);  // encoder weight [3, 5], decoder weight [5, 3]; no bias by default
  EXPECT_EQ(net->rows(0), 3);
  EXPECT_EQ(net->cols(0), 5);
  EXPECT_EQ(net->rows(1), 5);
  EXPECT_EQ(net->cols(1), 3);
  for (std::size_t t = 0; t < 2; ++t)
    for (float value : net->values(t)) EXPECT_EQ(value, 0.0f);  // zero until initialised
  net->initialise(7);
  // PyTorch's Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  for (std::size_t t = 0; t < 2; ++t)
    for (float value : net->values(t)) EXPECT_LE(std::abs(value), 1.0 / std::sqrt(double(net->cols(t))));
}

TEST(NetworkBackend, GradientAndSgdStepOfALinearAutoencoderMatchTheClosedForm) {
  // Linear activation, no bias: x_hat = W2 W1 x. With r_i = W2 W1 x_i - x_i, d genes and global batch B, the loss
  // is L = sum_i |r_i|^2 / (d B); dL/dW2 = 2/(d B) sum_i r_i (W1 x_i)^T and dL/dW1 = 2/(d B) W2^T sum_i r_i x_i^T.
  ae::AutoencoderParams params;
  params.width = 3;
  params.activation = ae::Activation::kLinear;
  params.optimizer = ae::OptimizerKind::kSgd;
  params.learning_rate = 0.05;
  params.threads = 1;
  const int d = 6, count = 4, global = 10;
  const auto net = ae::make_network_backend(params, d);
  net->initialise(11);
  Eigen::MatrixXf x(d, count);
  tessera::engine::RandomStream random(3, "test/network_backend");
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = float(random.normal());

  const Eigen::MatrixXd w1 = as_matrix(*net, 0).cast<double>(), w2 = as_matrix(*net, 1).cast<double>();
  const Eigen::MatrixXd xd = x.cast<double>();
  const Eigen::MatrixXd r = w2 * w1 * xd - xd;
  const double scale = 2.0 / (double(d) * global);
  const Eigen::MatrixXd grad_w2 = scale * r * (w1 * xd).transpose();
  const Eigen::MatrixXd grad_w1 = scale * w2.transpose() * r * xd.transpose();

  const double loss_sum = net->compute_gradient(x.data(), count, global);
  EXPECT_NEAR(loss_sum, r.squaredNorm() / d, 1e-5 * r.squaredNorm());
  const auto gradient = [&](std::size_t t) {
    return Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(net->gradient(t).data(),
                                                                                             net->rows(t), net->cols(t))
        .cast<double>()
        .eval();
  };
  EXPECT_LT((gradient(0) - grad_w1).cwiseAbs().maxCoeff(), 1e-5);
  EXPECT_LT((gradient(1) - grad_w2).cwiseAbs().maxCoeff(), 1e-5);

  net->step();  // SGD: W <- W - lr dL/dW
  EXPECT_EQ(net->optimizer_steps(), 1);
  EXPECT_LT((as_matrix(*net, 0).cast<double>() - (w1 - params.learning_rate * grad_w1)).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_LT((as_matrix(*net, 1).cast<double>() - (w2 - params.learning_rate * grad_w2)).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_TRUE(net->first_moment(0).empty());  // SGD keeps no moments

  // The codes and reconstructions are the same linear maps.
  EXPECT_LT((net->encode(x).cast<double>() - as_matrix(*net, 0).cast<double>() * xd).cwiseAbs().maxCoeff(), 1e-5);

  // A rank whose shard of the batch is empty contributes zero gradients.
  EXPECT_EQ(net->compute_gradient(nullptr, 0, global), 0.0);
  for (std::size_t t = 0; t < 2; ++t)
    for (float g : net->gradient(t)) EXPECT_EQ(g, 0.0f);
}
