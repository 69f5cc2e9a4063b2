// Host copies of the NTK's tables in the flat layout of flat_kernel.h: the similarity prior's Gram tables laid end
// to end, and a PairList's sources split into columns. What the CUDA backend uploads, and what a CPU test points
// FlatPairs / FlatRhoTables at.
#pragma once

#include <cstdint>
#include <vector>

#include "solvers/ntk/kernel/features.h"

namespace tessera::solvers::ntk {

// The source list of a PairList split into columns (host memory), what FlatPairs points at for it.
struct PairSourceColumns {
  std::vector<std::int32_t> cell, column;
  std::vector<double> weight;

  explicit PairSourceColumns(const PairList& pairs) {
    for (const auto& source : pairs.sources) {
      cell.push_back(source.cell);
      column.push_back(source.column);
      weight.push_back(source.weight);
    }
  }
};

// The similarity prior's Gram tables of RhoTables laid one after another (host memory).
struct FlatGrams {
  std::vector<double> grams;
  std::vector<std::int64_t> offset, size;

  explicit FlatGrams(const RhoTables& tables) {
    for (std::size_t a = 0; a < tables.column_grams.size(); ++a) {
      const auto n = tables.column_gram_sizes[a];
      offset.push_back(std::int64_t(grams.size()));
      size.push_back(n);
      grams.insert(grams.end(), tables.column_grams[a], tables.column_grams[a] + n * n);
    }
  }
};

// Bytes the tables take on a device (cell Gram, then the slot Gram or the similarity prior's Grams). At LINCS size
// the all_cells prior's slot Gram alone is 7.2 GB, so a GPU plan counts it beside the kernel.
inline double rho_table_bytes(const RhoTables& tables) {
  double values = double(tables.cells) * double(tables.cells);
  if (!tables.similarity) values += double(tables.slots) * double(tables.slots);
  for (const auto size : tables.column_gram_sizes) values += double(size) * double(size);
  return 8.0 * values;
}

}  // namespace tessera::solvers::ntk
