// The closed-form linear autoencoder: the baseline the LibTorch autoencoder is compared with, and a
// deterministic reference for tests. Torch-free (Eigen only), local.
//
// A linear autoencoder x -> D E (x - mu) + mu with k latent units minimises the squared reconstruction error
// exactly when D E is the orthogonal projector onto the top-k principal subspace of the centred data (Baldi &
// Hornik 1989; Eckart-Young). So the optimum is read off a thin SVD X - mu 1^T = U S V^T: encoder U_k^T,
// decoder U_k, and the minimal mean squared error per sample is sum_{i > k} s_i^2 / n.
// Layout: samples are columns of a genes x n matrix (Eigen column-major).
#pragma once

#include <Eigen/Dense>

namespace tessera::solvers::autoencoder {

struct LinearAutoencoder {
  Eigen::VectorXd mean;             // genes (zero when fitted without centring)
  Eigen::MatrixXd basis;            // genes x k, orthonormal columns: the decoder; basis^T is the encoder
  Eigen::VectorXd singular_values;  // all singular values of the centred data, descending

  Eigen::MatrixXd encode(const Eigen::MatrixXd& samples) const;  // k x n
  Eigen::MatrixXd decode(const Eigen::MatrixXd& codes) const;    // genes x n
  // Mean over samples of the squared reconstruction error summed over genes.
  double reconstruction_error(const Eigen::MatrixXd& samples) const;
};

// Fits the optimal rank-k linear autoencoder of samples (genes x n). k in [1, min(genes, n)]. Throws
// tessera::Error otherwise.
LinearAutoencoder fit_linear_autoencoder(const Eigen::MatrixXd& samples, int k, bool center = true);

}  // namespace tessera::solvers::autoencoder
