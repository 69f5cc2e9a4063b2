// `tessera rank`: rank a library of drug signatures (observed and imputed) by how strongly each reverses a
// query signature, e.g. a disease-vs-healthy log fold change; optionally drug pairs (summed signatures).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "engine/log.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "jobs/signature_file.h"
#include "solvers/search/library.h"
#include "solvers/search/query.h"
#include "solvers/search/rank.h"

namespace tessera::jobs {

namespace fs = std::filesystem;
namespace search = solvers::search;

namespace {

po::options_description rank_options() {
  po::options_description options("rank options");
  options.add_options()
      ("query,q", po::value<std::string>(), "CSV: gene symbol or Entrez id, value (header line skipped)")
      ("library,l", po::value<std::vector<std::string>>()->multitoken(),
       "signature files (GCTX/GCT, comma list or repeated); completed_<method>.gctx files from `tessera impute` "
       "label their imputed columns with <method>")
      ("heldout", po::value<std::vector<std::string>>()->multitoken(),
       "heldout_<method>.gctx files of `tessera impute`: residuals for the bootstrap interval of imputed signatures")
      ("cell", po::value<std::vector<std::string>>()->multitoken(), "keep only these cell types (cell_id)")
      ("min-genes", po::value<int>()->default_value(50), "fewest query genes that must match the library")
      ("set-size", po::value<int>()->default_value(100), "N: genes in the query's up and down sets")
      ("weight-power", po::value<double>()->default_value(1.0), "p of the weighted KS (1: CMap, 0: Lamb 2006)")
      ("rank-by", po::value<std::string>()->default_value("connectivity"), "connectivity | cosine | pearson")
      ("top-k,k", po::value<int>()->default_value(20), "rows of the table")
      ("pairs", po::bool_switch(), "also score every pair of signatures (sum of the two)")
      ("bootstrap", po::value<int>()->default_value(200), "bootstrap replicates for imputed signatures (0: none)")
      ("seed", po::value<std::uint64_t>()->default_value(1), "seed of the bootstrap")
      ("out,o", po::value<std::string>()->default_value("tessera-rank.csv"), "CSV of the top-k table ('' : none)");
  return options;
}

std::string stem_method(const std::string& path, const std::string& prefix) {
  const std::string stem = fs::path(path).stem().string();
  return stem.rfind(prefix, 0) == 0 ? stem.substr(prefix.size()) : stem;
}

std::string format_number(double value, const char* format = "%.4f") {
  if (std::isnan(value)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

}  // namespace

int run_rank(const engine::Context& world, const std::vector<std::string>& args) {
  const auto parsed = parse_options(world, spec_of("rank"), rank_options(), args);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  TESSERA_CHECK(vm.count("query"), "--query is required: a CSV of gene, value");
  TESSERA_CHECK(vm.count("library"), "--library is required: one or more signature files");
  const auto library_files = split_list(vm["library"].as<std::vector<std::string>>());
  const auto heldout_files = vm.count("heldout") ? split_list(vm["heldout"].as<std::vector<std::string>>())
                                                 : std::vector<std::string>{};
  const auto cells = vm.count("cell") ? split_list(vm["cell"].as<std::vector<std::string>>())
                                      : std::vector<std::string>{};
  search::RankOptions options;
  options.rank_by = search::parse_rank_by(vm["rank-by"].as<std::string>());
  TESSERA_CHECK(vm["top-k"].as<int>() >= 1, "--top-k must be at least 1");
  TESSERA_CHECK(vm["min-genes"].as<int>() >= 1, "--min-genes must be at least 1");
  TESSERA_CHECK(vm["bootstrap"].as<int>() >= 0, "--bootstrap must be >= 0");
  options.top_k = std::size_t(vm["top-k"].as<int>());
  options.pairs = vm["pairs"].as<bool>();
  options.bootstrap = vm["bootstrap"].as<int>();
  options.seed = vm["seed"].as<std::uint64_t>();

  const auto query_signature = search::read_query_csv(vm["query"].as<std::string>());
  search::Library library;
  for (const auto& file : library_files) {
    const auto added = library.add(read_whole_signature_file(world, file), search::method_of_file_name(file), cells);
    engine::info("library ", file, ": ", added, " signatures added");
  }
  for (const auto& file : heldout_files) {
    const auto kept = library.add_heldout(read_whole_signature_file(world, file), stem_method(file, "heldout_"));
    engine::info("heldout ", file, ": ", kept, " residuals of observed signatures");
  }
  TESSERA_CHECK(library.size() > 0, "no library signature left", cells.empty() ? "" : " after --cell");

  const auto match = search::match_genes(query_signature, library.rows(), std::size_t(vm["min-genes"].as<int>()));
  const auto query = search::prepare_query(match.library_rows, match.values, int(library.num_genes()),
                                           vm["set-size"].as<int>(), vm["weight-power"].as<double>());
  engine::info("query: ", query_signature.genes.size(), " genes (", query_signature.dropped, " without a value, ",
               query_signature.duplicates, " repeated); ", match.matched(), " match the library's ",
               match.library_genes, " genes by ", match.field, "; up set ", query.up.size(), ", down set ",
               query.down.size());
  const search::CandidateSpace space{library.size(), options.pairs};
  engine::info("scoring ", space.size(), " candidates (", library.size(), " signatures, ", library.num_imputed(),
               " imputed", options.pairs ? ", plus pairs" : "", ") on ", world.size(), " rank(s)");

  const auto result = search::rank_candidates(world, library, query, options);
  if (!world.is_root()) return 0;

  io::CsvTable table;
  table.header = {"rank", "candidate", "cell_id", "pert_id", "source", "score", "low", "high", "cosine", "pearson",
                  "wtcs", "es_up", "es_down"};
  for (std::size_t r = 0; r < result.top.size(); ++r) {
    const auto& c = result.top[r];
    const auto& a = library.info(c.first);
    auto label = [](const search::SignatureInfo& s) { return s.name.empty() ? s.pert : s.pert + " (" + s.name + ")"; };
    std::string id = a.id, pert = label(a), source = a.source;
    if (c.second >= 0) {
      const auto& b = library.info(c.second);
      id += " + " + b.id, pert += " + " + label(b), source += " + " + b.source;
    }
    table.rows.push_back({std::to_string(r + 1), id, a.cell, pert, source, format_number(c.score),
                          format_number(c.low), format_number(c.high), format_number(c.scores.cosine),
                          format_number(c.scores.pearson), format_number(c.scores.wtcs),
                          format_number(c.scores.es_up), format_number(c.scores.es_down)});
  }
  std::printf("Query %s: %zu of %zu genes matched (by %s). Top %zu of %lld candidates by %s (reversal; interval: "
              "%d-replicate residual bootstrap over imputation folds, n/a when not imputed or no heldout file); "
              "%.2f s, %.3g candidates/s\n",
              vm["query"].as<std::string>().c_str(), match.matched(), match.query_genes, match.field.c_str(),
              result.top.size(), static_cast<long long>(result.candidates), search::rank_by_name(options.rank_by),
              options.bootstrap, result.seconds, double(result.candidates) / std::max(result.seconds, 1e-9));
  std::printf("%s", io::to_csv_text(table).c_str());
  if (!vm["out"].as<std::string>().empty()) io::write_csv(vm["out"].as<std::string>(), table);
  return 0;
}

}  // namespace tessera::jobs
