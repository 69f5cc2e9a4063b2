#include "solvers/autoencoder/latent_transport.h"

#include <algorithm>
#include <numeric>

#include "solvers/autoencoder/preprocess.h"
#include "solvers/autoencoder/trainer.h"

namespace tessera::solvers::autoencoder {

namespace {

double cosine(const Eigen::VectorXf& a, const Eigen::VectorXf& b) {
  const double na = a.norm(), nb = b.norm();
  return (na > 0 && nb > 0) ? double(a.dot(b)) / (na * nb) : 0.0;
}

}  // namespace

LatentTransportImputer::LatentTransportImputer(const AutoencoderParams& params) : params_(params) {
  params_.validate();
}

Eigen::MatrixXd LatentTransportImputer::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                               const std::vector<std::uint8_t>& train,
                                               const std::vector<std::int64_t>& queries) const {
  const std::int64_t cells = table.num_cells(), perts = table.num_perts(), genes = table.num_genes();
  TESSERA_CHECK(std::int64_t(train.size()) == table.num_entries(), "autoencoder: train mask has ", train.size(),
                " flags for ", table.num_entries(), " entries");
  for (auto q : queries)
    TESSERA_CHECK(q >= 0 && q < table.num_entries(), "autoencoder: query entry ", q, " out of range");

  // Training profiles: controls, then controls + signature of each training entry.
  std::vector<std::int64_t> entries;
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (train[std::size_t(e)] && table.observed[std::size_t(e)]) entries.push_back(e);
  std::vector<std::int64_t> control_cells;
  for (std::int64_t c = 0; c < cells; ++c)
    if (table.control_counts.size() == std::size_t(cells) && table.control_counts[std::size_t(c)] > 0)
      control_cells.push_back(c);
  const Eigen::MatrixXf controls =
      table.controls.size() ? Eigen::MatrixXf(table.controls.cast<float>()) : Eigen::MatrixXf::Zero(genes, cells);
  Eigen::MatrixXf profiles(genes, Eigen::Index(control_cells.size() + entries.size()));
  Eigen::Index column = 0;
  for (auto c : control_cells) profiles.col(column++) = controls.col(c);
  for (auto e : entries) profiles.col(column++) = controls.col(table.cell_of(e)) + table.signature(e).cast<float>();
  Eigen::MatrixXd predictions = Eigen::MatrixXd::Zero(genes, Eigen::Index(queries.size()));
  if (entries.empty() || queries.empty()) return predictions;
  TESSERA_CHECK(profiles.allFinite(), "autoencoder: a training signature or control holds NaN");

  const ProfileScaling scaling = ProfileScaling::fit(profiles);
  Trainer trainer(ctx, params_, genes);
  TrainOptions options;
  options.poll_signals = false;  // no checkpoint to write from inside a fold; the caller polls between folds
  options.log_epochs = false;
  trainer.fit(scaling.apply(profiles), options);

  // Control latents of every cell type, and the latent shift of every training entry.
  const Eigen::MatrixXf control_latent = trainer.encode(scaling.apply(controls));
  Eigen::MatrixXf treated(genes, Eigen::Index(entries.size()));
  for (std::size_t i = 0; i < entries.size(); ++i)
    treated.col(Eigen::Index(i)) = controls.col(table.cell_of(entries[i])) + table.signature(entries[i]).cast<float>();
  const Eigen::MatrixXf treated_latent = trainer.encode(scaling.apply(treated));
  // Each perturbation's training entries, as indices into `entries`.
  std::vector<std::vector<std::size_t>> by_pert(static_cast<std::size_t>(perts));
  for (std::size_t i = 0; i < entries.size(); ++i) by_pert[std::size_t(table.pert_of(entries[i]))].push_back(i);

  const Eigen::Index width = control_latent.rows();
  Eigen::MatrixXf moved(width, Eigen::Index(queries.size())), base(width, Eigen::Index(queries.size()));
  std::vector<bool> has_donor(queries.size(), false);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const std::int64_t cell = table.cell_of(queries[q]), pert = table.pert_of(queries[q]);
    std::vector<std::size_t> donors;
    for (auto i : by_pert[std::size_t(pert)])
      if (table.cell_of(entries[i]) != cell) donors.push_back(i);
    base.col(Eigen::Index(q)) = control_latent.col(cell);
    moved.col(Eigen::Index(q)) = control_latent.col(cell);
    if (donors.empty()) continue;
    switch (params_.transport) {
      case Transport::kMean:
        break;  // every donor
      case Transport::kNearest: {
        if (std::int64_t(donors.size()) <= params_.transport_neighbours) break;
        std::vector<double> similarity(donors.size());
        for (std::size_t k = 0; k < donors.size(); ++k)
          similarity[k] = cosine(control_latent.col(cell), control_latent.col(table.cell_of(entries[donors[k]])));
        std::vector<std::size_t> rank(donors.size());
        std::iota(rank.begin(), rank.end(), std::size_t(0));
        // Ties go to the earlier cell type, so the choice is deterministic.
        std::stable_sort(rank.begin(), rank.end(), [&](auto a, auto b) { return similarity[a] > similarity[b]; });
        std::vector<std::size_t> nearest;
        for (int k = 0; k < params_.transport_neighbours; ++k) nearest.push_back(donors[rank[std::size_t(k)]]);
        donors = nearest;
        break;
      }
    }
    Eigen::VectorXf shift = Eigen::VectorXf::Zero(width);
    for (auto i : donors) shift += treated_latent.col(Eigen::Index(i)) - control_latent.col(table.cell_of(entries[i]));
    moved.col(Eigen::Index(q)) += shift / float(donors.size());
    has_donor[q] = true;
  }
  // The per-gene mean cancels in the difference; the scale does not.
  const Eigen::MatrixXf difference = scaling.undo(trainer.decode(moved)) - scaling.undo(trainer.decode(base));
  for (std::size_t q = 0; q < queries.size(); ++q)
    if (has_donor[q]) predictions.col(Eigen::Index(q)) = difference.col(Eigen::Index(q)).cast<double>();
  return predictions;
}

}  // namespace tessera::solvers::autoencoder
