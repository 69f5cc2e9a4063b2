// A query signature (e.g. disease vs healthy log fold change) and its matching to a library's genes.
//
// File: CSV, first column a gene identifier (symbol or Entrez id), second column the value; the header line is
// skipped whatever it says (the COVID-19 file's is ",0"). Rows whose value is empty, "NA" or not finite are
// dropped; a gene listed twice keeps its first value (both are counted in the report).
//
// Matching: the query ids are looked up in each identifier field of the library's rows (the row id,
// pr_gene_symbol, pr_gene_id, whichever exist), case-sensitively after trimming; the field with the most
// matches wins. Fewer matches than `min_genes` is an Error that says how many matched and by which field.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "io/meta_table.h"

namespace tessera::solvers::search {

// How a query is matched and prepared: match_genes(..., min_genes), then prepare_query(..., set_size,
// weight_power) (scores.h). The knobs `tessera rank` offers for the query.
struct QueryOptions {
  int min_genes = 50;
  int set_size = 100;
  double weight_power = 1.0;

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("min_genes", self.min_genes, "fewest query genes that must match the library").at_least(1));
    declare(engine::knob("set_size", self.set_size, "N: genes in the query's up and down sets").at_least(1));
    declare(
        engine::knob("weight_power", self.weight_power, "p of the weighted KS (1: CMap, 0: Lamb 2006)").at_least(0.0));
  }
};

struct QuerySignature {
  std::vector<std::string> genes;
  std::vector<double> values;
  std::size_t dropped = 0;     // rows without a finite value
  std::size_t duplicates = 0;  // repeated genes (first kept)
};

QuerySignature read_query_csv(const std::filesystem::path& path);

struct GeneMatch {
  std::string field;               // the row field that matched ("id", "pr_gene_symbol", ...)
  std::vector<std::string> genes;  // the query's id of each matched gene, as given (for the report's gene list)
  std::vector<int> library_rows;   // library row of each matched query gene
  std::vector<double> values;      // the query value of each
  std::size_t query_genes = 0;     // distinct query genes
  std::size_t library_genes = 0;   // rows of the library
  std::size_t matched() const { return library_rows.size(); }
};

// Library row of each of `ids` (-1 when not found), looked up as above in the identifier field with the most
// matches (ties: the first field tried; a row matched twice keeps the first id). Local; never throws. Shared by
// the query, the control profiles of latent pairs and a model's gene list.
struct GeneIdMatch {
  std::vector<int> rows;  // per id
  std::string field;      // the winning field ("id" when nothing matched)
  std::size_t matched = 0;
  std::string tried;  // "id 0, pr_gene_symbol 913": the count of every field, for messages
};
GeneIdMatch match_gene_ids(std::span<const std::string> ids, const io::MetaTable& rows);

// Local. Throws tessera::Error when fewer than min_genes match.
GeneMatch match_genes(const QuerySignature& query, const io::MetaTable& rows, std::size_t min_genes);

}  // namespace tessera::solvers::search
