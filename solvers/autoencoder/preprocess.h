// Preprocessing of expression profiles before the autoencoder sees them. Torch-free, Eigen only, local.
//
// Steps, in this order, each optional: restrict to a gene list; log2(x + 1) (for raw or level-3 expression;
// level-4/5 z-scores are already log-scale and may be negative); per-sample min-max to [0, 1] (Belyaeva et al.);
// per-gene z-score over the samples (a ProfileScaling, which can also be undone on decoded profiles).
// Layout: genes x samples, Eigen column-major (one profile per column), as io::BasicGeneMatrix.
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "io/gene_matrix.h"

namespace tessera::solvers::autoencoder {

struct PreprocessOptions {
  bool log2 = false;               // log2(x + 1); values must be > -1
  bool minmax = false;             // per sample (column) to [0, 1]; a constant sample becomes 0
  bool zscore = false;             // per gene (row) to mean 0, standard deviation 1 over the samples
  std::vector<std::string> genes;  // keep only these gene ids, in this order (empty = all genes)
};

// Per-gene affine map x -> (x - mean) / scale and its inverse. Identity when empty.
struct ProfileScaling {
  Eigen::VectorXf mean;
  Eigen::VectorXf scale;

  // mean and standard deviation of each gene (row) over the columns; a gene with deviation below 1e-8 keeps
  // scale 1 (it would otherwise blow up).
  static ProfileScaling fit(const Eigen::MatrixXf& samples);
  bool empty() const { return mean.size() == 0; }
  Eigen::MatrixXf apply(const Eigen::MatrixXf& samples) const;
  Eigen::MatrixXf undo(const Eigen::MatrixXf& scaled) const;
};

struct PreprocessedData {
  Eigen::MatrixXf samples;         // kept genes x samples
  std::vector<std::string> genes;  // ids of the kept genes
  ProfileScaling scaling;          // the z-score applied (empty unless options.zscore)
};

// Applies `options` to a gene matrix (row ids are the gene ids). Throws tessera::Error naming a gene of the list
// that the matrix lacks, a value <= -1 under log2, or non-finite values.
PreprocessedData preprocess(const io::GeneMatrix& matrix, const PreprocessOptions& options);

}  // namespace tessera::solvers::autoencoder
