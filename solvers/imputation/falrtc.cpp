#include "solvers/imputation/falrtc.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <span>
#include <tuple>
#include <utility>

#include "engine/agree.h"
#include "engine/blas.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/signals.h"

namespace tessera::solvers::imputation {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// One mode's weight and smoothing schedule.
struct ModeSchedule {
  TensorMode mode = TensorMode::kDrug;
  double alpha = 0;  // normalised weight; 0 leaves the mode out
  double mu0 = 0, slope = 0, offset = 0;

  bool active() const { return alpha > 0; }
  double mu(int k) const { return std::max(slope / std::pow(double(k), kMuDecayPower) + offset, mu0); }
};

// Term i of f_mu from the spectrum of X_(i): (alpha^2 / 2 mu) (sum sigma^2 - sum_{sigma > tau} (sigma - tau)^2),
// FaLRTC.m's a2m * (sum(sigma2) - sum(max(sqrt(sigma2) - ma, 0).^2)) halved.
double smoothed_term(const GramSpectrum& spectrum, double alpha, double mu) {
  const double tau = mu / alpha;
  double excess = 0;
  for (Eigen::Index j = 0; j < spectrum.sigma.size(); ++j)
    if (spectrum.sigma(j) > tau) excess += (spectrum.sigma(j) - tau) * (spectrum.sigma(j) - tau);
  return 0.5 * alpha * alpha / mu * (spectrum.squared_norm - excess);
}

// f_mu, its gradient and the nuclear norms of one tensor held as gene slabs, mode by mode.
class SmoothedNuclearNorm {
 public:
  SmoothedNuclearNorm(const SlabLayout& layout, const std::vector<ModeSchedule>& modes)
      : layout_(layout), modes_(modes) {}

  // Spectrum of X_(mode) for the gene slab x; leaves the drug slab of x in drug_slab_ when the mode needs it.
  GramSpectrum spectrum(TensorMode mode, const Eigen::MatrixXd& x, bool vectors) {
    return GramSpectrum::from_gram(mode_gram(layout_, mode, slab_for(mode, x)), vectors);
  }

  // f_mu(x) and sum_i alpha_i ||x_(i)||_*.
  std::pair<double, double> value(const Eigen::MatrixXd& x, const std::array<double, 3>& mu) {
    double f = 0, nuclear = 0;
    for (const auto& m : modes_) {
      if (!m.active()) continue;
      const GramSpectrum s = spectrum(m.mode, x, false);
      f += smoothed_term(s, m.alpha, mu[std::size_t(m.mode)]);
      nuclear += m.alpha * s.sigma.sum();
    }
    return {f, nuclear};
  }

  // f_mu(x); grad = sum_i (alpha_i^2 / mu_i) fold_i(U min(S, tau_i) V^T), unprojected. Keeps the Grams of x for
  // line().
  double value_and_gradient(const Eigen::MatrixXd& x, const std::array<double, 3>& mu, Eigen::MatrixXd& grad) {
    grad.setZero(x.rows(), x.cols());
    double f = 0;
    for (const auto& m : modes_) {
      if (!m.active()) continue;
      const double mu_i = mu[std::size_t(m.mode)], a2m = m.alpha * m.alpha / mu_i;
      Eigen::MatrixXd& gram = grams_[std::size_t(m.mode)];
      gram = mode_gram(layout_, m.mode, slab_for(m.mode, x));
      const GramSpectrum s = GramSpectrum::from_gram(gram, true);
      f += smoothed_term(s, m.alpha, mu_i);
      const ModeOperator clip = ModeOperator::clip(s, mu_i / m.alpha);
      if (SlabLayout::uses_drug_slab(m.mode) && !layout_.serial()) {
        apply_mode_operator_in_place(layout_, m.mode, clip, drug_slab_);
        layout_.add_from_drug_slabs(drug_slab_, a2m, grad);
      } else {
        apply_mode_operator(layout_, m.mode, clip, x, a2m, grad);  // one rank: the drug slab is x itself
      }
    }
    return f;
  }

  // The Grams of x - t g for every t, mode by mode, as G_x - t cross + t^2 G_g: for the trials of an iteration
  // whose x and g do not change with L. x and g as in the last value_and_gradient call (g projected).
  struct Line {
    std::array<Eigen::MatrixXd, 3> gram_x, cross, gram_g;
  };
  Line line(const Eigen::MatrixXd& x, const Eigen::MatrixXd& g) {
    Line line;
    Eigen::MatrixXd g_drug_slab;  // only while the cross Grams are formed
    for (const auto& m : modes_) {
      if (!m.active()) continue;
      const auto i = std::size_t(m.mode);
      line.gram_x[i] = std::move(grams_[i]);
      const Eigen::MatrixXd& g_slab = slab_for(m.mode, g, g_drug_slab);
      line.gram_g[i] = mode_gram(layout_, m.mode, g_slab);
      line.cross[i] = partial_symmetric_cross(layout_, m.mode, slab_for(m.mode, x), g_slab);
      engine::allreduce_sum(layout_.context(), line.cross[i]);
    }
    return line;
  }

  // f_mu(x - t g) and sum_i alpha_i ||(x - t g)_(i)||_*, from the eigenvalues of the expanded Grams.
  std::pair<double, double> value(const Line& line, double t, const std::array<double, 3>& mu) const {
    double f = 0, nuclear = 0;
    for (const auto& m : modes_) {
      if (!m.active()) continue;
      const auto i = std::size_t(m.mode);
      const GramSpectrum s =
          GramSpectrum::from_gram(line.gram_x[i] - t * line.cross[i] + (t * t) * line.gram_g[i], false);
      f += smoothed_term(s, m.alpha, mu[i]);
      nuclear += m.alpha * s.sigma.sum();
    }
    return {f, nuclear};
  }

 private:
  // x itself, or its drug slab (in `buffer`) for a mode computed on drug slabs on several ranks.
  const Eigen::MatrixXd& slab_for(TensorMode mode, const Eigen::MatrixXd& x, Eigen::MatrixXd& buffer) {
    if (!SlabLayout::uses_drug_slab(mode) || layout_.serial()) return x;
    layout_.to_drug_slabs(x, buffer);
    return buffer;
  }
  const Eigen::MatrixXd& slab_for(TensorMode mode, const Eigen::MatrixXd& x) { return slab_for(mode, x, drug_slab_); }

  const SlabLayout& layout_;
  const std::vector<ModeSchedule>& modes_;
  Eigen::MatrixXd drug_slab_;
  std::array<Eigen::MatrixXd, 3> grams_;  // of the last value_and_gradient's x
};

double squared_norm(const engine::Context& ctx, const Eigen::MatrixXd& local) {
  return engine::allreduce_sum(ctx, local.squaredNorm());
}

// Rank 0's values replace everyone's, so that every rank takes the same branch.
template <std::size_t N>
std::array<double, N> agree(const engine::Context& ctx, std::array<double, N> values) {
  engine::broadcast(ctx, std::span<double>(values));
  return values;
}

}  // namespace

void FalrtcParams::validate() const {
  engine::check_knobs(*this);
  const auto w = weights();
  TESSERA_CHECK(w[0] + w[1] + w[2] > 0, "falrtc mode weights are all 0: give at least one positive weight");
}

FalrtcResult falrtc_complete(const SlabLayout& layout, const Eigen::Ref<const Eigen::MatrixXd>& values_slab,
                             const std::vector<std::uint8_t>& observed, const FalrtcParams& params,
                             Eigen::MatrixXd& completed_slab) {
  params.validate();
  const auto start = Clock::now();
  const engine::Context& ctx = layout.context();
  // The Grams, operators and eigen-decompositions are all BLAS/LAPACK: ranks sharing a node share its cores.
  const engine::blas::ThreadLimit blas_threads(ctx.threads_per_rank());
  const TensorShape& shape = layout.shape();
  TESSERA_CHECK(values_slab.rows() == layout.genes().size() && values_slab.cols() == layout.gene_slab_cols(),
                "falrtc: the data slab is ", values_slab.rows(), " x ", values_slab.cols(), ", expected ",
                layout.genes().size(), " genes x ", layout.gene_slab_cols(), " (cells * drugs) columns");
  TESSERA_CHECK(observed.size() == std::size_t(shape.entries()), "falrtc: ", observed.size(), " observed flags for ",
                shape.entries(), " (cell, drug) entries");
  std::vector<Eigen::Index> known;
  for (std::size_t e = 0; e < observed.size(); ++e)
    if (observed[e]) known.push_back(Eigen::Index(e));
  TESSERA_CHECK(!known.empty(), "falrtc: no observed entry to complete the tensor from");

  // Mean fill of the unobserved entries (FaLRTC.m: X(~Omega) = mean(M(Omega))).
  double sums[2] = {0, 0};  // sum of observed values, their squared norm
  for (const auto e : known) sums[0] += values_slab.col(e).sum(), sums[1] += values_slab.col(e).squaredNorm();
  engine::allreduce_sum(ctx, std::span<double>(sums));
  const double mean = sums[0] / (double(known.size()) * double(shape.genes));
  const double norm_observed = std::sqrt(sums[1]);
  Eigen::MatrixXd y = Eigen::MatrixXd::Constant(values_slab.rows(), values_slab.cols(), mean);
  const auto reset_observed = [&](Eigen::MatrixXd& x) {
    for (const auto e : known) x.col(e) = values_slab.col(e);
  };
  reset_observed(y);

  // Weights and smoothing schedule.
  const auto raw = params.weights();
  const double weight_sum = raw[0] + raw[1] + raw[2];
  std::vector<ModeSchedule> modes;
  for (const auto mode : kTensorModes) {
    ModeSchedule m;
    m.mode = mode;
    m.alpha = raw[std::size_t(mode)] / weight_sum;
    m.mu0 = params.mu_scale * raw[std::size_t(mode)] / std::sqrt(double(std::max<std::int64_t>(shape.extent(mode), 1)));
    modes.push_back(m);
  }
  SmoothedNuclearNorm norm(layout, modes);
  FalrtcResult result;
  const double decay_end = std::max(params.iterations - kMuFlatIterations, 2);
  const double a = std::pow(decay_end, kMuDecayPower);
  double lipschitz_max = 0;
  for (auto& m : modes) {
    if (!m.active()) continue;
    const GramSpectrum s = norm.spectrum(m.mode, y, false);
    result.initial_nuclear_objective += m.alpha * s.sigma.sum();
    const double mu1 = kMuStartFactor * m.alpha * (s.sigma.size() > 0 ? s.sigma(0) : 0.0);
    m.slope = (mu1 - m.mu0) * a / (a - 1);
    m.offset = (m.mu0 * a - mu1) / (a - 1);
    lipschitz_max += kLipschitzMaxFactor / m.mu0;
  }

  Eigen::MatrixXd z = y, x, grad;
  double lipschitz = params.lipschitz_start, weight_total = 0;  // L and FaLRTC.m's B
  for (int k = 1; k <= params.iterations; ++k) {
    const auto iteration_start = Clock::now();
    FalrtcIteration it;
    it.iteration = k;
    for (const auto& m : modes) it.mu[std::size_t(m.mode)] = m.active() ? m.mu(k) : 0.0;
    double step = 0, fx = 0, grad_norm2 = 0;  // b, f_mu(X), ||G||^2
    std::optional<SmoothedNuclearNorm::Line> line;
    while (true) {
      // Safe point (engine/signals.h) before every line-search trial, the unit of work (an early iteration may take
      // a dozen): every rank is at the same trial here, since all take rank 0's decisions.
      engine::stop_point(ctx, "falrtc: stopped in iteration ", k, " of ", params.iterations);
      ++it.trials;
      ++result.evaluations;
      step = (1 + std::sqrt(1 + 4 * lipschitz * weight_total)) / (2 * lipschitz);
      if (!line) {
        x = (step / (weight_total + step)) * z + (weight_total / (weight_total + step)) * y;
        reset_observed(x);
        fx = norm.value_and_gradient(x, it.mu, grad);
        for (const auto e : known) grad.col(e).setZero();
        grad_norm2 = squared_norm(ctx, grad);
        // While B = 0 (the first iteration, whose L0 is usually far too small) X = Z exactly whatever L, and so
        // are f_mu(X) and G: the further trials only need f_mu(X - G / L), from Grams expanded in 1 / L.
        if (weight_total == 0) line = norm.line(x, grad);
      }
      double fy = 0, nuclear = 0;
      if (line) {
        std::tie(fy, nuclear) = norm.value(*line, 1 / lipschitz, it.mu);
      } else {
        x -= grad / lipschitz;  // x is now the trial point Y
        std::tie(fy, nuclear) = norm.value(x, it.mu);
      }
      const auto [fx0, fy0, g0, nuclear0] = agree(ctx, std::array<double, 4>{fx, fy, grad_norm2, nuclear});
      if (2 * (fx0 - fy0) * lipschitz >= g0) {
        if (line) x -= grad / lipschitz;
        it.smoothed_objective = fy0;
        it.nuclear_objective = nuclear0;
        break;
      }
      if (lipschitz > lipschitz_max) {
        result.lipschitz_limit = true;
        break;
      }
      lipschitz /= params.lipschitz_shrink;
    }
    if (result.lipschitz_limit) {
      engine::warn("falrtc: iteration ", k, ": the Lipschitz constant passed its limit ", lipschitz_max,
                   " without sufficient decrease; stopping at iteration ", k - 1);
      break;
    }
    const double change = std::sqrt(engine::allreduce_sum(ctx, (x - y).squaredNorm()));
    it.relative_change = agree(ctx, std::array<double, 1>{norm_observed > 0 ? change / norm_observed : change})[0];
    z -= step * grad;
    weight_total += step;
    std::swap(y, x);
    it.lipschitz = lipschitz;
    it.seconds = seconds_since(iteration_start);
    result.history.push_back(it);
    engine::info("falrtc iteration ", k, "/", params.iterations, ": objective ", it.nuclear_objective, " (smoothed ",
                 it.smoothed_objective, "), relative change ", it.relative_change, ", L ", lipschitz, ", ", it.trials,
                 it.trials == 1 ? " trial, " : " trials, ", it.seconds, " s");
    if (it.relative_change < params.tolerance) {
      result.converged = true;
      break;
    }
  }
  completed_slab = std::move(y);
  result.seconds = seconds_since(start);
  return result;
}

double falrtc_bytes_per_rank(const TensorShape& shape, int ranks) {
  const double slab = double(shape.size()) / double(std::max(1, ranks));
  const double grams = double(shape.drugs) * double(shape.drugs) + double(shape.genes) * double(shape.genes) +
                       double(shape.cells) * double(shape.cells);
  const double exchange = ranks > 1 ? 2.0 * 128.0 * (1 << 20) : 0.0;
  return 8.0 * ((ranks > 1 ? 6.0 : 4.0) * slab + 5.0 * grams) + exchange;
}

void check_falrtc_fits(const TensorShape& shape, int ranks, double available_bytes) {
  const double needed = falrtc_bytes_per_rank(shape, ranks);
  const auto gigabytes = [](double bytes) { return std::ceil(bytes / 1e8) / 10; };  // 0.1 GB, rounded up
  TESSERA_CHECK(needed <= available_bytes, "falrtc: completing the ", shape.drugs, " drugs x ", shape.genes,
                " genes x ", shape.cells, " cells tensor needs about ", gigabytes(needed), " GB per rank (the ",
                "tensor's slabs and the dense drugs x drugs Gram), but this rank can get ", gigabytes(available_bytes),
                " GB. FaLRTC's dense tensor does not fit this table: use ntk, dnpp or two_way_mean, or select fewer ",
                "drugs or cell types in the input");
}

Falrtc::Falrtc(const FalrtcParams& params) : params_(params) { params_.validate(); }

Eigen::MatrixXd Falrtc::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                               const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& queries) const {
  TESSERA_CHECK(train.size() == std::size_t(table.num_entries()), name(), ": train mask has ", train.size(),
                " flags but the table has ", table.num_entries(), " entries");
  TESSERA_CHECK(
      table.signatures.rows() == table.num_genes() && std::int64_t(table.column_of.size()) == table.num_entries(),
      name(), ": table signatures have ", table.signatures.rows(), " genes and ", table.column_of.size(),
      " entry columns, expected ", table.num_genes(), " and ", table.num_entries());
  for (const auto e : queries)
    TESSERA_CHECK(e >= 0 && e < table.num_entries(), name(), ": query entry ", e, " is outside the table's ",
                  table.num_entries(), " entries");
  std::vector<std::uint8_t> observed(train.size(), 0);
  bool any = false;
  for (std::size_t e = 0; e < train.size(); ++e) {
    observed[e] = train[e] && table.observed[e];
    any = any || observed[e];
  }
  TESSERA_CHECK(any, name(), ": no training entry (the train mask selects no observed entry)");

  const TensorShape shape{table.num_perts(), table.num_genes(), table.num_cells()};
  engine::run_agreeing(ctx, "falrtc's memory check",
                       [&] { check_falrtc_fits(shape, ctx.size(), ctx.available_memory_per_rank()); });
  const SlabLayout layout(ctx, shape);
  const auto rows = layout.genes();
  Eigen::MatrixXd completed;
  falrtc_complete(layout, table.dense_rows(rows.begin, rows.size()), observed, params_, completed);

  // Each rank fills its gene rows; the sum over ranks adds only zeros to them, so it is exact.
  Eigen::MatrixXd predicted = Eigen::MatrixXd::Zero(table.num_genes(), Eigen::Index(queries.size()));
  for (std::size_t q = 0; q < queries.size(); ++q)
    predicted.col(Eigen::Index(q)).segment(rows.begin, rows.size()) = completed.col(queries[q]);
  engine::allreduce_sum(ctx, predicted);
  return predicted;
}

}  // namespace tessera::solvers::imputation
