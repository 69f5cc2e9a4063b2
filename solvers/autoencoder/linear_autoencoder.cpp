#include "solvers/autoencoder/linear_autoencoder.h"

#include "engine/error.h"

namespace tessera::solvers::autoencoder {

Eigen::MatrixXd LinearAutoencoder::encode(const Eigen::MatrixXd& samples) const {
  return basis.transpose() * (samples.colwise() - mean);
}

Eigen::MatrixXd LinearAutoencoder::decode(const Eigen::MatrixXd& codes) const {
  return (basis * codes).colwise() + mean;
}

double LinearAutoencoder::reconstruction_error(const Eigen::MatrixXd& samples) const {
  if (samples.cols() == 0) return 0;
  return (decode(encode(samples)) - samples).squaredNorm() / double(samples.cols());
}

LinearAutoencoder fit_linear_autoencoder(const Eigen::MatrixXd& samples, int k, bool center) {
  const Eigen::Index limit = std::min(samples.rows(), samples.cols());
  TESSERA_CHECK(k >= 1 && k <= limit, "linear autoencoder: k = ", k, " latent units, must be in [1, ", limit, "] for ",
                samples.rows(), " genes x ", samples.cols(), " samples");
  TESSERA_CHECK(samples.allFinite(), "linear autoencoder: the samples hold NaN or infinite values");
  LinearAutoencoder model;
  model.mean = center ? Eigen::VectorXd(samples.rowwise().mean()) : Eigen::VectorXd::Zero(samples.rows());
  const Eigen::MatrixXd centred = samples.colwise() - model.mean;
  Eigen::BDCSVD<Eigen::MatrixXd> svd(centred, Eigen::ComputeThinU);
  model.singular_values = svd.singularValues();
  model.basis = svd.matrixU().leftCols(k);
  return model;
}

}  // namespace tessera::solvers::autoencoder
