#include "solvers/search/acquisition.h"

#include <cmath>

#include "engine/error.h"
#include "engine/random.h"

namespace tessera::solvers::search {

const engine::NameTable<Acquisition>& name_table(Acquisition) {
  static const engine::NameTable<Acquisition> table{{Acquisition::kGreedy, "greedy"},
                                                    {Acquisition::kVariance, "variance"},
                                                    {Acquisition::kUcb, "ucb"},
                                                    {Acquisition::kMutualInformation, "mi"},
                                                    {Acquisition::kRandom, "random"}};
  return table;
}

const std::vector<Acquisition>& all_acquisitions() {
  static const std::vector<Acquisition> all = name_table(Acquisition{}).values();
  return all;
}

namespace {
Eigen::MatrixXd noise_covariance(const SemParams& sem, double noise_sd) {
  const Eigen::Index p = sem.weights.rows();
  const Eigen::MatrixXd m = (Eigen::MatrixXd::Identity(p, p) - sem.weights).inverse();
  return noise_sd * noise_sd * m * m.transpose();
}
}  // namespace

AcquisitionState AcquisitionState::build(const BayesLinearSem& model, const Eigen::VectorXd& target,
                                         int samples_per_round, double ucb_beta, int posterior_samples,
                                         std::vector<Eigen::VectorXd> references, std::uint64_t seed,
                                         std::uint64_t round_key) {
  AcquisitionState s;
  s.model = &model;
  s.target = target;
  s.samples_per_round = samples_per_round;
  s.ucb_beta = ucb_beta;
  s.plug_in = model.mean_sem();
  s.plug_in_covariance = noise_covariance(s.plug_in, model.noise_sd());
  engine::RandomStream random(seed, "design/posterior", round_key);
  for (int k = 0; k < posterior_samples; ++k) {
    s.draws.push_back(model.sample_sem(random));
    s.draw_covariances.push_back(noise_covariance(s.draws.back(), model.noise_sd()));
  }
  for (int i = 0; i < model.dag().num_nodes(); ++i) {
    s.node_covariances.push_back(model.posterior_covariance(i));
    s.node_precisions.push_back(model.precision(i));
  }
  s.references = std::move(references);
  s.seed = seed;
  s.round_key = round_key;
  return s;
}

double matching_objective(const SemParams& sem, const Eigen::VectorXd& target, const Eigen::VectorXd& a) {
  return (sem.mean_response(a) - target).squaredNorm();
}

double acquisition_score(Acquisition kind, const AcquisitionState& s, const Eigen::VectorXd& a, std::int64_t index) {
  const Dag& dag = s.model->dag();
  const double gain = double(s.samples_per_round) / (s.model->noise_sd() * s.model->noise_sd());
  switch (kind) {
    case Acquisition::kGreedy:
      return -matching_objective(s.plug_in, s.target, a);
    case Acquisition::kUcb: {
      TESSERA_CHECK(!s.draws.empty(), "ucb needs posterior samples (--posterior-samples >= 2)");
      double sum = 0, sum2 = 0;
      for (const auto& draw : s.draws) {
        const double f = matching_objective(draw, s.target, a);
        sum += f, sum2 += f * f;
      }
      const double n = double(s.draws.size()), mean = sum / n;
      const double sd = std::sqrt(std::max(0.0, sum2 / n - mean * mean));
      return -(mean - s.ucb_beta * sd);
    }
    case Acquisition::kVariance: {
      const Eigen::VectorXd m = s.plug_in.mean_response(a);
      double total = 0;
      std::vector<Eigen::VectorXd> reference_means;
      for (const auto& r : s.references) reference_means.push_back(s.plug_in.mean_response(r));
      for (int i = 0; i < dag.num_nodes(); ++i) {
        const Eigen::MatrixXd after =
            (s.node_precisions[std::size_t(i)] + gain * feature_second_moment(dag, i, m, s.plug_in_covariance))
                .llt()
                .solve(Eigen::MatrixXd::Identity(s.node_precisions[std::size_t(i)].rows(),
                                                 s.node_precisions[std::size_t(i)].cols()));
        const auto& pa = dag.parents(i);
        for (const auto& rm : reference_means) {
          Eigen::VectorXd phi(Eigen::Index(pa.size()) + 1);
          for (std::size_t k = 0; k < pa.size(); ++k) phi(Eigen::Index(k)) = rm(pa[k]);
          phi(phi.size() - 1) = 1;
          total += phi.dot(after * phi);
        }
      }
      return -total / double(std::max<std::size_t>(1, s.references.size()));
    }
    case Acquisition::kMutualInformation: {
      TESSERA_CHECK(!s.draws.empty(), "mi needs posterior samples (--posterior-samples >= 1)");
      double total = 0;
      for (std::size_t d = 0; d < s.draws.size(); ++d) {
        const Eigen::VectorXd m = s.draws[d].mean_response(a);
        for (int i = 0; i < dag.num_nodes(); ++i) {
          const Eigen::MatrixXd& cov = s.node_covariances[std::size_t(i)];
          const Eigen::MatrixXd k = Eigen::MatrixXd::Identity(cov.rows(), cov.cols()) +
                                    gain * cov * feature_second_moment(dag, i, m, s.draw_covariances[d]);
          total += 0.5 * std::log(std::abs(k.partialPivLu().determinant()));
        }
      }
      return total / double(s.draws.size());
    }
    case Acquisition::kRandom: {
      engine::RandomStream random(s.seed, "design/random", s.round_key * 1000003ULL + std::uint64_t(index));
      return random.uniform();
    }
  }
  return 0;
}

}  // namespace tessera::solvers::search
