#include "solvers/search/query.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "engine/error.h"
#include "io/csv.h"

namespace tessera::solvers::search {

namespace {
std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\"");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r\"");
  return text.substr(begin, end - begin + 1);
}
}  // namespace

QuerySignature read_query_csv(const std::filesystem::path& path) {
  const auto table = io::read_csv(path);
  TESSERA_CHECK(table.header.size() >= 2, "query file '", path.string(),
                "' needs two columns (gene id or symbol, value); its header has ", table.header.size());
  QuerySignature q;
  std::unordered_set<std::string> seen;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const std::string gene = trim(table.rows[r][0]);
    const std::string text = trim(table.rows[r][1]);
    double value = NAN;
    try {
      std::size_t used = 0;
      value = std::stod(text, &used);
      if (used != text.size()) value = NAN;
    } catch (const std::exception&) {
      value = NAN;
    }
    if (gene.empty() || !std::isfinite(value)) {
      ++q.dropped;
      continue;
    }
    if (!seen.insert(gene).second) {
      ++q.duplicates;
      continue;
    }
    q.genes.push_back(gene);
    q.values.push_back(value);
  }
  TESSERA_CHECK(!q.genes.empty(), "query file '", path.string(), "' has no row with a gene and a finite value");
  return q;
}

GeneMatch match_genes(const QuerySignature& query, const io::MetaTable& rows, std::size_t min_genes) {
  std::vector<std::pair<std::string, std::vector<std::string>>> keys;
  keys.emplace_back("id", rows.ids);
  for (const char* name : {"pr_gene_symbol", "pr_gene_id", "gene_symbol", "gene_id"}) {
    if (const auto* field = rows.find(name)) {
      std::vector<std::string> text(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) text[i] = field->is_missing(i) ? "" : trim(field->as_string(i));
      keys.emplace_back(name, std::move(text));
    }
  }
  GeneMatch best;
  best.query_genes = query.genes.size();
  best.library_genes = rows.size();
  std::string tried;
  for (const auto& [name, ids] : keys) {
    std::unordered_map<std::string, int> row_of;
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (!ids[i].empty()) row_of.emplace(ids[i], int(i));  // first row wins for a repeated id
    GeneMatch m;
    m.field = name;
    m.query_genes = best.query_genes;
    m.library_genes = best.library_genes;
    std::unordered_set<int> used;
    for (std::size_t g = 0; g < query.genes.size(); ++g) {
      const auto hit = row_of.find(query.genes[g]);
      if (hit == row_of.end() || !used.insert(hit->second).second) continue;
      m.library_rows.push_back(hit->second);
      m.values.push_back(query.values[g]);
    }
    tried += (tried.empty() ? "" : ", ") + name + " " + std::to_string(m.matched());
    if (m.matched() > best.matched()) best = std::move(m);
  }
  TESSERA_CHECK(best.matched() >= min_genes, "only ", best.matched(), " of ", query.genes.size(),
                " query genes match the library's ", rows.size(), " genes (by field: ", tried,
                "); at least ", min_genes, " are required (--min-genes): check that both use gene symbols or "
                "both Entrez ids, or give a library whose rows carry pr_gene_symbol");
  return best;
}

}  // namespace tessera::solvers::search
