#include "solvers/search/bayes_linear.h"

#include <algorithm>

#include "engine/error.h"

namespace tessera::solvers::search {

Eigen::VectorXd SemParams::mean_response(const Eigen::VectorXd& shift) const {
  const Eigen::Index p = weights.rows();
  const Eigen::MatrixXd i_minus_b = Eigen::MatrixXd::Identity(p, p) - weights;
  return i_minus_b.partialPivLu().solve(intercepts + shift);
}

BayesLinearSem::BayesLinearSem(Dag dag, double noise_sd, double prior_sd)
    : dag_(std::move(dag)), noise_sd_(noise_sd), prior_sd_(prior_sd) {
  TESSERA_CHECK(noise_sd > 0 && prior_sd > 0, "noise and prior sd must be positive");
  for (int i = 0; i < dag_.num_nodes(); ++i) {
    const Eigen::Index d = Eigen::Index(dag_.parents(i).size()) + 1;
    gram_.push_back(Eigen::MatrixXd::Zero(d, d));
    moment_.push_back(Eigen::VectorXd::Zero(d));
  }
}

void BayesLinearSem::observe(const Eigen::MatrixXd& samples, const Eigen::VectorXd& shift) {
  TESSERA_CHECK(samples.rows() == dag_.num_nodes() && shift.size() == dag_.num_nodes(), "observe: samples have ",
                samples.rows(), " rows and the shift ", shift.size(), " entries for ", dag_.num_nodes(), " nodes");
  for (int i = 0; i < dag_.num_nodes(); ++i) {
    const auto& pa = dag_.parents(i);
    const Eigen::Index d = Eigen::Index(pa.size()) + 1;
    Eigen::VectorXd z(d);
    for (Eigen::Index s = 0; s < samples.cols(); ++s) {
      for (std::size_t k = 0; k < pa.size(); ++k) z(Eigen::Index(k)) = samples(pa[k], s);
      z(d - 1) = 1;
      gram_[std::size_t(i)] += z * z.transpose();
      moment_[std::size_t(i)] += z * (samples(i, s) - shift(i));
    }
  }
}

Eigen::MatrixXd BayesLinearSem::precision(int node) const {
  const auto& g = gram_[std::size_t(node)];
  return Eigen::MatrixXd::Identity(g.rows(), g.cols()) / (prior_sd_ * prior_sd_) + g / (noise_sd_ * noise_sd_);
}

Eigen::VectorXd BayesLinearSem::posterior_mean(int node) const {
  return precision(node).llt().solve(moment_[std::size_t(node)] / (noise_sd_ * noise_sd_));
}

Eigen::MatrixXd BayesLinearSem::posterior_covariance(int node) const {
  const Eigen::MatrixXd p = precision(node);
  return p.llt().solve(Eigen::MatrixXd::Identity(p.rows(), p.cols()));
}

namespace {
void place(const Dag& dag, int node, const Eigen::VectorXd& theta, SemParams& sem) {
  const auto& pa = dag.parents(node);
  for (std::size_t k = 0; k < pa.size(); ++k) sem.weights(node, pa[k]) = theta(Eigen::Index(k));
  sem.intercepts(node) = theta(Eigen::Index(pa.size()));
}
}  // namespace

SemParams BayesLinearSem::mean_sem() const {
  const int p = dag_.num_nodes();
  SemParams sem{Eigen::MatrixXd::Zero(p, p), Eigen::VectorXd::Zero(p)};
  for (int i = 0; i < p; ++i) place(dag_, i, posterior_mean(i), sem);
  return sem;
}

SemParams BayesLinearSem::sample_sem(engine::RandomStream& random) const {
  const int p = dag_.num_nodes();
  SemParams sem{Eigen::MatrixXd::Zero(p, p), Eigen::VectorXd::Zero(p)};
  for (int i = 0; i < p; ++i) {
    const Eigen::MatrixXd cov = posterior_covariance(i);
    const Eigen::MatrixXd l = cov.llt().matrixL();
    Eigen::VectorXd z(cov.rows());
    for (Eigen::Index k = 0; k < z.size(); ++k) z(k) = random.normal();
    place(dag_, i, posterior_mean(i) + l * z, sem);
  }
  return sem;
}

Eigen::MatrixXd feature_second_moment(const Dag& dag, int node, const Eigen::VectorXd& mean,
                                      const Eigen::MatrixXd& covariance) {
  const auto& pa = dag.parents(node);
  const Eigen::Index d = Eigen::Index(pa.size()) + 1;
  Eigen::MatrixXd m(d, d);
  for (std::size_t a = 0; a < pa.size(); ++a) {
    for (std::size_t b = 0; b < pa.size(); ++b)
      m(Eigen::Index(a), Eigen::Index(b)) = covariance(pa[a], pa[b]) + mean(pa[a]) * mean(pa[b]);
    m(Eigen::Index(a), d - 1) = m(d - 1, Eigen::Index(a)) = mean(pa[a]);
  }
  m(d - 1, d - 1) = 1;
  return m;
}

}  // namespace tessera::solvers::search
