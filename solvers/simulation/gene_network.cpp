#include "solvers/simulation/gene_network.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"

namespace tessera::solvers::simulation {

namespace {

// Knuth's product-of-uniforms Poisson draw: exact, and fast for the small means used here (a few parents).
int draw_poisson(double mean, engine::RandomStream& random) {
  const double limit = std::exp(-mean);
  int count = 0;
  double product = random.uniform();
  while (product > limit) {
    ++count;
    product *= random.uniform();
  }
  return count;
}

void check_intervention(const Intervention& intervention, int num_genes) {
  TESSERA_CHECK(intervention.targets.size() == intervention.values.size(), "intervention has ",
                intervention.targets.size(), " targets but ", intervention.values.size(), " values");
  for (int target : intervention.targets)
    TESSERA_CHECK(target >= 0 && target < num_genes, "intervention target ", target, " is not a gene index in [0, ",
                  num_genes, ")");
}

}  // namespace

GeneNetwork::GeneNetwork(std::vector<int> order, std::vector<Edge> edges)
    : order_(std::move(order)), edges_(std::move(edges)) {
  const int n = int(order_.size());
  position_.assign(std::size_t(n), -1);
  for (int k = 0; k < n; ++k) {
    const int gene = order_[std::size_t(k)];
    TESSERA_CHECK(gene >= 0 && gene < n && position_[std::size_t(gene)] < 0,
                  "gene network: order is not a permutation of 0..", n - 1, " (entry ", k, " = ", gene, ")");
    position_[std::size_t(gene)] = k;
  }
  for (const Edge& edge : edges_) {
    TESSERA_CHECK(edge.parent >= 0 && edge.parent < n && edge.child >= 0 && edge.child < n, "gene network: edge ",
                  edge.parent, " -> ", edge.child, " names a gene outside [0, ", n, ")");
    TESSERA_CHECK(position_[std::size_t(edge.parent)] < position_[std::size_t(edge.child)], "gene network: edge ",
                  edge.parent, " -> ", edge.child, " goes against the topological order (or is a self loop)");
  }
  // Sorting by the child's position groups each gene's in-edges, in the order propagate() visits them.
  const auto key = [this](const Edge& e) {
    return std::pair(position_[std::size_t(e.child)], position_[std::size_t(e.parent)]);
  };
  std::sort(edges_.begin(), edges_.end(), [&](const Edge& a, const Edge& b) { return key(a) < key(b); });
  for (std::size_t e = 1; e < edges_.size(); ++e)
    TESSERA_CHECK(!(edges_[e] == edges_[e - 1]), "gene network: duplicate edge ", edges_[e].parent, " -> ",
                  edges_[e].child);
  in_begin_.assign(std::size_t(n) + 1, 0);
  for (const Edge& edge : edges_) ++in_begin_[std::size_t(position_[std::size_t(edge.child)]) + 1];
  for (int k = 0; k < n; ++k) in_begin_[std::size_t(k) + 1] += in_begin_[std::size_t(k)];
}

GeneNetwork GeneNetwork::random(int num_genes, const NetworkShape& shape, engine::RandomStream& random) {
  std::vector<int> order(static_cast<std::size_t>(num_genes));
  std::iota(order.begin(), order.end(), 0);
  random.shuffle(order);
  // Hubs sit at the head of the order: real master regulators (transcription factors, kinases) are upstream,
  // and being first lets every later gene choose them.
  const int num_hubs = int(std::lround(shape.hub_share * num_genes));
  std::vector<Edge> edges;
  std::vector<int> chosen;  // positions of the parents of the current gene
  for (int k = 1; k < num_genes; ++k) {
    const int wanted = std::min(draw_poisson(shape.expected_parents, random), k);
    const int hubs_before = std::min(num_hubs, k);
    chosen.clear();
    // Rejection of repeats; a gene with few predecessors may end with fewer parents than drawn.
    for (int attempt = 0; int(chosen.size()) < wanted && attempt < 20 * wanted; ++attempt) {
      // Non-hub parents come from the non-hubs, so that hub_edge_share is the share of hub edges (genes whose
      // predecessors are all hubs necessarily take hub parents).
      const bool from_hub = hubs_before == k || (hubs_before > 0 && random.bernoulli(shape.hub_edge_share));
      const int candidate = from_hub ? int(random.uniform_int(std::uint64_t(hubs_before)))
                                     : hubs_before + int(random.uniform_int(std::uint64_t(k - hubs_before)));
      if (std::find(chosen.begin(), chosen.end(), candidate) == chosen.end()) chosen.push_back(candidate);
    }
    for (int parent_position : chosen)
      edges.push_back(Edge{order[std::size_t(parent_position)], order[std::size_t(k)]});
  }
  return GeneNetwork(std::move(order), std::move(edges));
}

std::vector<int> GeneNetwork::out_degrees() const {
  std::vector<int> degrees(order_.size(), 0);
  for (const Edge& edge : edges_) ++degrees[std::size_t(edge.parent)];
  return degrees;
}

void GeneNetwork::propagate(std::span<const double> weights, Eigen::Ref<Eigen::VectorXd> x,
                            std::span<const std::uint8_t> clamped) const {
  TESSERA_CHECK(weights.size() == edges_.size(), "gene network: ", weights.size(), " weights for ", edges_.size(),
                " edges");
  TESSERA_CHECK(x.size() == num_genes(), "gene network: vector of ", x.size(), " for ", num_genes(), " genes");
  TESSERA_CHECK(clamped.empty() || clamped.size() == order_.size(), "gene network: ", clamped.size(),
                " clamp flags for ", num_genes(), " genes");
  // In place is safe: gene k reads only genes earlier in the order, which already hold their final value.
  for (std::size_t k = 0; k < order_.size(); ++k) {
    const int gene = order_[k];
    if (!clamped.empty() && clamped[std::size_t(gene)]) continue;
    double value = x[gene];
    for (std::size_t e = in_begin_[k]; e < in_begin_[k + 1]; ++e) value += weights[e] * x[edges_[e].parent];
    x[gene] = value;
  }
}

Eigen::VectorXd GeneNetwork::apply_i_minus_b(std::span<const double> weights, const Eigen::VectorXd& x) const {
  TESSERA_CHECK(weights.size() == edges_.size() && x.size() == num_genes(), "gene network: size mismatch");
  Eigen::VectorXd result = x;
  for (std::size_t e = 0; e < edges_.size(); ++e) result[edges_[e].child] -= weights[e] * x[edges_[e].parent];
  return result;
}

Eigen::SparseMatrix<double> GeneNetwork::weight_matrix(std::span<const double> weights) const {
  TESSERA_CHECK(weights.size() == edges_.size(), "gene network: ", weights.size(), " weights for ", edges_.size(),
                " edges");
  std::vector<Eigen::Triplet<double>> triplets;
  triplets.reserve(edges_.size());
  for (std::size_t e = 0; e < edges_.size(); ++e) triplets.emplace_back(edges_[e].child, edges_[e].parent, weights[e]);
  Eigen::SparseMatrix<double> b(num_genes(), num_genes());
  b.setFromTriplets(triplets.begin(), triplets.end());
  return b;
}

Eigen::VectorXd LinearSem::mean() const {
  TESSERA_CHECK(network != nullptr && intercepts.size() == network->num_genes(), "linear SEM: ", intercepts.size(),
                " intercepts for the network's genes");
  Eigen::VectorXd mu = intercepts;
  network->propagate(weights, mu);
  return mu;
}

Eigen::VectorXd LinearSem::effect(const Intervention& intervention, const Eigen::VectorXd& mean) const {
  const int n = network->num_genes();
  check_intervention(intervention, n);
  Eigen::VectorXd change = Eigen::VectorXd::Zero(n);
  if (intervention.kind == InterventionKind::kShift) {
    for (std::size_t t = 0; t < intervention.targets.size(); ++t)
      change[intervention.targets[t]] += intervention.values[t];
    network->propagate(weights, change);
    return change;
  }
  // Perfect: the mutilated SEM's mean minus mu obeys the same recursion with the targets clamped at v_t - mu_t.
  // Working with the change (not two means ~8 apart) keeps the result accurate to rounding of the change itself.
  std::vector<std::uint8_t> clamped(std::size_t(n), 0);
  for (std::size_t t = 0; t < intervention.targets.size(); ++t) {
    const int target = intervention.targets[t];
    clamped[std::size_t(target)] = 1;
    change[target] = intervention.values[t] - mean[target];
  }
  network->propagate(weights, change, clamped);
  return change;
}

void LinearSem::sample(const Intervention* intervention, engine::RandomStream& random, Eigen::Ref<Eigen::VectorXd> out,
                       std::vector<std::uint8_t>& clamp_buffer) const {
  const int n = network->num_genes();
  for (int g = 0; g < n; ++g) out[g] = intercepts[g] + noise_sd * random.normal();
  if (intervention == nullptr) {
    network->propagate(weights, out);
    return;
  }
  check_intervention(*intervention, n);
  if (intervention->kind == InterventionKind::kShift) {
    for (std::size_t t = 0; t < intervention->targets.size(); ++t)
      out[intervention->targets[t]] += intervention->values[t];
    network->propagate(weights, out);
    return;
  }
  clamp_buffer.assign(std::size_t(n), 0);
  for (std::size_t t = 0; t < intervention->targets.size(); ++t) {
    clamp_buffer[std::size_t(intervention->targets[t])] = 1;
    out[intervention->targets[t]] = intervention->values[t];  // its noise draw is discarded: do(x_t = v_t)
  }
  network->propagate(weights, out, clamp_buffer);
}

}  // namespace tessera::solvers::simulation
