#include "solvers/simulation/single_cell_screen.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "engine/error.h"
#include "engine/random.h"

namespace tessera::solvers::simulation {

namespace {

using engine::RandomStream;

// Counts are stored as float32 (what scanpy and anndata hold): integers are exact up to 2^24.
constexpr double kLargestExactCount = 16777216.0;

// A Poisson(mu) draw from engine::RandomStream (so that it is the same on every machine, unlike <random>'s).
// Small means: inversion by sequential search (at most a few dozen steps below 10). Larger: Hormann's transformed
// rejection with squeeze (PTRS, "The transformed rejection method for generating Poisson random variables",
// Insurance: Mathematics and Economics 12, 1993), exact and O(1) whatever the mean.
double poisson(double mu, RandomStream& random) {
  if (!(mu > 0)) return 0;
  if (mu < 10) {
    const double u = random.uniform();
    double p = std::exp(-mu), cumulative = p;
    double k = 0;
    // The bound only stops rounding from running the sum past 1 forever: P(X > 200 | mu < 10) is below 1e-200.
    while (u > cumulative && k < 200) {
      k += 1;
      p *= mu / k;
      cumulative += p;
    }
    return k;
  }
  const double root = std::sqrt(mu), log_mu = std::log(mu);
  const double b = 0.931 + 2.53 * root, a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), v_r = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = random.uniform() - 0.5, v = random.uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + mu + 0.43);  // us = 0 gives -inf: rejected below
    if (us >= 0.07 && v <= v_r) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v * inv_alpha / (a / (us * us) + b)) <= -mu + k * log_mu - std::lgamma(k + 1)) return k;
  }
}

// `count` distinct unordered pairs (a < b) of `n` singles, uniformly: a partial Fisher-Yates over the n(n-1)/2
// pair numbers, kept sparse (only the swapped positions are stored), then sorted so pairs come in (a, b) order.
std::vector<std::pair<int, int>> draw_pairs(int n, int count, RandomStream& random) {
  const std::uint64_t total = std::uint64_t(n) * std::uint64_t(n - 1) / 2;
  std::unordered_map<std::uint64_t, std::uint64_t> swapped;
  auto at = [&](std::uint64_t i) {
    const auto found = swapped.find(i);
    return found == swapped.end() ? i : found->second;
  };
  std::vector<std::uint64_t> numbers;
  for (std::uint64_t i = 0; i < std::uint64_t(count); ++i) {
    const std::uint64_t j = i + random.uniform_int(total - i);
    const std::uint64_t picked = at(j);
    swapped[j] = at(i);
    numbers.push_back(picked);
  }
  std::sort(numbers.begin(), numbers.end());
  // Pair number k enumerates (0,1), (0,2), ..., (0,n-1), (1,2), ...: walk the rows once.
  std::vector<std::pair<int, int>> pairs;
  std::uint64_t row_start = 0;
  int a = 0;
  for (const std::uint64_t k : numbers) {
    while (k >= row_start + std::uint64_t(n - 1 - a)) row_start += std::uint64_t(n - 1 - a), ++a;
    pairs.emplace_back(a, a + 1 + int(k - row_start));
  }
  return pairs;
}

struct Perturbation {
  std::string name;
  std::vector<int> parts;  // indices of its singles
};

// Every perturbation, sorted by name (the truth's drugs are sorted ids): the singles and "A+B" for each pair.
std::vector<Perturbation> perturbations(const GroundTruth& bulk, const std::vector<std::pair<int, int>>& pairs) {
  std::vector<Perturbation> all;
  for (std::size_t s = 0; s < bulk.drugs.size(); ++s) all.push_back({bulk.drugs[s], {int(s)}});
  // The ids are zero-padded, so index order is name order and "A+B" (a < b) is already canonical.
  for (const auto& [a, b] : pairs)
    all.push_back({bulk.drugs[std::size_t(a)] + "+" + bulk.drugs[std::size_t(b)], {a, b}});
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return all;
}

// Which (cell type, perturbation) groups are measured: each with chance `share`, every perturbation somewhere.
std::vector<std::uint8_t> draw_measured(const SimulationParams& base, const SingleCellParams& p, std::size_t count) {
  RandomStream random(base.seed, "simulate/single_cell/measured");
  std::vector<std::uint8_t> measured(std::size_t(p.cell_types) * count, 0);
  for (auto& m : measured) m = random.bernoulli(p.measured_share);
  for (std::size_t d = 0; d < count; ++d) {
    bool seen = false;
    for (int c = 0; c < p.cell_types && !seen; ++c) seen = measured[std::size_t(c) * count + d];
    if (!seen) measured[std::size_t(random.uniform_int(std::uint64_t(p.cell_types))) * count + d] = 1;
  }
  return measured;
}

// The intervention lists of the truth for every perturbation: a pair holds both parts' target slots.
void set_interventions(const GroundTruth& bulk, const std::vector<Perturbation>& all, GroundTruth& truth) {
  truth.kinds.clear();
  truth.target_offsets.assign(1, 0);
  truth.target_genes.clear();
  std::vector<std::int64_t> slots;
  for (const auto& perturbation : all) {
    truth.kinds.push_back(bulk.kinds[std::size_t(perturbation.parts.front())]);
    for (const int s : perturbation.parts)
      for (auto slot = bulk.target_offsets[std::size_t(s)]; slot < bulk.target_offsets[std::size_t(s) + 1]; ++slot) {
        slots.push_back(slot);
        truth.target_genes.push_back(bulk.target_genes[std::size_t(slot)]);
      }
    truth.target_offsets.push_back(std::int64_t(slots.size()));
  }
  truth.target_values.resize(Eigen::Index(slots.size()), bulk.target_values.cols());
  for (std::size_t i = 0; i < slots.size(); ++i)
    truth.target_values.row(Eigen::Index(i)) = bulk.target_values.row(slots[i]);
}

}  // namespace

void SingleCellParams::validate() const {
  engine::check_knobs(*this);
  const double possible = double(singles) * (singles - 1) / 2;
  TESSERA_CHECK(pairs <= possible, "single-cell simulation parameter pairs = ", pairs, " exceeds the ", possible,
                " distinct pairs of ", singles, " singles; lower --pairs or raise --singles");
  const double groups = double(cell_types) * (singles + pairs);
  const double cells = double(cell_types) * control_cells + groups * cells_per_group;
  TESSERA_CHECK(cells <= 1e8, "single-cell simulation parameters make up to ", cells,
                " cells (cell_types x (control_cells + (singles + pairs) x cells_per_group)), over the allowed 1e8; "
                "lower --cells-per-group, --control-cells or the number of perturbations");
}

std::string SingleCellParams::describe() const {
  std::ostringstream out;
  engine::for_each_knob(*this, [&](const char* name, const auto& value, const char*) {
    out << (out.tellp() > 0 ? " " : "") << name << '=' << value;
  });
  return out.str();
}

SimulationParams single_cell_base_params(const SimulationParams& network, const SingleCellParams& params) {
  SimulationParams base = network;
  base.num_cells = params.cell_types;
  base.num_drugs = params.singles;
  // Only the bulk truth is used: the fewest bulk profiles (one control per cell type, each drug once).
  base.replicates = 1;
  base.controls_per_cell = 1;
  base.reference_cells = 0;
  base.density = 0;
  return base;
}

std::string gears_condition(const std::string& perturbation) {
  if (perturbation == kSingleCellControl) return perturbation;
  return perturbation.find('+') == std::string::npos ? perturbation + "+" + kSingleCellControl : perturbation;
}

SingleCellScreen simulate_single_cell(const SimulationParams& network, const SingleCellParams& params) {
  params.validate();
  const SimulationParams base = single_cell_base_params(network, params);
  const GroundTruth bulk = simulate_screen(base).truth;
  const int cells = params.cell_types, genes = base.num_genes;

  RandomStream pair_random(base.seed, "simulate/single_cell/pairs");
  const std::vector<Perturbation> all = perturbations(bulk, draw_pairs(params.singles, params.pairs, pair_random));
  const std::size_t count = all.size();

  SingleCellScreen screen;
  screen.genes = bulk.genes;
  for (const auto& perturbation : all) screen.parts.push_back(perturbation.parts);
  GroundTruth& truth = screen.truth;
  truth = bulk;
  truth.drugs.clear();
  for (const auto& perturbation : all) truth.drugs.push_back(perturbation.name);
  truth.observed = draw_measured(base, params, count);
  set_interventions(bulk, all, truth);

  // Baseline shares: 2^mu normalised per cell type (shifted by the largest mu first, so 2^mu cannot overflow).
  screen.control_proportions.resize(genes, cells);
  for (int c = 0; c < cells; ++c) {
    const Eigen::VectorXd mu = bulk.baseline_means.col(c);
    const Eigen::VectorXd weights = ((mu.array() - mu.maxCoeff()) * std::log(2.0)).exp().matrix();
    screen.control_proportions.col(c) = weights / weights.sum();
  }

  // Rates of every group (index c * (count + 1) + 1 + p; the control is p = -1) and the truth.
  const double ln2 = std::log(2.0);
  std::vector<Eigen::VectorXd> rates(std::size_t(cells) * (count + 1));
  truth.signatures.resize(genes, Eigen::Index(cells) * Eigen::Index(count));
  for (int c = 0; c < cells; ++c) {
    const Eigen::VectorXd control_rates = params.library_size * screen.control_proportions.col(c);
    rates[std::size_t(c) * (count + 1)] = control_rates;
    for (std::size_t p = 0; p < count; ++p) {
      Eigen::VectorXd effect = Eigen::VectorXd::Zero(genes);
      Eigen::Array<bool, Eigen::Dynamic, 1> changed = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(genes, false);
      for (const int s : all[p].parts) {
        const auto signature = bulk.signatures.col(bulk.entry(c, s));
        effect += ln2 * signature;
        changed = changed || (signature.array() != 0);
      }
      if (all[p].parts.size() > 1 && params.interaction_sd > 0) {
        RandomStream random(base.seed, "simulate/single_cell/interaction", std::uint64_t(c) * count + p);
        for (Eigen::Index g = 0; g < genes; ++g)
          if (changed[g]) effect[g] += params.interaction_sd * random.normal();
      }
      const Eigen::VectorXd group_rates = control_rates.array() * effect.array().exp();
      rates[std::size_t(c) * (count + 1) + 1 + p] = group_rates;
      truth.signatures.col(Eigen::Index(std::size_t(c) * count + p)) =
          params.target_sum * (group_rates / group_rates.sum() - screen.control_proportions.col(c));
    }
  }

  // The cells: per cell type its controls, then each measured perturbation's cells; one stream per group.
  std::vector<std::string> ids, perturbation_column, cell_type_column;
  io::CsrMatrix& x = screen.counts;
  x.cols = genes;
  for (int c = 0; c < cells; ++c) {
    const std::string& cell_type = bulk.cells[std::size_t(c)];
    for (std::size_t group = 0; group <= count; ++group) {
      const bool control = group == 0;
      if (!control && !truth.observed[std::size_t(c) * count + group - 1]) continue;
      const std::string& name = control ? std::string(kSingleCellControl) : all[group - 1].name;
      const std::uint64_t index = std::uint64_t(c) * (count + 1) + group;
      const Eigen::VectorXd& rate = rates[index];
      RandomStream random(base.seed, "simulate/single_cell/cells", index);
      const int size = control ? params.control_cells : params.cells_per_group;
      for (int k = 1; k <= size; ++k) {
        const double sd = params.library_sd;
        const double factor = std::exp(sd * random.normal() - sd * sd / 2);
        for (Eigen::Index g = 0; g < genes; ++g) {
          const double value = poisson(factor * rate[g], random);
          if (value == 0) continue;
          TESSERA_CHECK(value < kLargestExactCount, "single-cell simulation: a count of ", value, " in ", cell_type,
                        " ", name, " does not fit float32 exactly; lower --library-size or --library-sd");
          x.indices.push_back(std::int32_t(g));
          x.data.push_back(float(value));
        }
        x.indptr.push_back(std::int64_t(x.data.size()));
        ids.push_back(cell_type + ":" + name + ":" + std::to_string(k));
        perturbation_column.push_back(name);
        cell_type_column.push_back(cell_type);
      }
    }
  }
  x.rows = std::int64_t(ids.size());
  std::vector<std::string> conditions;
  for (const auto& name : perturbation_column) conditions.push_back(gears_condition(name));
  screen.obs.ids = std::move(ids);
  screen.obs.set_text("perturbation", std::move(perturbation_column));
  screen.obs.set_text("cell_type", std::move(cell_type_column));
  screen.obs.set_text("condition", std::move(conditions));
  return screen;
}

void write_single_cell_screen(const std::filesystem::path& path, const SingleCellScreen& screen) {
  io::MetaTable var;
  var.ids = screen.genes;
  var.set_text("gene_name", screen.truth.gene_symbols);  // GEARS reads var's gene_name
  io::write_h5ad_csr(path, screen.obs, var, screen.counts);
}

}  // namespace tessera::solvers::simulation
