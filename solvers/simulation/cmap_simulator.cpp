#include "solvers/simulation/cmap_simulator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>

#include "engine/error.h"
#include "engine/random.h"
#include "io/atomic_file.h"
#include "io/hdf5_file.h"

namespace tessera::solvers::simulation {

namespace {

using engine::RandomStream;

// The truth file's identity: /truth carries these attributes; read_ground_truth refuses anything else.
constexpr const char* kTruthGroup = "/truth";
constexpr const char* kTruthFormat = "tessera.simulation.truth";
constexpr double kTruthVersion = 1;

// The id lists of a truth file and their dataset names under kTruthGroup.
template <typename Truth>
auto string_datasets(Truth& truth) {
  return std::array{std::pair{"/genes", &truth.genes}, std::pair{"/gene_symbols", &truth.gene_symbols},
                    std::pair{"/cells", &truth.cells}, std::pair{"/drugs", &truth.drugs}};
}

void check_range(const char* name, double value, double low, double high) {
  TESSERA_CHECK(std::isfinite(value) && value >= low && value <= high, "simulation parameter ", name, " = ", value,
                " is out of range; allowed: [", low, ", ", high, "]");
}

// "PREFIX0001": zero-padded to a common width so that the ids sort in index order.
std::vector<std::string> make_ids(const std::string& prefix, int count, int min_width) {
  const int width = std::max(min_width, int(std::to_string(count).size()));
  std::vector<std::string> ids;
  for (int i = 1; i <= count; ++i) {
    std::string number = std::to_string(i);
    ids.push_back(prefix + std::string(std::size_t(width) - number.size(), '0') + number);
  }
  return ids;
}

template <typename T>
std::vector<std::int64_t> to_ints(const std::vector<T>& values) {
  std::vector<std::int64_t> out;
  for (const auto& v : values) out.push_back(std::int64_t(v));
  return out;
}

double signed_uniform(RandomStream& random, double low, double high) {
  const double magnitude = random.uniform(low, high);
  return random.bernoulli(0.5) ? magnitude : -magnitude;
}

// Druggable genes: drawn without replacement with probability proportional to the out-degree, because drugs
// mostly hit kinases and transcription factors that regulate many genes; a drug whose only target is a sink
// gene would change a single gene. Efraimidis-Spirakis: keep the genes with the largest log(u) / weight.
std::vector<int> draw_target_pool(const GeneNetwork& network, int pool_size, RandomStream& random) {
  const std::vector<int> out_degrees = network.out_degrees();
  std::vector<std::pair<double, int>> keyed;
  for (int g = 0; g < network.num_genes(); ++g) {
    const double u = 1.0 - random.uniform();  // (0, 1]
    // Genes without children (weight 0) come last, in random order, when the regulators run out.
    const double weight = out_degrees[std::size_t(g)];
    keyed.emplace_back(weight > 0 ? std::log(u) / weight : -1e300 * (1.0 + u), g);
  }
  std::sort(keyed.begin(), keyed.end(), std::greater<>());
  std::vector<int> pool;
  for (int i = 0; i < pool_size; ++i) pool.push_back(keyed[std::size_t(i)].second);
  return pool;
}

// Draws the drugs: kind, targets (distinct, from the pool) and the base effect of each target.
void draw_drugs(const SimulationParams& p, const GeneNetwork& network, GroundTruth& truth,
                std::vector<double>& base_effects) {
  RandomStream random(p.seed, "simulate/drugs");
  std::vector<int> pool = draw_target_pool(network, p.target_pool_size, random);
  truth.target_offsets.assign(1, 0);
  for (int d = 0; d < p.num_drugs; ++d) {
    truth.kinds.push_back(random.bernoulli(p.perfect_share) ? InterventionKind::kPerfect : InterventionKind::kShift);
    // Partial Fisher-Yates: the first targets_per_drug entries of the pool become a uniform random subset.
    for (int t = 0; t < p.targets_per_drug; ++t) {
      std::swap(pool[std::size_t(t)], pool[std::size_t(t) + random.uniform_int(std::uint64_t(pool.size()) - t)]);
      truth.target_genes.push_back(pool[std::size_t(t)]);
      const double magnitude = random.uniform(p.effect_low, p.effect_high);
      base_effects.push_back(random.bernoulli(p.inhibition_share) ? -magnitude : magnitude);
    }
    truth.target_offsets.push_back(std::int64_t(truth.target_genes.size()));
  }
}

// Builds the observation mask (see the header): reference cell types, per-cell densities, drug popularity.
void draw_mask(const SimulationParams& p, GroundTruth& truth) {
  RandomStream random(p.seed, "simulate/mask");
  std::vector<int> cells(std::size_t(p.num_cells));
  std::iota(cells.begin(), cells.end(), 0);
  random.shuffle(cells);
  truth.reference_cells.assign(cells.begin(), cells.begin() + p.reference_cells);
  std::sort(truth.reference_cells.begin(), truth.reference_cells.end());
  // Log-normal popularity, rescaled to mean 1 so that `density` stays the mean share of each other cell type.
  std::vector<double> popularity(std::size_t(p.num_drugs));
  for (auto& w : popularity) w = std::exp(p.popularity_skew * random.normal());
  const double total = std::accumulate(popularity.begin(), popularity.end(), 0.0);
  for (auto& w : popularity) w *= p.num_drugs / total;
  truth.observed.assign(std::size_t(p.num_cells) * std::size_t(p.num_drugs), 0);
  for (int c = 0; c < p.num_cells; ++c) {
    const bool reference = std::binary_search(truth.reference_cells.begin(), truth.reference_cells.end(), c);
    const double cell_density = p.density * random.uniform(1 - p.cell_density_spread, 1 + p.cell_density_spread);
    for (int d = 0; d < p.num_drugs; ++d) {
      const double chance = reference ? p.reference_density : std::min(1.0, cell_density * popularity[std::size_t(d)]);
      truth.observed[std::size_t(truth.entry(c, d))] = random.bernoulli(chance);
    }
  }
  // Every drug is measured somewhere: an unmeasured one goes to a reference cell type (any, when there is none).
  for (int d = 0; d < p.num_drugs; ++d) {
    bool seen = false;
    for (int c = 0; c < p.num_cells && !seen; ++c) seen = truth.observed[std::size_t(truth.entry(c, d))];
    if (seen) continue;
    const int c = truth.reference_cells.empty()
                      ? int(random.uniform_int(std::uint64_t(p.num_cells)))
                      : truth.reference_cells[random.uniform_int(truth.reference_cells.size())];
    truth.observed[std::size_t(truth.entry(c, d))] = 1;
  }
}

// The causal model: network, per-cell weights and means, drugs, exact signatures.
GroundTruth build_truth(const SimulationParams& p) {
  GroundTruth truth;
  truth.params = p;
  truth.genes = make_ids("g", p.num_genes, 4);
  truth.gene_symbols = make_ids("GENE", p.num_genes, 4);
  truth.cells = make_ids("CELL", p.num_cells, 2);
  truth.drugs = make_ids("DRUG", p.num_drugs, 4);

  RandomStream network_random(p.seed, "simulate/network");
  truth.network = GeneNetwork::random(p.num_genes, {p.expected_parents, p.hub_share, p.hub_edge_share}, network_random);
  const auto num_edges = Eigen::Index(truth.network.num_edges());
  Eigen::VectorXd base_weights(num_edges);
  for (auto& w : base_weights) w = signed_uniform(network_random, p.weight_low, p.weight_high);
  RandomStream expression_random(p.seed, "simulate/expression");
  Eigen::VectorXd shared_means(p.num_genes);
  for (auto& m : shared_means) m = p.mean_expression + p.mean_expression_sd * expression_random.normal();

  std::vector<double> base_effects;
  draw_drugs(p, truth.network, truth, base_effects);

  truth.edge_weights.resize(num_edges, p.num_cells);
  truth.target_values.resize(Eigen::Index(truth.target_genes.size()), p.num_cells);
  truth.intercepts.resize(p.num_genes, p.num_cells);
  truth.baseline_means.resize(p.num_genes, p.num_cells);
  for (int c = 0; c < p.num_cells; ++c) {
    RandomStream random(p.seed, "simulate/cell", std::uint64_t(c));
    for (Eigen::Index e = 0; e < num_edges; ++e) {
      const bool redraw = random.bernoulli(p.changed_edge_share);
      const double fresh = signed_uniform(random, p.weight_low, p.weight_high);  // drawn always: keeps streams aligned
      truth.edge_weights(e, c) = redraw ? fresh : base_weights[e];
    }
    Eigen::VectorXd means = shared_means;
    for (auto& m : means) m += p.cell_mean_sd * random.normal();
    // Choosing the means and deriving b_c = (I - B_c) mu_c keeps every gene on the log2 expression scale; drawing
    // b_c directly would pile the ancestors' levels onto downstream genes.
    std::span<const double> weights(truth.edge_weights.col(c).data(), std::size_t(num_edges));
    truth.intercepts.col(c) = truth.network.apply_i_minus_b(weights, means);
    truth.baseline_means.col(c) = truth.sem(c).mean();
    // A perfect intervention sets its target to a level relative to the gene's shared mean; the response factor
    // (median 1) makes the same drug act more or less strongly on each target in each cell type.
    for (int d = 0; d < p.num_drugs; ++d) {
      const bool perfect = truth.kinds[std::size_t(d)] == InterventionKind::kPerfect;
      for (auto s = truth.target_offsets[std::size_t(d)]; s < truth.target_offsets[std::size_t(d) + 1]; ++s) {
        const double effect = base_effects[std::size_t(s)] * std::exp(p.response_sd * random.normal());
        truth.target_values(s, c) = perfect ? shared_means[truth.target_genes[std::size_t(s)]] + effect : effect;
      }
    }
  }

  truth.signatures.resize(p.num_genes, truth.num_entries());
  for (int c = 0; c < p.num_cells; ++c) {
    const LinearSem sem = truth.sem(c);
    const Eigen::VectorXd mean = truth.baseline_means.col(c);
    for (int d = 0; d < p.num_drugs; ++d)
      truth.signatures.col(truth.entry(c, d)) = sem.effect(truth.intervention(c, d), mean);
  }
  draw_mask(p, truth);
  return truth;
}

// Draws the profiles: per cell type its controls, then `replicates` profiles per observed drug.
io::GeneMatrix draw_samples(const SimulationParams& p, const GroundTruth& truth) {
  const auto num_observed = std::int64_t(std::count(truth.observed.begin(), truth.observed.end(), 1));
  const std::int64_t total = std::int64_t(p.num_cells) * p.controls_per_cell + num_observed * p.replicates;
  io::GeneMatrix screen;
  screen.values.resize(p.num_genes, total);
  std::vector<std::string> ids, cell_ids, pert_ids, inames, doses, times, types;
  Eigen::VectorXd profile(p.num_genes);
  std::vector<std::uint8_t> clamp_buffer;
  Eigen::Index column = 0;
  const auto add_profile = [&](const LinearSem& sem, const Intervention* intervention, RandomStream& random) {
    sem.sample(intervention, random, profile, clamp_buffer);
    for (auto& x : profile) x += p.measurement_sd * random.normal();
    screen.values.col(column++) = profile.cast<float>();
  };
  for (int c = 0; c < p.num_cells; ++c) {
    const LinearSem sem = truth.sem(c);
    const std::string& cell = truth.cells[std::size_t(c)];
    RandomStream control_random(p.seed, "simulate/controls", std::uint64_t(c));
    for (int k = 1; k <= p.controls_per_cell; ++k) {
      add_profile(sem, nullptr, control_random);
      ids.push_back(cell + ":DMSO:" + std::to_string(k));
      cell_ids.push_back(cell), pert_ids.push_back("DMSO"), inames.push_back("DMSO");
      doses.push_back("-666"), times.push_back("24 h"), types.push_back("ctl_vehicle");  // controls carry no dose
    }
    for (int d = 0; d < p.num_drugs; ++d) {
      const std::int64_t entry = truth.entry(c, d);
      if (!truth.observed[std::size_t(entry)]) continue;
      const Intervention intervention = truth.intervention(c, d);
      RandomStream random(p.seed, "simulate/treated", std::uint64_t(entry));
      const std::string& drug = truth.drugs[std::size_t(d)];
      for (int r = 1; r <= p.replicates; ++r) {
        add_profile(sem, &intervention, random);
        ids.push_back(cell + ":" + drug + ":" + std::to_string(r));
        cell_ids.push_back(cell), pert_ids.push_back(drug), inames.push_back("simdrug-" + drug.substr(4));
        doses.push_back("10 uM"), times.push_back("24 h"), types.push_back("trt_cp");
      }
    }
  }
  screen.rows.ids = truth.genes;
  screen.rows.set_text("pr_gene_symbol", truth.gene_symbols);
  screen.cols.ids = std::move(ids);
  for (auto& [name, values] :
       std::array{std::pair{"cell_id", &cell_ids}, std::pair{"pert_id", &pert_ids}, std::pair{"pert_iname", &inames},
                  std::pair{"pert_idose", &doses}, std::pair{"pert_itime", &times}, std::pair{"pert_type", &types}})
    screen.cols.set_text(name, std::move(*values));
  return screen;
}

}  // namespace

void SimulationParams::validate() const {
  engine::check_knobs(*this);
  const double tensor = double(num_genes) * num_cells * num_drugs;  // the complete truth, in doubles
  TESSERA_CHECK(tensor <= 2e9, "simulation parameters num_genes x num_cells x num_drugs = ", tensor,
                " exceeds the allowed 2e9 values (16 GB of ground truth); reduce one of them");
  check_range("weight_low", weight_low, 0, weight_high);
  check_range("target_pool_size", target_pool_size, 1, num_genes);
  check_range("targets_per_drug", targets_per_drug, 1, target_pool_size);
  check_range("effect_low", effect_low, 0, effect_high);
  check_range("reference_cells", reference_cells, 0, num_cells);
}

std::string SimulationParams::describe() const {
  std::ostringstream out;
  engine::for_each_knob(*this, [&](const char* name, const auto& value, const char*) {
    out << (out.tellp() > 0 ? " " : "") << name << '=' << value;
  });
  return out.str();
}

LinearSem GroundTruth::sem(int cell) const {
  const auto edges = std::size_t(edge_weights.rows());
  return LinearSem{&network, std::vector<double>(edge_weights.col(cell).data(), edge_weights.col(cell).data() + edges),
                   intercepts.col(cell), params.noise_sd};
}

Intervention GroundTruth::intervention(int cell, int drug) const {
  Intervention result;
  result.kind = kinds[std::size_t(drug)];
  for (auto s = target_offsets[std::size_t(drug)]; s < target_offsets[std::size_t(drug) + 1]; ++s) {
    result.targets.push_back(target_genes[std::size_t(s)]);
    result.values.push_back(target_values(s, cell));
  }
  return result;
}

SimulatedScreen simulate_screen(const SimulationParams& params) {
  params.validate();
  SimulatedScreen screen;
  screen.truth = build_truth(params);
  screen.samples = draw_samples(params, screen.truth);
  return screen;
}

void write_ground_truth(const std::filesystem::path& path, const GroundTruth& truth) {
  {
    io::Hdf5Writer file(path);
    const std::string g = kTruthGroup;
    for (const auto& [name, ids] : string_datasets(truth)) file.write_strings(g + name, *ids);
    file.write_matrix(g + "/signatures", truth.signatures);
    file.write_ints(g + "/observed", to_ints(truth.observed));
    std::vector<std::int64_t> reference(truth.cells.size(), 0);  // one flag per cell type: never an empty dataset
    for (int c : truth.reference_cells) reference[std::size_t(c)] = 1;
    file.write_ints(g + "/reference_cell", reference);
    file.write_matrix(g + "/baseline_means", truth.baseline_means);
    file.write_matrix(g + "/intercepts", truth.intercepts);
    file.write_ints(g + "/network/order", to_ints(truth.network.order()));
    if (truth.network.num_edges() > 0) {  // a network without edges stores no (empty) edge datasets
      std::vector<std::int64_t> parents, children;
      for (const Edge& edge : truth.network.edges()) parents.push_back(edge.parent), children.push_back(edge.child);
      file.write_ints(g + "/network/parents", parents);
      file.write_ints(g + "/network/children", children);
      file.write_matrix(g + "/network/weights", truth.edge_weights);
    }
    file.write_ints(g + "/interventions/kind", to_ints(truth.kinds));
    file.write_ints(g + "/interventions/target_offsets", truth.target_offsets);
    file.write_ints(g + "/interventions/target_genes", to_ints(truth.target_genes));
    file.write_matrix(g + "/interventions/target_values", truth.target_values);
    // Attributes last: the group exists once its datasets do.
    file.write_attribute(g, "format", kTruthFormat);
    file.write_attribute(g, "version", kTruthVersion);
    file.write_attribute(g, "num_edges", double(truth.network.num_edges()));
    file.write_attribute(g, "seed", std::to_string(truth.params.seed));  // a double would drop bits of a 64-bit seed
    file.write_attribute(g, "description", truth.params.describe());
    engine::for_each_knob(truth.params, [&](const char* name, const auto& value, const char*) {
      using Value = std::remove_cv_t<std::remove_reference_t<decltype(value)>>;
      if constexpr (!std::is_same_v<Value, std::uint64_t>) file.write_attribute(g, name, double(value));
    });
    file.close();
  }
}

GroundTruth read_ground_truth(const std::filesystem::path& path) {
  const std::string where = path.string();
  io::Hdf5Reader file(path);
  const std::string g = kTruthGroup;
  TESSERA_CHECK(file.has(g + "/signatures") && file.has(g + "/network/order"), where,
                " is not a Tessera simulation truth file (no ", g, "/signatures or ", g,
                "/network/order); write one with the simulator (write_ground_truth)");
  const std::string format = file.read_string_attribute(g, "format");
  TESSERA_CHECK(format == kTruthFormat, where, ": ", g, " has format '", format, "', expected '", kTruthFormat,
                "'; this is not a Tessera simulation truth file");
  const double version = file.read_number_attribute(g, "version");
  TESSERA_CHECK(version == kTruthVersion, where, ": truth file version ", version, " is not supported (this build ",
                "reads version ", kTruthVersion, ")");

  GroundTruth truth;
  truth.params.seed = std::stoull(file.read_string_attribute(g, "seed"));
  engine::for_each_knob(truth.params, [&](const char* name, auto& value, const char*) {
    using Value = std::remove_reference_t<decltype(value)>;
    if constexpr (!std::is_same_v<Value, std::uint64_t>)
      value = static_cast<Value>(file.read_number_attribute(g, name));
  });
  for (const auto& [name, ids] : string_datasets(truth)) *ids = file.read_strings(g + name);
  truth.signatures = file.read_matrix(g + "/signatures");
  for (auto v : file.read_ints(g + "/observed")) truth.observed.push_back(std::uint8_t(v != 0));
  const auto reference = file.read_ints(g + "/reference_cell");
  for (std::size_t c = 0; c < reference.size(); ++c)
    if (reference[c]) truth.reference_cells.push_back(int(c));
  truth.baseline_means = file.read_matrix(g + "/baseline_means");
  truth.intercepts = file.read_matrix(g + "/intercepts");
  const auto order = file.read_ints(g + "/network/order");
  std::vector<Edge> edges;
  truth.edge_weights.resize(0, Eigen::Index(truth.cells.size()));
  if (file.read_number_attribute(g, "num_edges") > 0) {
    const auto parents = file.read_ints(g + "/network/parents");
    const auto children = file.read_ints(g + "/network/children");
    TESSERA_CHECK(parents.size() == children.size(), where, ": network parents and children differ in length");
    for (std::size_t e = 0; e < parents.size(); ++e) edges.push_back(Edge{int(parents[e]), int(children[e])});
    truth.edge_weights = file.read_matrix(g + "/network/weights");
  }
  truth.network = GeneNetwork(std::vector<int>(order.begin(), order.end()), edges);
  // The constructor sorts edges; the file was written in that same sorted order, so weights still line up.
  TESSERA_CHECK(truth.network.edges() == edges, where, ": network edges are not in the canonical order");
  for (auto v : file.read_ints(g + "/interventions/kind")) truth.kinds.push_back(InterventionKind(v != 0));
  truth.target_offsets = file.read_ints(g + "/interventions/target_offsets");
  const auto target_genes = file.read_ints(g + "/interventions/target_genes");
  truth.target_genes.assign(target_genes.begin(), target_genes.end());
  truth.target_values = file.read_matrix(g + "/interventions/target_values");

  const auto genes = Eigen::Index(truth.genes.size()), cells = Eigen::Index(truth.cells.size());
  const bool consistent =
      truth.gene_symbols.size() == truth.genes.size() && truth.network.num_genes() == genes &&
      truth.signatures.rows() == genes && truth.signatures.cols() == truth.num_entries() &&
      std::int64_t(truth.observed.size()) == truth.num_entries() && std::int64_t(reference.size()) == cells &&
      truth.baseline_means.rows() == genes && truth.baseline_means.cols() == cells &&
      truth.intercepts.rows() == genes && truth.intercepts.cols() == cells &&
      truth.edge_weights.rows() == Eigen::Index(edges.size()) && truth.edge_weights.cols() == cells &&
      truth.kinds.size() == truth.drugs.size() && truth.target_offsets.size() == truth.drugs.size() + 1 &&
      truth.target_offsets.back() == std::int64_t(truth.target_genes.size()) &&
      truth.target_values.rows() == Eigen::Index(truth.target_genes.size()) && truth.target_values.cols() == cells;
  TESSERA_CHECK(consistent, where, ": the datasets under ", g, " have inconsistent sizes (", genes, " genes, ", cells,
                " cells, ", truth.drugs.size(), " drugs); the file is damaged or from another program");
  return truth;
}

}  // namespace tessera::solvers::simulation
