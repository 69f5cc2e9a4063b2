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
  const auto begin = text.find_first_not_of(" \t\r\n\"");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r\n\"");
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

GeneIdMatch match_gene_ids(std::span<const std::string> ids, const io::MetaTable& rows) {
  std::vector<std::pair<std::string, std::vector<std::string>>> keys;
  keys.emplace_back("id", rows.ids);
  for (const char* name : {"pr_gene_symbol", "pr_gene_id", "gene_symbol", "gene_id"}) {
    if (const auto* field = rows.find(name)) {
      std::vector<std::string> text(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) text[i] = field->is_missing(i) ? "" : trim(field->as_string(i));
      keys.emplace_back(name, std::move(text));
    }
  }
  GeneIdMatch best;
  best.rows.assign(ids.size(), -1);
  best.field = keys.front().first;
  for (const auto& [name, key] : keys) {
    std::unordered_map<std::string, int> row_of;
    for (std::size_t i = 0; i < key.size(); ++i)
      if (!key[i].empty()) row_of.emplace(key[i], int(i));  // first row wins for a repeated id
    std::vector<int> found(ids.size(), -1);
    std::unordered_set<int> used;
    std::size_t count = 0;
    for (std::size_t g = 0; g < ids.size(); ++g) {
      const auto hit = row_of.find(trim(ids[g]));
      if (hit == row_of.end() || !used.insert(hit->second).second) continue;
      found[g] = hit->second;
      ++count;
    }
    best.tried += (best.tried.empty() ? "" : ", ") + name + " " + std::to_string(count);
    if (count > best.matched) best.rows = std::move(found), best.matched = count, best.field = name;
  }
  return best;
}

GeneMatch match_genes(const QuerySignature& query, const io::MetaTable& rows, std::size_t min_genes) {
  const auto ids = match_gene_ids(query.genes, rows);
  GeneMatch match;
  match.query_genes = query.genes.size();
  match.library_genes = rows.size();
  if (ids.matched > 0) match.field = ids.field;
  for (std::size_t g = 0; g < query.genes.size(); ++g)
    if (ids.rows[g] >= 0) {
      match.genes.push_back(query.genes[g]);
      match.library_rows.push_back(ids.rows[g]);
      match.values.push_back(query.values[g]);
    }
  TESSERA_CHECK(match.matched() >= min_genes, "only ", match.matched(), " of ", query.genes.size(),
                " query genes match the library's ", rows.size(), " genes (by field: ", ids.tried, "); at least ",
                min_genes,
                " are required (--min-genes): check that both use gene symbols or "
                "both Entrez ids, or give a library whose rows carry pr_gene_symbol");
  return match;
}

}  // namespace tessera::solvers::search
