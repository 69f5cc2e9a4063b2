// `tessera rank`: rank a library of drug signatures (observed and imputed) by how strongly each reverses a
// query signature, e.g. a disease-vs-healthy log fold change; optionally drug pairs (summed signatures).
// --pair-space latent sums a pair in the latent space of a `tessera train` model instead (--model, --controls;
// solvers/autoencoder/latent_pairs.h): only pairs of one cell type are combined. It needs LibTorch: in a build
// without it (no TESSERA_HAVE_TORCH, jobs/CMakeLists.txt) it is an error that says so.
// Beside the -o table go two small files for a report page: <out>.score_histogram.csv (the score of every single
// signature, binned) and <out>.query_genes.csv (the matched query genes and their up/down sets).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/log.h"
#include "io/csv.h"
#include "jobs/commands.h"
#include "jobs/report/report.h"
#include "jobs/run_record.h"
#include "jobs/signature_file.h"
#include "solvers/search/calibration.h"
#include "solvers/search/cell_controls.h"
#include "solvers/search/compounds.h"
#include "solvers/search/library.h"
#include "solvers/search/query.h"
#include "solvers/search/rank.h"
#ifdef TESSERA_HAVE_TORCH
#include "solvers/autoencoder/latent_pairs.h"
#endif

namespace tessera::jobs {

namespace fs = std::filesystem;
namespace search = solvers::search;

namespace {

// Where a pair's signature is made: gene, the sum of the two signatures; latent, the sum of their latent shifts
// in a trained autoencoder, decoded (solvers/autoencoder/latent_pairs.h).
enum class PairSpace { kGene, kLatent };
const engine::NameTable<PairSpace>& name_table(PairSpace) {
  static const engine::NameTable<PairSpace> table{{PairSpace::kGene, "gene"}, {PairSpace::kLatent, "latent"}};
  return table;
}

// The knobs of `tessera rank` itself (the query's are search::QueryOptions, the ranking's search::RankOptions).
struct RankCommandParams {
  PairSpace pair_space = PairSpace::kGene;

  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("pair_space", self.pair_space,
                         "gene: a pair is the sum of the two signatures; latent: the sum of the two latent shifts of "
                         "a trained autoencoder (--model, --controls), decoded; pairs of two cell types are then not "
                         "ranked"));
  }
};

po::options_description rank_options(search::QueryOptions& query, RankCommandParams& command,
                                     search::RankOptions& ranking) {
  po::options_description options("rank options");
  options.add_options()("query,q", po::value<std::string>(),
                        "CSV: gene symbol or Entrez id, value (header line skipped)")(
      "library,l", po::value<std::vector<std::string>>()->multitoken(),
      "signature files (GCTX/GCT, comma list or repeated); completed_<method>.gctx files from `tessera impute` "
      "label their imputed columns with <method>")(
      "heldout", po::value<std::vector<std::string>>()->multitoken(),
      "heldout_<method>.gctx files of `tessera impute`: residuals for the bootstrap interval of imputed signatures")(
      "cell", po::value<std::vector<std::string>>()->multitoken(), "keep only these cell types (cell_id)");
  add_knob_options(options, query);
  add_knob_options(options, command);
  options.add_options()("model", po::value<std::string>(), "--pair-space latent: the --out folder of `tessera train`")(
      "controls", po::value<std::string>(),
      "--pair-space latent: CSV of per-cell control profiles (first column cell name, then one column per "
      "gene, e.g. basal_DMSO_modz_level3_by_cell.csv)")(
      "compound-info", po::value<std::string>(),
      "LINCS compoundinfo_beta.txt (tab-separated: pert_id, cmap_name, target, moa): names, targets and MOAs of "
      "the hits, and a target / MOA enrichment table of the top compounds")(
      "enrichment-top", po::value<int>()->default_value(50),
      "--compound-info: the top compounds whose targets and MOAs are tested")(
      "out,o", po::value<std::string>()->default_value("tessera-rank.csv"),
      "CSV of the top-k table, with <name>.compounds.csv, <name>.score_histogram.csv and <name>.query_genes.csv "
      "(and <name>.enrichment.csv with --compound-info) beside it ('' : none)");
  add_knob_options(options, ranking);
  add_report_option(options);
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

// bin_low,bin_high,count of the single signatures' ranking scores (rank_candidates: pairs not counted).
io::CsvTable score_histogram_table(const std::vector<std::int64_t>& counts) {
  io::CsvTable table;
  table.header = {"bin_low", "bin_high", "count"};
  for (int b = 0; b < search::kScoreBins; ++b)
    table.rows.push_back({format_number(search::score_bin_low(b), "%.2f"),
                          format_number(search::score_bin_low(b + 1), "%.2f"), std::to_string(counts[std::size_t(b)])});
  return table;
}

// gene,library_row,value,set of every matched query gene, largest value first (ties: lower library row, as
// prepare_query orders them); set is up / down for the genes of WTCS's sets, else empty.
io::CsvTable query_genes_table(const search::GeneMatch& match, const search::PreparedQuery& query,
                               const io::MetaTable& rows) {
  std::vector<const char*> set(rows.size(), "");
  for (const int row : query.up) set[std::size_t(row)] = "up";
  for (const int row : query.down) set[std::size_t(row)] = "down";
  std::vector<std::size_t> order(match.matched());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return match.values[a] > match.values[b] ||
           (match.values[a] == match.values[b] && match.library_rows[a] < match.library_rows[b]);
  });
  io::CsvTable table;
  table.header = {"gene", "library_row", "value", "set"};
  for (const std::size_t k : order) {
    const auto row = std::size_t(match.library_rows[k]);
    table.rows.push_back({match.genes[k], rows.ids[row], io::shortest_text(match.values[k]), set[row]});
  }
  return table;
}

// Values joined with '|', as io::compound_fields joins a compound's values in LINCS outputs.
std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : "|") + value;
  return out;
}

// Targets or MOAs of a compound for a table cell ("" without --compound-info or when not annotated).
std::string joined_terms(const search::CompoundTable& table, const std::string& pert, bool targets) {
  const auto hit = table.find(pert);
  if (hit == table.end()) return "";
  return joined(targets ? hit->second.targets : hit->second.moas);
}

// A compound's name: the library's pert_iname, else the compound table's cmap_name, else "".
std::string compound_name(const std::string& pert, const std::string& library_name,
                          const search::CompoundTable& table) {
  if (!library_name.empty()) return library_name;
  const auto hit = table.find(pert);
  return hit == table.end() ? "" : hit->second.name;
}

// One row per compound, strongest reversal first (solvers/search/compounds.h).
io::CsvTable compound_table(const std::vector<search::CompoundSummary>& compounds, const search::Library& library,
                            const search::Calibration& calibration, const search::CompoundTable& annotations,
                            bool annotated) {
  io::CsvTable table;
  table.header = {"rank",
                  "pert_id",
                  "name",
                  "summary_ncs",
                  "ncs_q33",
                  "ncs_q67",
                  "signatures",
                  "imputed",
                  "cell_lines",
                  "strongest_signature",
                  "strongest_cell",
                  "strongest_ncs",
                  "strongest_p_value",
                  "strongest_fdr"};
  if (annotated) table.header.insert(table.header.end(), {"target", "moa"});
  const bool tested = !calibration.p_value.empty();
  for (std::size_t r = 0; r < compounds.size(); ++r) {
    const auto& c = compounds[r];
    const auto s = std::size_t(c.strongest);
    const auto& info = library.info(c.strongest);
    const std::string name = compound_name(c.pert_id, c.name, annotations);
    table.rows.push_back({std::to_string(r + 1), c.pert_id, name, format_number(c.summary), format_number(c.q33),
                          format_number(c.q67), std::to_string(c.signatures), std::to_string(c.imputed),
                          std::to_string(c.cells), info.id, info.cell, format_number(calibration.ncs[s]),
                          tested ? format_number(calibration.p_value[s], "%.4g") : "n/a",
                          tested ? format_number(calibration.fdr[s], "%.4g") : "n/a"});
    if (annotated)
      table.rows.back().insert(table.rows.back().end(), {joined_terms(annotations, c.pert_id, true),
                                                         joined_terms(annotations, c.pert_id, false)});
  }
  return table;
}

io::CsvTable enrichment_table(const std::vector<search::TermEnrichment>& terms) {
  io::CsvTable table;
  table.header = {"kind", "term", "in_top", "top", "with_term", "universe", "p_value", "fdr", "compounds"};
  for (const auto& e : terms) {
    table.rows.push_back({e.kind, e.term, std::to_string(e.in_top), std::to_string(e.top), std::to_string(e.with_term),
                          std::to_string(e.universe), format_number(e.p_value, "%.4g"), format_number(e.fdr, "%.4g"),
                          joined(e.compounds)});
  }
  return table;
}

}  // namespace

int run_rank(const engine::Context& world, const std::vector<std::string>& args) {
  search::QueryOptions query_options;
  RankCommandParams command;
  search::RankOptions options;
  const auto parsed = parse_options(world, spec_of("rank"), rank_options(query_options, command, options), args);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  TESSERA_CHECK(vm.count("query"), "--query is required: a CSV of gene, value");
  TESSERA_CHECK(vm.count("library"), "--library is required: one or more signature files");
  const auto library_files = split_list(vm["library"].as<std::vector<std::string>>());
  const auto heldout_files =
      vm.count("heldout") ? split_list(vm["heldout"].as<std::vector<std::string>>()) : std::vector<std::string>{};
  const auto cells =
      vm.count("cell") ? split_list(vm["cell"].as<std::vector<std::string>>()) : std::vector<std::string>{};
  search::check_rank_options(options);
  const bool latent = command.pair_space == PairSpace::kLatent;
  if (latent) {
    // The command line's own mistakes first: they are wrong in every build.
    TESSERA_CHECK(options.pairs, "--pair-space latent only applies to pairs: add --pairs");
    TESSERA_CHECK(vm.count("model"), "--pair-space latent needs --model (the --out folder of `tessera train`)");
    TESSERA_CHECK(vm.count("controls"), "--pair-space latent needs --controls (CSV of per-cell control profiles)");
#ifndef TESSERA_HAVE_TORCH
    TESSERA_CHECK(false,
                  "--pair-space latent needs the autoencoder, but this tessera was built without LibTorch "
                  "(apt-get install libtorch-dev and rebuild, TESSERA_TORCH=AUTO|ON)");
#endif
  } else {
    TESSERA_CHECK(!vm.count("model") && !vm.count("controls"),
                  "--model and --controls only apply to "
                  "--pair-space latent");
  }

  const auto query_signature = search::read_query_csv(vm["query"].as<std::string>());
  search::Library library;
  for (const auto& file : library_files) {
    const auto added =
        library.add(read_whole_signature_file(world, file), search::method_of_file_name(file), cells, file);
    engine::info("library ", file, ": ", added, " signatures added");
  }
  for (const auto& file : heldout_files) {
    const auto kept = library.add_heldout(read_whole_signature_file(world, file), stem_method(file, "heldout_"), file);
    engine::info("heldout ", file, ": ", kept, " residuals of observed signatures");
  }
  TESSERA_CHECK(library.size() > 0, "no library signature left", cells.empty() ? "" : " after --cell");

  const auto match = search::match_genes(query_signature, library.rows(), std::size_t(query_options.min_genes));
  const auto query = search::prepare_query(match.library_rows, match.values, int(library.num_genes()),
                                           query_options.set_size, query_options.weight_power);
  engine::info("query: ", query_signature.genes.size(), " genes (", query_signature.dropped, " without a value, ",
               query_signature.duplicates, " repeated); ", match.matched(), " match the library's ",
               match.library_genes, " genes by ", match.field, "; up set ", query.up.size(), ", down set ",
               query.down.size());
  const search::CandidateSpace space{library.size(), options.pairs};
  engine::info("scoring ", space.size(), " candidates (", library.size(), " signatures, ", library.num_imputed(),
               " imputed", options.pairs ? (latent ? ", plus pairs in latent space" : ", plus pairs") : "", ") on ",
               world.size(), " rank(s)");

#ifdef TESSERA_HAVE_TORCH
  std::unique_ptr<solvers::autoencoder::LatentPairs> latent_pairs;
  if (latent) {
    namespace ae = solvers::autoencoder;
    const auto controls = search::read_cell_controls(vm["controls"].as<std::string>(), library);
    const auto model = ae::load_latent_model(world, vm["model"].as<std::string>());
    // A model trained with a gene list is matched to the library's rows by id (or symbol); else by position.
    std::vector<int> model_rows;
    if (!model.genes.empty()) {
      TESSERA_CHECK(std::int64_t(model.genes.size()) == library.num_genes(), "--model ", model.checkpoint.string(),
                    " was trained on ", model.genes.size(), " genes, the library has ", library.num_genes(),
                    ": train on the library's genes (tessera train --genes)");
      model_rows = search::match_gene_ids(model.genes, library.rows()).rows;
      for (std::size_t g = 0; g < model_rows.size(); ++g)
        TESSERA_CHECK(model_rows[g] >= 0, "--model gene ", model.genes[g], " is not a gene of the library");
    }
    latent_pairs = std::make_unique<ae::LatentPairs>(world, *model.trainer, model.scaling, library.values(),
                                                     controls.values, controls.cell_of, model_rows);
    options.pair_signature = latent_pairs.get();
    engine::info("latent pairs: model ", model.checkpoint.string(), " (width ", latent_pairs->latent_width(),
                 model.scaling.empty() ? ", no scaling" : ", z-scored", "), controls of ", controls.cells.size(),
                 " cell type(s) matched by ", controls.field, "; pairs of two cell types are not ranked");
  }
#endif
  const int enrichment_top = vm["enrichment-top"].as<int>();
  TESSERA_CHECK(enrichment_top >= 1, "--enrichment-top must be at least 1 (got ", enrichment_top, ")");
  const bool annotated = vm.count("compound-info") > 0;
  const search::CompoundTable annotations =
      annotated ? search::read_compound_table(vm["compound-info"].as<std::string>()) : search::CompoundTable{};

  const auto calibration = search::calibrate(world, library, query, options.permutation_options());
  options.calibration = &calibration;
  const auto result = search::rank_candidates(world, library, query, options);
  if (!world.is_root()) return 0;
  const auto compounds = search::summarize_compounds(library, calibration.ncs);

  io::CsvTable table;
  table.header = {"rank",   "candidate", "cell_id", "pert_id", "source",  "score", "low",     "high",
                  "cosine", "pearson",   "wtcs",    "es_up",   "es_down", "ncs",   "p_value", "fdr"};
  if (annotated) table.header.insert(table.header.end(), {"target", "moa"});
  for (std::size_t r = 0; r < result.top.size(); ++r) {
    const auto& c = result.top[r];
    const auto& a = library.info(c.first);
    auto label = [&](const search::SignatureInfo& s) {
      const std::string name = compound_name(s.pert, s.name, annotations);
      return name.empty() ? s.pert : s.pert + " (" + name + ")";
    };
    std::string id = a.id, pert = label(a), source = a.source;
    if (c.second >= 0) {
      const auto& b = library.info(c.second);
      id += " + " + b.id, pert += " + " + label(b), source += " + " + b.source + (latent ? " (latent)" : "");
    }
    table.rows.push_back({std::to_string(r + 1), id, a.cell, pert, source, format_number(c.score), format_number(c.low),
                          format_number(c.high), format_number(c.scores.cosine), format_number(c.scores.pearson),
                          format_number(c.scores.wtcs), format_number(c.scores.es_up), format_number(c.scores.es_down),
                          format_number(c.ncs), format_number(c.p_value, "%.4g"), format_number(c.fdr, "%.4g")});
    if (annotated) {
      auto terms = [&](bool targets) {
        std::string out = joined_terms(annotations, a.pert, targets);
        if (c.second >= 0) out += " + " + joined_terms(annotations, library.info(c.second).pert, targets);
        return out;
      };
      table.rows.back().insert(table.rows.back().end(), {terms(true), terms(false)});
    }
  }
  std::printf(
      "Query %s: %zu of %zu genes matched (by %s). Top %zu of %lld candidates by %s (reversal; interval: "
      "%d-replicate residual bootstrap over imputation folds, n/a when not imputed or no heldout file); "
      "%.2f s, %.3g candidates/s\n",
      vm["query"].as<std::string>().c_str(), match.matched(), match.query_genes, match.field.c_str(), result.top.size(),
      static_cast<long long>(result.candidates), name_table(options.rank_by).name(options.rank_by), options.bootstrap,
      result.seconds, double(result.candidates) / std::max(result.seconds, 1e-9));
  if (result.declined > 0)
    std::printf("(%lld pairs of two cell types not combined in latent space, not scored)\n",
                static_cast<long long>(result.declined));
  std::printf("%s", io::to_csv_text(table).c_str());
  if (calibration.p_value.empty())
    std::printf(
        "NCS: WTCS over the mean of its sign in the signature's cell line and perturbation type (%zu "
        "groups); no p-values (--permutations 0)\n",
        calibration.groups.labels.size());
  else
    std::printf(
        "NCS: WTCS over the mean of its sign in the signature's cell line and perturbation type (%zu "
        "groups). p_value: two-sided permutation test, up to %d random queries of %zu up and %zu down genes "
        "per signature, stopped once %d reach its |WTCS| (mean %.1f used); fdr: Benjamini-Hochberg over all "
        "%lld signatures, %lld at fdr <= 0.05; %.2f s\n",
        calibration.groups.labels.size(), options.permutations, query.up.size(), query.down.size(),
        options.permutation_stop, calibration.mean_draws(), static_cast<long long>(library.size()),
        static_cast<long long>(
            std::count_if(calibration.fdr.begin(), calibration.fdr.end(), [](double q) { return q <= 0.05; })),
        calibration.seconds);
  const auto compound_rows = compound_table(compounds, library, calibration, annotations, annotated);
  io::CsvTable shown = compound_rows;
  shown.rows.resize(std::min(shown.rows.size(), options.top_k));
  std::printf(
      "Top %zu of %zu compounds by summary NCS (CMap's maximum quantile of the compound's NCS over its "
      "signatures; most negative = strongest reversal):\n%s",
      shown.rows.size(), compound_rows.rows.size(), io::to_csv_text(shown).c_str());
  std::vector<search::TermEnrichment> enrichment;
  if (annotated) {
    std::vector<std::string> ranked;
    for (const auto& c : compounds) ranked.push_back(c.pert_id);
    enrichment = search::enrich_terms(ranked, annotations, std::size_t(enrichment_top));
    io::CsvTable significant = enrichment_table(enrichment);
    std::erase_if(significant.rows, [](const auto& row) { return row[2] == "0"; });
    significant.rows.resize(std::min<std::size_t>(significant.rows.size(), 10));
    std::printf("Targets and MOAs of the top %d compounds (hypergeometric, BH within each kind; best 10 shown):\n%s",
                enrichment_top, io::to_csv_text(significant).c_str());
  }
  if (const auto& out = vm["out"].as<std::string>(); !out.empty()) {
    // Each through io::write_csv (temporary + rename), so a report never reads a half-written file.
    io::write_csv(out, table);
    io::write_csv(report::side_file(out, "compounds.csv"), compound_rows);
    if (annotated) io::write_csv(report::side_file(out, "enrichment.csv"), enrichment_table(enrichment));
    io::write_csv(report::side_file(out, "score_histogram.csv"), score_histogram_table(result.score_histogram));
    io::write_csv(report::side_file(out, "query_genes.csv"), query_genes_table(match, query, library.rows()));
    write_options_file(world, spec_of("rank"), vm, report::side_file(out, "options.ini"));
    write_report_if_asked(world, vm, out);
  }
  return 0;
}

}  // namespace tessera::jobs
