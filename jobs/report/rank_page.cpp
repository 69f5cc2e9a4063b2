// The drug-ranking page: the top hits with their scores and bootstrap intervals, the distribution of every
// candidate's score, and the query genes that matched the library.
#include <algorithm>

#include "engine/error.h"
#include "jobs/report/pages.h"
#include "jobs/report/report.h"

namespace tessera::jobs::report {

namespace fs = std::filesystem;

ReportPage rank_page(const fs::path& table_file) {
  const std::string where = table_file.string();
  const io::CsvTable hits = io::read_csv(table_file);
  ReportPage page("Drug ranking: " + table_file.filename().string());
  page.paragraph("Library signatures ranked against the query by " + where + ": " + std::to_string(hits.rows.size()) +
                 " top hits. Imputed signatures carry a 95% bootstrap interval "
                 "(low, high) over the residuals of their method.");

  page.section("Top hits");
  json rows = records(hits, {"rank", "score", "low", "high", "cosine", "pearson", "wtcs", "es_up", "es_down"}, where);
  const json by_rank = {{"field", "rank"}, {"order", "ascending"}};
  page.chart(
      {{"data", {{"values", rows}}},
       {"height", 40 + 18 * static_cast<int>(hits.rows.size())},
       {"encoding", {{"y", {{"field", "candidate"}, {"type", "nominal"}, {"sort", by_rank}, {"title", nullptr}}}}},
       {"layer",
        json::array({{{"mark", {{"type", "rule"}, {"strokeWidth", 2}}},
                      {"encoding",
                       {{"x", {{"field", "low"}, {"type", "quantitative"}, {"title", "score (line: 95% interval)"}}},
                        {"x2", {{"field", "high"}}},
                        {"color", {{"value", "#888"}}}}}},
                     {{"mark", {{"type", "point"}, {"filled", true}, {"size", 60}}},
                      {"encoding",
                       {{"x", {{"field", "score"}, {"type", "quantitative"}, {"title", "score (line: 95% interval)"}}},
                        {"color", {{"field", "source"}, {"type", "nominal"}}},
                        {"tooltip", json::array({{{"field", "rank"}},
                                                 {{"field", "candidate"}},
                                                 {{"field", "score"}},
                                                 {{"field", "low"}},
                                                 {{"field", "high"}},
                                                 {{"field", "source"}}})}}}}})}});
  page.table(hits, table_file.filename().string(), 200);

  // The drugs, not the signatures: the compound summary and, with --compound-info, its target / MOA enrichment.
  const fs::path compounds_file = side_file(table_file, "compounds.csv");
  if (fs::exists(compounds_file)) {
    page.section("Compounds");
    const io::CsvTable compounds = io::read_csv(compounds_file);
    page.paragraph(std::to_string(compounds.rows.size()) + " compounds (" + compounds_file.filename().string() +
                   ") ordered by summary NCS, CMap's maximum quantile of each compound's NCS over its signatures: "
                   "most negative = the most consistent reversal of the query. The 20 first:");
    io::CsvTable first = compounds;
    first.rows.resize(std::min<std::size_t>(first.rows.size(), 20));
    page.chart(
        {{"data",
          {{"values", records(first, {"rank", "summary_ncs", "signatures", "cell_lines"}, compounds_file.string())}}},
         {"mark", "bar"},
         {"height", 40 + 18 * static_cast<int>(first.rows.size())},
         {"encoding",
          {{"y", {{"field", "pert_id"}, {"type", "nominal"}, {"sort", by_rank}, {"title", nullptr}}},
           {"x", {{"field", "summary_ncs"}, {"type", "quantitative"}, {"title", "summary NCS"}}},
           {"tooltip", json::array({{{"field", "pert_id"}},
                                    {{"field", "name"}},
                                    {{"field", "summary_ncs"}},
                                    {{"field", "signatures"}},
                                    {{"field", "cell_lines"}},
                                    {{"field", "strongest_signature"}}})}}}});
    page.table(compounds, compounds_file.filename().string(), 100);
  }
  const fs::path enrichment_file = side_file(table_file, "enrichment.csv");
  if (fs::exists(enrichment_file)) {
    page.section("Targets and mechanisms of the top compounds");
    page.paragraph(
        "Hypergeometric test of each target and MOA among the top compounds, BH-adjusted within each "
        "kind (" +
        enrichment_file.filename().string() + ").");
    page.table(io::read_csv(enrichment_file), enrichment_file.filename().string(), 50);
  }

  const fs::path histogram_file = side_file(table_file, "score_histogram.csv");
  page.section("Score distribution");
  if (fs::exists(histogram_file)) {
    const io::CsvTable histogram = io::read_csv(histogram_file);
    page.paragraph("The ranking score of every single signature of the library (" + histogram_file.filename().string() +
                   "); the top hits sit in the tail.");
    page.chart(
        {{"data", {{"values", records(histogram, {"bin_low", "bin_high", "count"}, histogram_file.string())}}},
         {"mark", "bar"},
         {"height", 200},
         {"encoding",
          {{"x", {{"field", "bin_low"}, {"type", "quantitative"}, {"bin", {{"binned", true}}}, {"title", "score"}}},
           {"x2", {{"field", "bin_high"}}},
           {"y", {{"field", "count"}, {"type", "quantitative"}, {"title", "signatures"}}}}}});
  } else {
    page.paragraph("No " + histogram_file.filename().string() + " beside the table (an older tessera rank?).");
  }

  const fs::path genes_file = side_file(table_file, "query_genes.csv");
  page.section("Query genes matched");
  if (fs::exists(genes_file)) {
    const io::CsvTable genes = io::read_csv(genes_file);
    page.paragraph(std::to_string(genes.rows.size()) + " query genes matched the library (" +
                   genes_file.filename().string() + "); the up and down sets are those of the connectivity score.");
    json gene_rows = records(genes, {"value"}, genes_file.string());
    for (std::size_t i = 0; i < gene_rows.size(); ++i) gene_rows[i]["order"] = i + 1;
    page.chart({{"data", {{"values", gene_rows}}},
                {"mark", {{"type", "point"}, {"filled", true}, {"size", 14}}},
                {"height", 200},
                {"encoding",
                 {{"x", {{"field", "order"}, {"type", "quantitative"}, {"title", "query genes, by value"}}},
                  {"y", {{"field", "value"}, {"type", "quantitative"}}},
                  {"color", {{"field", "set"}, {"type", "nominal"}}},
                  {"tooltip", json::array({{{"field", "gene"}}, {{"field", "value"}}, {{"field", "set"}}})}}}});
    page.table(genes, genes_file.filename().string(), 40);
  } else {
    page.paragraph("No " + genes_file.filename().string() + " beside the table (an older tessera rank?).");
  }
  add_options_section(page, side_file(table_file, "options.ini"));
  return page;
}

}  // namespace tessera::jobs::report
