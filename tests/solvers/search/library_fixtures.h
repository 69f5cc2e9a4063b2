// Small random libraries and queries shared by the ranking tests.
#pragma once

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "engine/random.h"
#include "io/gene_matrix.h"
#include "solvers/search/scores.h"

namespace tessera::solvers::search::test_fixtures {

// Rows with Entrez-like ids 1000, 1001, ... and symbols GENE0, GENE1, ...
inline io::MetaTable gene_rows(int genes) {
  io::MetaTable rows;
  io::MetaColumn symbol{"pr_gene_symbol", io::MetaType::kString, {}, {}};
  for (int g = 0; g < genes; ++g) {
    rows.ids.push_back(std::to_string(1000 + g));
    symbol.text.push_back("GENE" + std::to_string(g));
  }
  rows.fields.push_back(symbol);
  return rows;
}

// A library of `n` random signatures over `genes` genes, with cell types A/B, every third one imputed.
inline io::GeneMatrix random_library(int n, int genes, std::uint64_t seed) {
  io::GeneMatrix m;
  m.rows = gene_rows(genes);
  engine::RandomStream random(seed, "test/library");
  m.values.resize(genes, n);
  for (int c = 0; c < n; ++c)
    for (int g = 0; g < genes; ++g) m.values(g, c) = float(random.normal());
  io::MetaColumn cell{"cell_id", io::MetaType::kString, {}, {}}, pert{"pert_id", io::MetaType::kString, {}, {}};
  io::MetaColumn imputed{"imputed", io::MetaType::kInt64, {}, {}};
  for (int c = 0; c < n; ++c) {
    m.cols.ids.push_back("sig" + std::to_string(c));
    cell.text.push_back(c % 2 ? "B" : "A");
    pert.text.push_back("drug" + std::to_string(c));
    imputed.numbers.push_back(c % 3 == 2 ? 1 : 0);
  }
  m.cols.fields = {cell, pert, imputed};
  return m;
}

inline std::vector<double> random_query(int genes, std::uint64_t seed) {
  engine::RandomStream random(seed, "test/query");
  std::vector<double> q(static_cast<std::size_t>(genes));
  for (auto& v : q) v = random.normal();
  return q;
}

inline PreparedQuery full_query(const std::vector<double>& values, int set_size) {
  std::vector<int> genes(values.size());
  std::iota(genes.begin(), genes.end(), 0);
  return prepare_query(genes, values, int(values.size()), set_size);
}

}  // namespace tessera::solvers::search::test_fixtures
