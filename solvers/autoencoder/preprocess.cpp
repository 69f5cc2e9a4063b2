#include "solvers/autoencoder/preprocess.h"

#include <cmath>
#include <unordered_map>

#include "engine/error.h"

namespace tessera::solvers::autoencoder {

ProfileScaling ProfileScaling::fit(const Eigen::MatrixXf& samples) {
  ProfileScaling s;
  const Eigen::Index n = samples.cols();
  TESSERA_CHECK(n >= 1, "cannot fit a per-gene scaling on zero samples");
  // Accumulate in double: a float sum over 10^5 profiles loses digits.
  const Eigen::MatrixXd x = samples.cast<double>();
  const Eigen::VectorXd mean = x.rowwise().mean();
  const Eigen::VectorXd var =
      (x.colwise() - mean).array().square().rowwise().sum() / double(std::max<Eigen::Index>(1, n - 1));
  s.mean = mean.cast<float>();
  s.scale = var.array().sqrt().cast<float>();
  for (Eigen::Index g = 0; g < s.scale.size(); ++g)
    if (!(s.scale[g] > 1e-8f)) s.scale[g] = 1.0f;
  return s;
}

Eigen::MatrixXf ProfileScaling::apply(const Eigen::MatrixXf& samples) const {
  if (empty()) return samples;
  return (samples.colwise() - mean).array().colwise() / scale.array();
}

Eigen::MatrixXf ProfileScaling::undo(const Eigen::MatrixXf& scaled) const {
  if (empty()) return scaled;
  return (scaled.array().colwise() * scale.array()).matrix().colwise() + mean;
}

PreprocessedData preprocess(const io::GeneMatrix& matrix, const PreprocessOptions& options) {
  PreprocessedData out;
  if (options.genes.empty()) {
    out.samples = matrix.values;
    out.genes = matrix.rows.ids;
  } else {
    std::unordered_map<std::string, Eigen::Index> row_of;
    for (std::size_t i = 0; i < matrix.rows.ids.size(); ++i) row_of.emplace(matrix.rows.ids[i], Eigen::Index(i));
    std::vector<Eigen::Index> rows;
    for (const auto& gene : options.genes) {
      const auto it = row_of.find(gene);
      TESSERA_CHECK(it != row_of.end(), "gene '", gene, "' of the gene list is not a row id of the input (",
                    matrix.rows.ids.size(), " genes); check the list against the file's row ids");
      rows.push_back(it->second);
    }
    out.samples = matrix.values(rows, Eigen::all);
    out.genes = options.genes;
  }
  TESSERA_CHECK(out.samples.allFinite(),
                "the input holds NaN or infinite values; the autoencoder needs complete "
                "profiles (drop those samples or genes first)");
  if (options.log2) {
    TESSERA_CHECK(out.samples.size() == 0 || out.samples.minCoeff() > -1.0f,
                  "log2(x + 1) needs values > -1, the input's smallest is ", out.samples.minCoeff(),
                  "; z-scored levels (4, 5) are log-scale already: drop --log2");
    out.samples = (out.samples.array() + 1.0f).log() / std::log(2.0f);
  }
  if (options.minmax) {
    for (Eigen::Index j = 0; j < out.samples.cols(); ++j) {
      auto col = out.samples.col(j);
      const float low = col.minCoeff(), high = col.maxCoeff();
      if (high > low)
        col = (col.array() - low) / (high - low);
      else
        col.setZero();
    }
  }
  if (options.zscore) {
    out.scaling = ProfileScaling::fit(out.samples);
    out.samples = out.scaling.apply(out.samples);
  }
  return out;
}

}  // namespace tessera::solvers::autoencoder
