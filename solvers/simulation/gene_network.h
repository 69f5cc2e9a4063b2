// A sparse gene-regulatory DAG and a linear structural equation model (SEM) on it.
//
// SEM convention: x = B x + b + e, where B(i, j) is the weight of the edge j -> i, b the intercepts and
// e ~ N(0, noise_sd^2 I). The graph is acyclic, so I - B is (after permuting to topological order) unit lower
// triangular and always invertible: the mean is mu = (I - B)^-1 b. Every "(I - B)^-1 v" here is computed by
// walking the topological order once, x_i = v_i + sum_{j -> i} B(i, j) x_j, which costs O(genes + edges);
// no dense genes x genes matrix is ever formed.
//
// Interventions (the simulator's drugs) act on a few target genes:
//   shift   : delta_t is added to target t's equation; mean change = (I - B)^-1 delta.
//   perfect : target t's incoming edges are cut and x_t is set to value v_t (no noise: do(x_t = v_t)); the mean
//             change is the mean of the mutilated SEM minus mu, i.e. v_t - mu_t at the targets, propagated to
//             their descendants through the edges that remain.
// Both are exact in closed form; all functions here are local (no MPI).
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/random.h"

namespace tessera::solvers::simulation {

struct Edge {
  int parent = 0;  // regulator
  int child = 0;   // regulated gene
  bool operator==(const Edge&) const = default;
};

// Knobs of the random graph (SimulationParams forwards its own).
struct NetworkShape {
  double expected_parents = 1.5;  // mean in-degree of a gene (Poisson, capped by the genes before it)
  double hub_share = 0.05;        // share of genes that are upstream hub regulators (first in the order)
  double hub_edge_share = 0.3;    // share of edges whose parent is a hub
};

class GeneNetwork {
 public:
  GeneNetwork() = default;  // no genes
  // `order` is a permutation of 0..n-1, a topological order; each edge's parent must come before its child.
  // Throws tessera::Error on a bad permutation, an out-of-range gene, a self loop, a duplicate edge or an edge
  // that goes against the order. Edges are kept sorted by (position of child, position of parent).
  GeneNetwork(std::vector<int> order, std::vector<Edge> edges);

  // A random ER-like DAG with hubs: a uniformly random order; the first round(hub_share * n) genes of it are
  // hubs; gene k in the order draws Poisson(expected_parents) distinct parents among the k genes before it,
  // each a hub with probability hub_edge_share (when a hub precedes it), otherwise uniform.
  static GeneNetwork random(int num_genes, const NetworkShape& shape, engine::RandomStream& random);

  int num_genes() const { return int(order_.size()); }
  std::size_t num_edges() const { return edges_.size(); }
  const std::vector<int>& order() const { return order_; }        // order()[k] = gene at position k
  const std::vector<int>& position() const { return position_; }  // inverse of order()
  const std::vector<Edge>& edges() const { return edges_; }       // weight vectors are indexed like this
  std::vector<int> out_degrees() const;                           // per gene

  // x <- (I - B)^-1 x in place, B given by `weights` (one per edge). Genes with clamped[g] != 0 keep their
  // value and ignore their parents (a perfect intervention). clamped: empty or one flag per gene.
  void propagate(std::span<const double> weights, Eigen::Ref<Eigen::VectorXd> x,
                 std::span<const std::uint8_t> clamped = {}) const;

  // x <- (I - B) x: the inverse of propagate() without clamps (used to turn desired means into intercepts).
  Eigen::VectorXd apply_i_minus_b(std::span<const double> weights, const Eigen::VectorXd& x) const;

  // B as a sparse genes x genes matrix, B(child, parent) = weight; for tests and analysis.
  Eigen::SparseMatrix<double> weight_matrix(std::span<const double> weights) const;

 private:
  std::vector<int> order_;
  std::vector<int> position_;
  std::vector<Edge> edges_;
  std::vector<std::size_t> in_begin_;  // edges of the child at position k: [in_begin_[k], in_begin_[k + 1])
};

enum class InterventionKind : int { kShift = 0, kPerfect = 1 };

struct Intervention {
  InterventionKind kind = InterventionKind::kShift;
  std::vector<int> targets;    // distinct genes
  std::vector<double> values;  // per target: the shift delta_t, or the value v_t a perfect intervention sets
};

// One linear SEM on a network: per-edge weights, intercepts b and the noise sd of each equation.
struct LinearSem {
  const GeneNetwork* network = nullptr;  // not owned
  std::vector<double> weights;           // one per network->edges()
  Eigen::VectorXd intercepts;            // b, one per gene
  double noise_sd = 1.0;

  // mu = (I - B)^-1 b.
  Eigen::VectorXd mean() const;
  // The exact change of the mean that `intervention` causes (shift or perfect); `mean` must be this->mean().
  Eigen::VectorXd effect(const Intervention& intervention, const Eigen::VectorXd& mean) const;
  // One draw of x under `intervention` (nullptr: observational), written to `out` (one per gene).
  // Draws exactly num_genes normals from `random`, in gene index order, so streams stay aligned.
  void sample(const Intervention* intervention, engine::RandomStream& random, Eigen::Ref<Eigen::VectorXd> out,
              std::vector<std::uint8_t>& clamp_buffer) const;
};

}  // namespace tessera::solvers::simulation
