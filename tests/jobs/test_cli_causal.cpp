// End-to-end: the causal and search commands as a user chains them. simulate-dag writes data that discover
// reads (CSV and DCDI give the same DAG, on 1, 2 and 3 ranks), discover's metrics equal an independent SHD,
// design reads discover's DAG and a real-perturbation pool fitted from the data, and rank finds a planted
// reversing signature among impute's completed table, and writes its score histogram and matched query genes
// beside the table. Every bad input ends with a clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/context.h"
#include "engine/random.h"
#include "io/csv.h"
#include "io/gct.h"
#include "io/gctx.h"
#include "solvers/causal/dag.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::file_text;
using tessera::testing::mpirun;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

fs::path scratch(const std::string& name) { return tessera::testing::scratch_dir("tessera_cli_causal", name); }

// A DAG over the names X0..X{p-1} from an edge-list CSV (source,target or from,to).
tessera::solvers::causal::Dag dag_of(const fs::path& csv, int p) {
  const auto table = tessera::io::read_csv(csv);
  tessera::solvers::causal::Dag dag(p);
  for (const auto& row : table.rows) dag.add_edge(std::stoi(row[0].substr(1)), std::stoi(row[1].substr(1)));
  return dag;
}

// The gene rows of a test library: entrez-like ids first_id, first_id + 1, ... with the pr_gene_symbol field
// GENE0, GENE1, ... (what a query's gene names are matched against).
void set_gene_rows(tessera::io::GeneMatrix& library, int genes, int first_id) {
  tessera::io::MetaColumn symbol{"pr_gene_symbol", tessera::io::MetaType::kString, {}, {}};
  for (int g = 0; g < genes; ++g)
    library.rows.ids.push_back(std::to_string(first_id + g)), symbol.text.push_back("GENE" + std::to_string(g));
  library.rows.fields = {symbol};
}

}  // namespace

TEST(CliCausal, SimulateDagThenDiscoverOnAnyLayoutAndRankCount) {
  const auto dir = scratch("discover");
  auto result = run_command(kTessera + " simulate-dag --nodes 15 --observational-samples 600 --settings 3 " +
                            "--samples-per-setting 400 --seed 7 --out " + (dir / "csv").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result = run_command(kTessera + " simulate-dag --nodes 15 --observational-samples 600 --settings 3 " +
                       "--samples-per-setting 400 --seed 7 --format dcdi --out " + (dir / "dcdi").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string targets = file_text(dir / "csv" / "targets.txt");
  targets.erase(targets.find_last_not_of('\n') + 1);
  ASSERT_FALSE(targets.empty());

  std::string reference;
  for (int ranks : {1, 2, 3}) {
    const auto out = dir / ("igsp_np" + std::to_string(ranks));
    result = run_command(mpirun(ranks) + " " + kTessera + " discover -i " + (dir / "csv" / "data.csv").string() +
                         " --targets '" + targets + "' --algorithm igsp --truth " +
                         (dir / "csv" / "truth_edges.csv").string() + " --truth-targets " +
                         (dir / "csv" / "truth_targets.csv").string() + " -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const std::string edges = file_text(out / "dag_edges.csv");
    if (ranks == 1) reference = edges;
    EXPECT_EQ(edges, reference) << ranks << " ranks";
  }
  // The published search policy and test, with the known targets, on 1 and 2 ranks: the same DAG, and the
  // search report (restarts.csv, timing.csv) adds up: every restart once, dealt round-robin over the ranks.
  std::string published;
  for (int ranks : {1, 2}) {
    const auto out = dir / ("utigsp_np" + std::to_string(ranks));
    result = run_command(mpirun(ranks) + " " + kTessera + " discover -i " + (dir / "csv" / "data.csv").string() +
                         " --targets '" + targets +
                         "' --algorithm utigsp --move best --depth inf --invariance-test "
                         "wald --restarts 4 -o " +
                         out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    if (ranks == 1) published = file_text(out / "dag_edges.csv");
    EXPECT_EQ(file_text(out / "dag_edges.csv"), published) << ranks << " ranks";
    const auto restarts = tessera::io::read_csv(out / "restarts.csv");
    const auto timing = tessera::io::read_csv(out / "timing.csv");
    ASSERT_EQ(restarts.rows.size(), 4u);
    long long visited = 0, ci_tests = 0;
    for (std::size_t r = 0; r < restarts.rows.size(); ++r) {
      EXPECT_EQ(restarts.rows[r][restarts.column("restart", "restarts")], std::to_string(r));
      EXPECT_EQ(restarts.rows[r][restarts.column("rank", "restarts")], std::to_string(int(r) % ranks));
      visited += std::stoll(restarts.rows[r][restarts.column("dags_visited", "restarts")]);
      ci_tests += std::stoll(restarts.rows[r][restarts.column("ci_tests", "restarts")]);
    }
    EXPECT_EQ(std::to_string(visited), timing.rows[0][timing.column("dags_visited", "timing")]);
    EXPECT_EQ(std::to_string(ci_tests), timing.rows[0][timing.column("ci_tests", "timing")]);
    EXPECT_GT(ci_tests, 0);
    EXPECT_EQ(timing.rows[0][timing.column("ranks", "timing")], std::to_string(ranks));
    EXPECT_NE(result.output.find("DAGs visited"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(std::to_string(visited) + " DAGs visited"), std::string::npos) << result.output;
  }

  // The DCDI folder carries the same data and targets: the same DAG.
  result = run_command(kTessera + " discover -i " + (dir / "dcdi").string() + " --algorithm igsp -o " +
                       (dir / "igsp_dcdi").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(file_text(dir / "igsp_dcdi" / "dag_edges.csv"), reference);

  // metrics.csv's SHD equals one recomputed here from the two edge lists.
  const auto metrics = tessera::io::read_csv(dir / "igsp_np1" / "metrics.csv");
  const auto truth = dag_of(dir / "csv" / "truth_edges.csv", 15);
  const auto learned = dag_of(dir / "igsp_np1" / "dag_edges.csv", 15);
  EXPECT_EQ(std::stoi(metrics.rows[0][metrics.column("shd", "metrics")]),
            tessera::solvers::causal::shd(truth, learned));
  EXPECT_EQ(metrics.rows[0][metrics.column("true_targets", "metrics")], "3");
  EXPECT_EQ(metrics.rows[0][metrics.column("correct_targets", "metrics")], "3");  // igsp uses the given ones
}

TEST(CliCausal, DesignOnDiscoveredDagWithAPoolFittedFromTheData) {
  const auto dir = scratch("design");
  auto result = run_command(kTessera + " simulate-dag --nodes 8 --intervention shift --settings 4 --seed 2 --out " +
                            (dir / "sim").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result =
      run_command(kTessera + " discover -i " + (dir / "sim" / "data.csv").string() + " -o " + (dir / "found").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string reference;
  for (int ranks : {1, 2}) {
    const auto out = dir / ("design_np" + std::to_string(ranks) + ".csv");
    result =
        run_command(mpirun(ranks) + " " + kTessera + " design --dag " + (dir / "found" / "dag_edges.csv").string() +
                    " --pool-data " + (dir / "sim" / "data.csv").string() +
                    " --observational obs --instances 6 --rounds 3 --acquisition greedy,random -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("of 6 instances (4 perturbations in the pool)"), std::string::npos) << result.output;
    const auto pool = tessera::io::read_csv(out.string() + ".pool.csv");
    EXPECT_EQ(pool.rows.size(), 4u);  // one candidate per interventional setting
    EXPECT_EQ(pool.header[0], "perturbation");
    if (ranks == 1) reference = file_text(out);
    EXPECT_EQ(file_text(out), reference) << ranks << " ranks";  // the curves are printed to 4 decimals
  }
}

TEST(CliCausal, RankFindsAPlantedReversalInImputedAndObservedSignatures) {
  const auto dir = scratch("rank");
  auto result = run_command(kTessera + " impute --method two_way_mean --out " + (dir / "imp").string(), 300);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // The query is the exact reverse of one observed signature of CELL01.
  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto completed = tessera::io::read_gctx<float>(dir / "imp" / "completed_two_way_mean.gctx", self);
  const auto& cell = completed.cols.require("cell_id", "completed");
  const auto& imputed = completed.cols.require("imputed", "completed");
  const auto& symbol = completed.rows.require("pr_gene_symbol", "completed");
  std::size_t planted = 0;
  while (cell.text[planted] != "CELL01" || imputed.numbers[planted] != 0) ++planted;
  {
    std::ofstream query(dir / "query.csv");
    query << "gene,value\n";
    for (std::size_t g = 0; g < completed.rows.size(); ++g)
      query << symbol.text[g] << "," << -double(completed.values(Eigen::Index(g), Eigen::Index(planted))) << "\n";
  }
  std::string reference;
  for (int ranks : {1, 2, 3}) {
    const auto out = dir / ("rank_np" + std::to_string(ranks) + ".csv");
    result = run_command(mpirun(ranks) + " " + kTessera + " rank -q " + (dir / "query.csv").string() + " -l " +
                         (dir / "imp" / "completed_two_way_mean.gctx").string() + " --heldout " +
                         (dir / "imp" / "heldout_two_way_mean.gctx").string() +
                         " --cell CELL01 --rank-by cosine --pairs -k 5 -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("978 of 978 genes matched"), std::string::npos) << result.output;
    const auto table = tessera::io::read_csv(out);
    ASSERT_EQ(table.rows.size(), 5u);
    EXPECT_EQ(table.rows[0][table.column("candidate", "rank")],
              "CELL01:" + completed.cols.require("pert_id", "c").text[planted]);
    EXPECT_NEAR(std::stod(table.rows[0][table.column("cosine", "rank")]), 1.0, 1e-4);
    if (ranks == 1) reference = file_text(out);
    EXPECT_EQ(file_text(out), reference) << ranks << " ranks";
  }
}

// rank -o X.csv also writes X.score_histogram.csv (the ranking score of every single signature, pairs not
// counted, in 40 bins over [-1, 1]) and X.query_genes.csv (the matched query genes by value, with WTCS's up and
// down sets). On a small library written here: the histogram equals the bins of each signature's cosine computed
// from its definition, the gene list is exactly the matched genes with the flags of the top / bottom --set-size
// values, both the same on 1, 2 and 3 ranks; a name without .csv gets the suffixes appended; -o '' writes none.
TEST(CliCausal, RankWritesTheScoreHistogramAndQueryGenesBesideTheTable) {
  const auto dir = scratch("rank_side_files");
  constexpr int kGenes = 60, kSignatures = 14, kSetSize = 4, kBins = 40;
  tessera::io::GeneMatrix library;
  library.values.resize(kGenes, kSignatures);
  tessera::engine::RandomStream random(21, "test/rank_side_files");
  for (int c = 0; c < kSignatures; ++c)
    for (int g = 0; g < kGenes; ++g) library.values(g, c) = float(random.normal());
  set_gene_rows(library, kGenes, 2000);
  tessera::io::MetaColumn cell{"cell_id", tessera::io::MetaType::kString, {}, {}};
  tessera::io::MetaColumn pert{"pert_id", tessera::io::MetaType::kString, {}, {}};
  for (int c = 0; c < kSignatures; ++c) {
    library.cols.ids.push_back("sig" + std::to_string(c));
    cell.text.push_back("CELL0" + std::to_string(c % 2)), pert.text.push_back("drug" + std::to_string(c));
  }
  library.cols.fields = {cell, pert};
  tessera::io::write_gct(dir / "library.gct", library);

  // The query: every library gene except GENE0..GENE9 (left out), in a shuffled order, plus three genes the
  // library lacks; values written in shortest round-trip form, so the file gives exactly q.
  struct QueryGene {
    std::string gene;
    double value;
    int row;  // library row, -1: not in the library
  };
  std::vector<QueryGene> query;
  for (int g = 10; g < kGenes; ++g) query.push_back({"GENE" + std::to_string(g), random.normal(), g});
  for (int k = 0; k < 3; ++k) query.push_back({"NOTAGENE" + std::to_string(k), random.normal(), -1});
  random.shuffle(query);
  auto shortest = [](double v) {
    char buffer[64];
    return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, v).ptr);
  };
  {
    std::ofstream file(dir / "query.csv");
    file << "gene,value\n";
    for (const auto& q : query) file << q.gene << "," << shortest(q.value) << "\n";
  }

  // Expected histogram: cos(-q, s) over the matched genes for each signature, in the bin low <= c < high (the last
  // closed). Pairs (--pairs below) are not counted.
  std::vector<std::int64_t> counts(kBins, 0);
  for (int c = 0; c < kSignatures; ++c) {
    double dot = 0, qq = 0, ss = 0;
    for (const auto& q : query) {
      if (q.row < 0) continue;
      const double x = library.values(q.row, c);
      dot += -q.value * x, qq += q.value * q.value, ss += x * x;
    }
    const double cosine = dot / std::sqrt(qq * ss);
    int bin = 0;
    while (bin + 1 < kBins && cosine >= -1.0 + 2.0 * (bin + 1) / kBins) ++bin;
    ++counts[std::size_t(bin)];
  }
  // Expected gene list: the matched genes by value, largest first; the top kSetSize up, the bottom kSetSize down.
  std::vector<QueryGene> matched;
  std::copy_if(query.begin(), query.end(), std::back_inserter(matched), [](const auto& q) { return q.row >= 0; });
  std::sort(matched.begin(), matched.end(), [](const auto& a, const auto& b) { return a.value > b.value; });
  ASSERT_GT(matched[kSetSize - 1].value, 0);
  ASSERT_LT(matched[matched.size() - kSetSize].value, 0);

  std::string reference_histogram, reference_genes;
  for (int ranks : {1, 2, 3}) {
    // Three ranks: an out name without .csv, which gets ".score_histogram.csv" and ".query_genes.csv" appended.
    const auto out = dir / ("rank_np" + std::to_string(ranks) + (ranks < 3 ? ".csv" : ""));
    const auto stem = dir / ("rank_np" + std::to_string(ranks));
    const auto result =
        run_command(mpirun(ranks) + " " + kTessera + " rank -q " + (dir / "query.csv").string() + " -l " +
                    (dir / "library.gct").string() + " --rank-by cosine --pairs -k 3 --min-genes 10 --set-size " +
                    std::to_string(kSetSize) + " -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(tessera::io::read_csv(out).rows.size(), 3u);

    const auto histogram = tessera::io::read_csv(stem.string() + ".score_histogram.csv");
    EXPECT_EQ(histogram.header, (std::vector<std::string>{"bin_low", "bin_high", "count"}));
    ASSERT_EQ(histogram.rows.size(), std::size_t(kBins));
    std::int64_t total = 0;
    for (int b = 0; b < kBins; ++b) {
      const auto& row = histogram.rows[std::size_t(b)];
      EXPECT_NEAR(std::stod(row[0]), -1.0 + 0.05 * b, 1e-12) << b;
      EXPECT_NEAR(std::stod(row[1]), -1.0 + 0.05 * (b + 1), 1e-12) << b;
      EXPECT_EQ(std::stoll(row[2]), counts[std::size_t(b)]) << "bin " << b << ", " << ranks << " ranks";
      total += std::stoll(row[2]);
    }
    EXPECT_EQ(total, kSignatures);  // every single signature; none of the 91 pairs

    const auto genes = tessera::io::read_csv(stem.string() + ".query_genes.csv");
    EXPECT_EQ(genes.header, (std::vector<std::string>{"gene", "library_row", "value", "set"}));
    ASSERT_EQ(genes.rows.size(), matched.size());
    for (std::size_t k = 0; k < matched.size(); ++k) {
      const std::string set = k < kSetSize ? "up" : k >= matched.size() - kSetSize ? "down" : "";
      EXPECT_EQ(genes.rows[k], (std::vector<std::string>{matched[k].gene, std::to_string(2000 + matched[k].row),
                                                         shortest(matched[k].value), set}))
          << k;
    }
    if (ranks == 1) {
      reference_histogram = file_text(stem.string() + ".score_histogram.csv");
      reference_genes = file_text(stem.string() + ".query_genes.csv");
    }
    EXPECT_EQ(file_text(stem.string() + ".score_histogram.csv"), reference_histogram) << ranks << " ranks";
    EXPECT_EQ(file_text(stem.string() + ".query_genes.csv"), reference_genes) << ranks << " ranks";
  }

  // -o '': no table, so no side files either.
  const auto none = dir / "none";
  fs::create_directories(none);
  const auto result =
      run_command("cd " + none.string() + " && " + kTessera + " rank -q " + (dir / "query.csv").string() + " -l " +
                  (dir / "library.gct").string() + " --min-genes 10 --set-size 4 -o ''");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(fs::is_empty(none));
}

// rank's calibrated outputs on a library written here: three cell types x six drugs, d0 and d1 the reversed
// query plus noise in every cell type, the rest noise. The compound table lists d0 and d1 first; the hits carry
// NCS, p-value, FDR, target and MOA from --compound-info; the enrichment of the top 2 compounds finds target T1
// (both of d0 and d1 carry it) with the hypergeometric tail 1 / C(6, 2); the files are the same on 1 and 2 ranks. A
// compound table without its moa column ends with an error naming the file and the column, and writes nothing.
TEST(CliCausal, RankWritesCompoundSummariesAnnotationsAndEnrichment) {
  const auto dir = scratch("rank_compounds");
  constexpr int kGenes = 200, kDrugs = 6, kCells = 3;
  tessera::engine::RandomStream random(31, "test/rank_compounds");
  std::vector<double> q(kGenes);
  for (auto& v : q) v = random.normal();
  tessera::io::GeneMatrix library;
  library.values.resize(kGenes, kDrugs * kCells);
  set_gene_rows(library, kGenes, 3000);
  tessera::io::MetaColumn cell{"cell_id", tessera::io::MetaType::kString, {}, {}};
  tessera::io::MetaColumn pert{"pert_id", tessera::io::MetaType::kString, {}, {}};
  for (int c = 0; c < kCells; ++c)
    for (int d = 0; d < kDrugs; ++d) {
      const int column = c * kDrugs + d;
      for (int g = 0; g < kGenes; ++g)
        library.values(g, column) = float((d < 2 ? -q[std::size_t(g)] : 0.0) + random.normal());
      library.cols.ids.push_back("C" + std::to_string(c) + ":d" + std::to_string(d));
      cell.text.push_back("C" + std::to_string(c)), pert.text.push_back("d" + std::to_string(d));
    }
  library.cols.fields = {cell, pert};
  tessera::io::write_gct(dir / "library.gct", library);
  {
    std::ofstream file(dir / "query.csv");
    file << "gene,value\n";
    for (int g = 0; g < kGenes; ++g) file << "GENE" << g << "," << q[std::size_t(g)] << "\n";
    std::ofstream info(dir / "compoundinfo.txt");
    info << "pert_id\tcmap_name\ttarget\tmoa\n"
         << "d0\tzeromycin\tT1\tM1\nd1\tonestatin\tT1\tM1\nd1\tonestatin\tT9\tM1\nd2\ttwoxib\tT2\tM2\n"
         << "d3\tthreenib\tT2\tM2\nd4\tfourol\tT3\tM3\nd5\tfivine\tT3\tM3\n";
    std::ofstream bad(dir / "no_moa.txt");
    bad << "pert_id\tcmap_name\ttarget\nd0\tzeromycin\tT1\n";
  }
  const std::string base = kTessera + " rank -q " + (dir / "query.csv").string() + " -l " +
                           (dir / "library.gct").string() + " --set-size 20 -k 4 --enrichment-top 2 --compound-info ";
  std::string reference[3];
  for (int ranks : {1, 2}) {
    const auto out = dir / ("rank_np" + std::to_string(ranks) + ".csv");
    const auto stem = dir / ("rank_np" + std::to_string(ranks));
    const auto result =
        run_command(mpirun(ranks) + " " + base + (dir / "compoundinfo.txt").string() + " -o " + out.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const auto hits = tessera::io::read_csv(out);
    for (const char* column : {"ncs", "p_value", "fdr", "target", "moa"}) EXPECT_NO_THROW(hits.column(column, "hits"));
    const std::string top_pert = hits.rows[0][hits.column("pert_id", "hits")];
    EXPECT_TRUE(top_pert == "d0 (zeromycin)" || top_pert == "d1 (onestatin)") << top_pert;
    EXPECT_EQ(hits.rows[0][hits.column("moa", "hits")], "M1");
    EXPECT_LT(std::stod(hits.rows[0][hits.column("ncs", "hits")]), 0);
    EXPECT_LE(std::stod(hits.rows[0][hits.column("p_value", "hits")]), 1.0 / 1001 + 1e-6);

    const auto compounds = tessera::io::read_csv(stem.string() + ".compounds.csv");
    ASSERT_EQ(compounds.rows.size(), std::size_t(kDrugs));
    const auto pert_column = compounds.column("pert_id", "compounds");
    EXPECT_EQ((std::set<std::string>{compounds.rows[0][pert_column], compounds.rows[1][pert_column]}),
              (std::set<std::string>{"d0", "d1"}));
    EXPECT_EQ(compounds.rows[0][compounds.column("cell_lines", "compounds")], "3");
    const auto d1 = compounds.rows[0][pert_column] == "d1" ? 0 : 1;
    EXPECT_EQ(compounds.rows[std::size_t(d1)][compounds.column("target", "compounds")], "T1|T9");

    const auto enrichment = tessera::io::read_csv(stem.string() + ".enrichment.csv");
    const auto& first = enrichment.rows[0];
    EXPECT_EQ((std::vector<std::string>{first[0], first[1], first[2], first[3], first[4], first[5]}),
              (std::vector<std::string>{"target", "T1", "2", "2", "2", "6"}));
    EXPECT_NEAR(std::stod(first[enrichment.column("p_value", "enrichment")]), 1.0 / 15, 1e-4);
    if (ranks == 1) {
      reference[0] = file_text(out);
      reference[1] = file_text(stem.string() + ".compounds.csv");
      reference[2] = file_text(stem.string() + ".enrichment.csv");
    }
    EXPECT_EQ(file_text(out), reference[0]) << ranks << " ranks";
    EXPECT_EQ(file_text(stem.string() + ".compounds.csv"), reference[1]) << ranks << " ranks";
    EXPECT_EQ(file_text(stem.string() + ".enrichment.csv"), reference[2]) << ranks << " ranks";
  }
  const auto bad_out = dir / "bad.csv";
  const auto result = run_command(base + (dir / "no_moa.txt").string() + " -o " + bad_out.string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("no_moa.txt"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("moa"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(bad_out));
  EXPECT_FALSE(fs::exists(dir / "bad.compounds.csv"));
}

TEST(CliCausal, BadInputEndsWithAClearError) {
  const auto dir = scratch("errors");
  auto result = run_command(kTessera + " simulate-dag --nodes 6 --format dcdi --out " + (dir / "d").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::ofstream(dir / "pool.csv") << "perturbation,NOT_A_NODE\nx,1\n";
  std::ofstream(dir / "dag.csv") << "source,target\nX0,X1\n";
  std::ofstream(dir / "q.csv") << "gene,value\nGENE0001,1\nGENE0002,-1\n";
  struct Case {
    std::string arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"simulate-dag --graph ring", "--graph 'ring'"},
      {"simulate-dag --nodes 5 --targets-per-setting 6", "--targets-per-setting"},
      {"discover -i " + (dir / "d").string() + " --targets 1:X0", "DCDI folder names its settings"},
      {"discover -i " + (dir / "d").string() + " --dcdi-index 4", "data_interv4.npy"},
      {"discover -i " + (dir / "d").string() + " --order X0,X1", "--order must list every one of the 6"},
      {"discover -i " + (dir / "d").string() + " --shrinkage lots",
       "tessera discover: --shrinkage 'lots' is invalid: the allowed values of shrinkage are auto or in [0, 1]"},
      {"discover -i " + (dir / "d").string() + " --truth " + (dir / "pool.csv").string(), "source"},
      {"discover -i " + (dir / "d").string() + " --depth 0",
       "tessera discover: --depth '0' is invalid: the allowed values of depth are inf or at least 1"},
      {"discover -i " + (dir / "d").string() + " --move sideways",
       "tessera discover: --move 'sideways' is not one of first | best"},
      {"design --pool " + (dir / "pool.csv").string(), "need --dag"},
      {"design --dag " + (dir / "dag.csv").string() + " --pool " + (dir / "pool.csv").string(), "NOT_A_NODE"},
      {"rank -q " + (dir / "q.csv").string() + " -l " + (dir / "missing.gctx").string(), "missing.gctx"},
      {"rank -q q.csv -l missing.gctx --pair-space latent", "add --pairs"},
      {"rank -q q.csv -l missing.gctx --pairs --pair-space latent --controls c.csv", "needs --model"},
      {"rank -q q.csv -l missing.gctx --pairs --pair-space protein",
       "tessera rank: --pair-space 'protein' is not one of gene | latent"},
  };
  // On 2 ranks, where an error must also end the other rank: every rank meets these errors alike, and the 1-rank
  // exit path is test_cli's (each launch costs about 2 s of MPI and LibTorch start-up).
  for (const auto& c : cases) {
    result = run_command(
        "cd " + tessera::testing::quote(dir.string()) + " && " + mpirun(2) + " " + kTessera + " " + c.arguments, 120);
    EXPECT_NE(result.exit_code, 0) << c.arguments;
    EXPECT_NE(result.exit_code, 124) << "hung: " << c.arguments;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << c.arguments << "\n" << result.output;
  }
}
