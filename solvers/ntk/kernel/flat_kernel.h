// The NTK kernel entry K(i, j) computed from flat arrays (raw pointers, structure of arrays): the form a GPU reads,
// and one function, ntk_entry(), that both the GPU's tiles (solvers/ntk/cuda/ntk_tiles.cu) and a CPU test
// evaluate, so that the GPU's formulation is checked against PairFeatures::rho_tile + apply_ntk on any machine.
// No CUDA header here, and no Eigen (nvcc compiles this for the device): compiled by nvcc ntk_entry() is
// __host__ __device__. The host-side copies these views point at are in flat_tables.h.
#pragma once

#include <cstdint>

#include "solvers/ntk/kernel/ntk_formula.h"

namespace tessera::solvers::ntk {

// A PairList (features.h) as flat arrays. The source arrays are the similarity prior's (null for the mean priors),
// the slot array the mean priors' (null for the similarity prior).
struct FlatPairs {
  const std::int32_t* cell = nullptr;
  const std::int32_t* slot = nullptr;
  const double* prior_norm = nullptr;
  const double* inv_scale = nullptr;
  const std::int64_t* source_begin = nullptr;
  const std::int32_t* source_cell = nullptr;
  const std::int32_t* source_column = nullptr;
  const double* source_weight = nullptr;
};

// RhoTables (features.h) and the NtkShape as flat arrays. The similarity prior's Gram tables lie one after another
// in `grams`: cell type a's starts at gram_offset[a] and has gram_size[a] rows.
struct FlatRhoTables {
  double alpha = 0;
  bool similarity = false;
  const double* cell_gram = nullptr;
  std::int64_t cells = 0;
  const double* slot_gram = nullptr;
  std::int64_t slots = 0;
  const double* grams = nullptr;
  const std::int64_t* gram_offset = nullptr;
  const std::int64_t* gram_size = nullptr;
  int depth = 1;
  double bias_sq = 0;
};

// K(rows[i], cols[j]) = NTK(rho), rho as PairFeatures::rho_tile computes it (same operations, same order).
// same_list: rows and cols are the same regression rows, so rho = 1 where i == j (the one-hot block).
TESSERA_HOST_DEVICE inline double ntk_entry(const FlatRhoTables& t, const FlatPairs& rows, std::int64_t i,
                                            const FlatPairs& cols, std::int64_t j, bool same_list) {
  double rho;
  if (same_list && i == j) {
    rho = 1.0;
  } else if (!t.similarity) {
    const double cell_j = t.alpha * cols.prior_norm[j];
    const double p = t.alpha * rows.prior_norm[i] * cell_j * t.cell_gram[rows.cell[i] + cols.cell[j] * t.cells] +
                     t.slot_gram[rows.slot[i] + cols.slot[j] * t.slots];
    rho = p * rows.inv_scale[i] * cols.inv_scale[j];
  } else {
    // PairFeatures::drug_dot: merge the two source lists, sorted by cell type; then PairFeatures::dot.
    std::int64_t p = rows.source_begin[i], p_end = rows.source_begin[i + 1];
    std::int64_t q = cols.source_begin[j], q_end = cols.source_begin[j + 1];
    double sum = 0.0;
    while (p < p_end && q < q_end) {
      const std::int32_t x = rows.source_cell[p], y = cols.source_cell[q];
      if (x < y) {
        ++p;
      } else if (y < x) {
        ++q;
      } else {
        const double* gram = t.grams + t.gram_offset[x];
        sum += rows.source_weight[p] * cols.source_weight[q] *
               gram[rows.source_column[p] + cols.source_column[q] * t.gram_size[x]];
        ++p, ++q;
      }
    }
    const double alpha_sq = t.alpha * t.alpha;
    const double dot =
        alpha_sq * rows.prior_norm[i] * cols.prior_norm[j] * t.cell_gram[rows.cell[i] + cols.cell[j] * t.cells] + sum;
    rho = dot * rows.inv_scale[i] * cols.inv_scale[j];
  }
  return formula::ntk_of_rho(rho, t.depth, t.bias_sq);
}

}  // namespace tessera::solvers::ntk
