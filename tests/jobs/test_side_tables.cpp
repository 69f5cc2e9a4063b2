// A release shipped as LINCS2020 beta is: a GCTX whose rows and columns carry only ids, with siginfo and geneinfo
// side tables. `tessera impute` on it with --signature-info/--where/--gene-info/--genes must give exactly the
// metrics of the same data written the old way (metadata in the GCTX's columns, only the selected signatures and
// the landmark rows), at 1 and 3 ranks; with compoundinfo and --where on its moa field, the metrics of the same
// compounds' signatures written the old way, at 1, 2 and 3 ranks, and output columns named by cmap_name and moa;
// the side-table options' misuse is refused with the fix.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/csv.h"
#include "io/gctx.h"
#include "tests/support/run_command.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::testing::mpirun;
using tessera::testing::quote;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

struct Signature {
  std::string id, pert, type, cell, dose, time;
  int gold = 1;
  bool kept = false;  // what --where below keeps
};

constexpr int kGenes = 30;  // every third one a landmark
const char* feature_space(int g) { return g % 3 == 0 ? "landmark" : g % 3 == 1 ? "best inferred" : "inferred"; }
std::string gene_id(int g) { return std::to_string(1000 + 7 * g); }

const char* kWhere = "is_gold=1,pert_type=trt_cp,pert_itime='24 h'";

// 4 cell lines x 12 compounds at 24 h, gold, about 70% of the pairs measured (some twice), plus what the filter
// must drop: non-gold, 6 h, shRNA and control signatures, whose values are far off so that keeping one would
// change the metrics.
std::vector<Signature> signatures() {
  const std::vector<std::string> cells{"A375", "PC3", "MCF7", "HEPG2"};
  std::vector<Signature> out;
  int n = 0;
  auto add = [&](const std::string& pert, const std::string& type, const std::string& cell, const std::string& time,
                 int gold, bool kept) {
    out.push_back(
        {"SIG_" + std::to_string(n++), pert, type, cell, type == "trt_cp" ? "10 uM" : "-666", time, gold, kept});
  };
  for (int c = 0; c < 4; ++c)
    for (int p = 0; p < 12; ++p) {
      const std::string pert = "BRD-K" + std::to_string(100 + p);
      if ((c * 5 + p * 3) % 10 < 7) add(pert, "trt_cp", cells[std::size_t(c)], "24 h", 1, true);
      if ((c + p) % 5 == 0) add(pert, "trt_cp", cells[std::size_t(c)], "24 h", 1, true);  // a replicate
      if ((c + 2 * p) % 7 == 0) add(pert, "trt_cp", cells[std::size_t(c)], "24 h", 0, false);
      if ((c + p) % 6 == 1) add(pert, "trt_cp", cells[std::size_t(c)], "6 h", 1, false);
    }
  for (int c = 0; c < 4; ++c) {
    add("DMSO", "ctl_vehicle", cells[std::size_t(c)], "24 h", 1, false);
    add("TRCN" + std::to_string(c), "trt_sh", cells[std::size_t(c)], "24 h", 1, false);
  }
  return out;
}

float value(const Signature& s, int g, int index) {
  if (!s.kept) return 50.0f + float(g);
  const double cell = double(s.cell[0] + s.cell.size()), pert = double(std::stoi(s.pert.substr(5)));
  return float(std::sin(0.3 * g + 0.7 * cell) + std::cos(0.11 * g * pert) + 0.01 * ((index * 7 + g) % 5));
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Compound p's rows in compoundinfo.txt (one per target): p % 3 == 0 an HDAC inhibitor, 1 an EGFR inhibitor with
// a second moa on its second target, 2 without a moa (-666); BRD-K110 has no row at all.
struct CompoundRow {
  std::string target, moa;
};
std::vector<CompoundRow> compound_rows(int p) {
  if (p == 10) return {};
  const std::string t = "T" + std::to_string(p);
  if (p % 3 == 0) return {{t + "a", "HDAC inhibitor"}, {t + "b", "HDAC inhibitor"}};
  if (p % 3 == 1) return {{t + "a", "EGFR inhibitor"}, {t + "b", "Tyrosine kinase inhibitor"}};
  return {{t + "a", "-666"}};
}
int compound_of(const std::string& pert) { return pert.starts_with("BRD-K") ? std::stoi(pert.substr(5)) - 100 : -1; }

// What --where kWhere plus kCompoundWhere keeps, from the rows above.
const char* kCompoundWhere = "moa='HDAC inhibitor',moa='EGFR inhibitor'";
bool compound_kept(const Signature& s) {
  const int p = compound_of(s.pert);
  return s.kept && p >= 0 && p != 10 && p % 3 != 2;
}

// A reference file: the signatures `keep` selects with cell_id/pert_id/pert_type/... columns, in the beta file's
// order, and the landmark rows only (in its order).
void write_reference(const fs::path& path, const tessera::io::GeneMatrix& beta, const std::vector<Signature>& sigs,
                     bool (*keep)(const Signature&));

// beta.gctx (ids only, signatures in reverse order, every gene) + siginfo (with rows the GCTX lacks) + geneinfo +
// compoundinfo, and the references: reference.gctx (what kWhere keeps), reference_moa.gctx (kWhere + kCompoundWhere).
void write_inputs(const fs::path& dir) {
  const auto sigs = signatures();
  tessera::io::GeneMatrix beta;
  beta.values.resize(kGenes, Eigen::Index(sigs.size()));
  for (int g = 0; g < kGenes; ++g) beta.rows.ids.push_back(gene_id(g));
  for (std::size_t k = 0; k < sigs.size(); ++k) {
    const std::size_t s = sigs.size() - 1 - k;  // GCTX order differs from siginfo order
    beta.cols.ids.push_back(sigs[s].id);
    for (int g = 0; g < kGenes; ++g) beta.values(g, Eigen::Index(k)) = value(sigs[s], g, int(s));
  }
  tessera::io::write_gctx(dir / "beta.gctx", beta);
  write_reference(dir / "reference.gctx", beta, sigs, [](const Signature& s) { return s.kept; });
  write_reference(dir / "reference_moa.gctx", beta, sigs, compound_kept);

  std::ostringstream siginfo;
  siginfo << "\xEF\xBB\xBFsig_id\tpert_id\tcmap_name\tpert_type\tcell_iname\tpert_idose\tpert_itime\tis_gold\tqc_pass"
             "\r\n";
  for (const auto& s : sigs)
    siginfo << s.id << "\t" << s.pert << "\tname of " << s.pert << "\t" << s.type << "\t" << s.cell << "\t" << s.dose
            << "\t" << s.time << "\t" << s.gold << "\t1\r\n";
  siginfo << "SIG_ELSEWHERE_1\tBRD-K100\tx\ttrt_cp\tA375\t10 uM\t24 h\t1\t1\r\n";  // in another GCTX
  siginfo << "SIG_ELSEWHERE_2\tBRD-K101\tx\ttrt_cp\tPC3\t10 uM\t24 h\t1\t1\r\n";
  write_text(dir / "siginfo.txt", siginfo.str());
  std::ostringstream geneinfo;
  geneinfo << "gene_id\tgene_symbol\tensembl_id\tgene_title\tgene_type\tsrc\tfeature_space\n";
  for (int g = kGenes - 1; g >= 0; --g)  // table order differs from the GCTX's
    geneinfo << gene_id(g) << "\tSYM" << g << "\tENSG" << g << "\ttitle " << g << "\tprotein-coding\tNCBI\t"
             << feature_space(g) << "\n";
  write_text(dir / "geneinfo.txt", geneinfo.str());
  std::ostringstream compoundinfo;
  compoundinfo << "pert_id\tcmap_name\ttarget\tmoa\tcanonical_smiles\tinchi_key\tcompound_aliases\n";
  for (int p = 11; p >= 0; --p)
    for (const auto& row : compound_rows(p))
      compoundinfo << "BRD-K" << 100 + p << "\tcompound " << p << "\t" << row.target << "\t" << row.moa << "\tC" << p
                   << "\tKEY" << p << "\t-666\n";
  write_text(dir / "compoundinfo.txt", compoundinfo.str());
}

void write_reference(const fs::path& path, const tessera::io::GeneMatrix& beta, const std::vector<Signature>& sigs,
                     bool (*keep)(const Signature&)) {
  tessera::io::GeneMatrix reference;
  std::vector<int> landmarks;
  for (int g = 0; g < kGenes; ++g)
    if (g % 3 == 0) landmarks.push_back(g);
  tessera::io::MetaColumn symbol{"pr_gene_symbol", tessera::io::MetaType::kString, {}, {}};
  for (int g : landmarks) {
    reference.rows.ids.push_back(gene_id(g));
    symbol.text.push_back("SYM" + std::to_string(g));
  }
  reference.rows.fields.push_back(symbol);
  std::vector<tessera::io::MetaColumn> fields;
  for (const char* name : {"cell_id", "pert_id", "pert_type", "pert_idose", "pert_itime"})
    fields.push_back({name, tessera::io::MetaType::kString, {}, {}});
  std::vector<std::size_t> kept;
  for (std::size_t k = 0; k < sigs.size(); ++k)
    if (keep(sigs[sigs.size() - 1 - k])) kept.push_back(k);
  reference.values.resize(Eigen::Index(landmarks.size()), Eigen::Index(kept.size()));
  for (std::size_t j = 0; j < kept.size(); ++j) {
    const auto& s = sigs[sigs.size() - 1 - kept[j]];
    reference.cols.ids.push_back(s.id);
    for (auto* f : {&fields[0], &fields[1], &fields[2], &fields[3], &fields[4]}) {
      const std::string& v = f->name == "cell_id"      ? s.cell
                             : f->name == "pert_id"    ? s.pert
                             : f->name == "pert_type"  ? s.type
                             : f->name == "pert_idose" ? s.dose
                                                       : s.time;
      f->text.push_back(v);
    }
    for (std::size_t l = 0; l < landmarks.size(); ++l)
      reference.values(Eigen::Index(l), Eigen::Index(j)) = beta.values(landmarks[l], Eigen::Index(kept[j]));
  }
  reference.cols.fields = std::move(fields);
  tessera::io::write_gctx(path, reference);
}

std::string impute(int ranks, const fs::path& input, const std::string& side, const fs::path& out) {
  return mpirun(ranks) + " " + kTessera + " impute --input " + quote(input.string()) + side +
         " --method two_way_mean --folds 3 --min-drugs 2 --seed 5 --out " + quote(out.string());
}

TEST(SideTables, BetaReleaseGivesTheMetricsOfTheSameDataWithMetadataInTheGctx) {
  const auto dir = tessera::testing::scratch_dir("tessera_test_side_tables", "beta");
  write_inputs(dir);
  const std::string side = " --signature-info " + quote((dir / "siginfo.txt").string()) + " --where " + quote(kWhere) +
                           " --gene-info " + quote((dir / "geneinfo.txt").string()) + " --genes landmark";
  int kept = 0, total = 0;
  for (const auto& s : signatures()) kept += s.kept, ++total;
  for (const int ranks : {1, 3}) {
    const auto suffix = std::to_string(ranks);
    auto result = run_command(impute(ranks, dir / "beta.gctx", side, dir / ("beta" + suffix)), 300);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    tessera::testing::expect_mentions(result.output,
                                      {"side tables select " + std::to_string(kept) + " of " + std::to_string(total) +
                                           " signatures and 10 of 30 genes",
                                       "2 of the " + std::to_string(kept + 2) + " signatures it keeps are not in"});
    result = run_command(impute(ranks, dir / "reference.gctx", "", dir / ("reference" + suffix)), 300);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const auto beta = tessera::io::read_csv(dir / ("beta" + suffix) / "metrics.csv");
    const auto reference = tessera::io::read_csv(dir / ("reference" + suffix) / "metrics.csv");
    ASSERT_FALSE(reference.rows.empty());
    ASSERT_EQ(beta.header, reference.header);
    ASSERT_EQ(beta.rows.size(), reference.rows.size());
    const std::size_t seconds = reference.column("seconds", "metrics.csv");  // the one column that may differ
    for (std::size_t r = 0; r < beta.rows.size(); ++r)
      for (std::size_t c = 0; c < beta.header.size(); ++c)
        if (c != seconds) {
          EXPECT_EQ(beta.rows[r][c], reference.rows[r][c])
              << beta.header[c] << ", row " << r << ", " << ranks << " ranks";
        }
  }
}

// The metrics of two impute runs (the same but for the seconds column), and the output GCTX columns' compound fields.
void expect_same_metrics(const fs::path& got, const fs::path& expected, const std::string& what) {
  const auto beta = tessera::io::read_csv(got / "metrics.csv");
  const auto reference = tessera::io::read_csv(expected / "metrics.csv");
  ASSERT_FALSE(reference.rows.empty());
  ASSERT_EQ(beta.header, reference.header);
  ASSERT_EQ(beta.rows.size(), reference.rows.size());
  const std::size_t seconds = reference.column("seconds", "metrics.csv");
  for (std::size_t r = 0; r < beta.rows.size(); ++r)
    for (std::size_t c = 0; c < beta.header.size(); ++c)
      if (c != seconds) {
        EXPECT_EQ(beta.rows[r][c], reference.rows[r][c]) << beta.header[c] << ", row " << r << what;
      }
}

// Every column of out/<file> names its perturbation's compound: cmap_name and moa as compoundinfo.txt says.
void expect_compound_fields(const fs::path& path) {
  const tessera::engine::Context self(MPI_COMM_SELF);
  const auto written = tessera::io::read_gctx<float>(path, self);
  const auto& pert = written.cols.require("pert_id", path.string());
  const auto& name = written.cols.require("cmap_name", path.string());
  const auto& moa = written.cols.require("moa", path.string());
  ASSERT_GT(written.cols.size(), 0u);
  for (std::size_t j = 0; j < written.cols.size(); ++j) {
    const int p = compound_of(pert.text[j]);
    std::string expected_moa;
    for (const auto& row : compound_rows(p))
      if (row.moa != "-666" && expected_moa.find(row.moa) == std::string::npos)
        expected_moa += (expected_moa.empty() ? "" : "|") + row.moa;
    EXPECT_EQ(name.text[j], p == 10 ? "-666" : "compound " + std::to_string(p)) << path << " column " << j;
    EXPECT_EQ(moa.text[j], expected_moa.empty() ? "-666" : expected_moa) << path << " column " << j;
  }
}

TEST(SideTables, CompoundFieldsSelectSignaturesAndNameTheOutputColumns) {
  const auto dir = tessera::testing::scratch_dir("tessera_test_side_tables", "compounds");
  write_inputs(dir);
  const std::string tables = " --signature-info " + quote((dir / "siginfo.txt").string()) + " --compound-info " +
                             quote((dir / "compoundinfo.txt").string()) + " --gene-info " +
                             quote((dir / "geneinfo.txt").string()) + " --genes landmark";
  int total = 0, kept = 0, kept_moa = 0, kept_without_compound = 0;
  for (const auto& s : signatures()) {
    ++total;
    kept += s.kept;
    kept_moa += compound_kept(s);
    kept_without_compound += s.kept && s.pert == "BRD-K110";
  }
  ASSERT_GT(kept_without_compound, 0);
  ASSERT_LT(kept_moa, kept - kept_without_compound);  // the moa clauses drop more than BRD-K110
  const std::string dropped = "compound table '" + (dir / "compoundinfo.txt").string() + "' lacks the pert_id of " +
                              std::to_string(kept_without_compound) + " signatures";
  for (const int ranks : {1, 2, 3}) {
    const auto suffix = std::to_string(ranks);
    // A moa filter: the metrics of the same compounds' signatures written the old way.
    auto result = run_command(
        impute(ranks, dir / "beta.gctx", tables + " --where " + quote(std::string(kWhere) + "," + kCompoundWhere),
               dir / ("moa" + suffix)),
        300);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    tessera::testing::expect_mentions(
        result.output, {"side tables select " + std::to_string(kept_moa) + " of " + std::to_string(total) +
                            " signatures and 10 of 30 genes",
                        dropped + " of '" + (dir / "siginfo.txt").string() + "' that --where would keep otherwise",
                        "2 of the " + std::to_string(kept_moa + 2) + " signatures it keeps are not in"});
    result = run_command(impute(ranks, dir / "reference_moa.gctx", "", dir / ("reference_moa" + suffix)), 300);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_same_metrics(dir / ("moa" + suffix), dir / ("reference_moa" + suffix), ", " + suffix + " ranks");
    expect_compound_fields(dir / ("moa" + suffix) / "completed_two_way_mean.gctx");
    expect_compound_fields(dir / ("moa" + suffix) / "heldout_two_way_mean.gctx");
  }
  // No compound clause: the compound table selects nothing (BRD-K110 stays, named -666) but names the outputs.
  auto result = run_command(impute(2, dir / "beta.gctx", tables + " --where " + quote(kWhere), dir / "annotated"), 300);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  tessera::testing::expect_mentions(
      result.output,
      {"side tables select " + std::to_string(kept) + " of " + std::to_string(total) + " signatures",
       dropped.substr(0, dropped.size() - std::string(" signatures").size()) + " of the signatures kept"});
  result = run_command(impute(2, dir / "reference.gctx", "", dir / "reference_all"), 300);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_same_metrics(dir / "annotated", dir / "reference_all", ", without compound clauses");
  expect_compound_fields(dir / "annotated" / "completed_two_way_mean.gctx");
}

TEST(SideTables, MisusedOptionsAreRefusedWithTheFix) {
  const auto dir = tessera::testing::scratch_dir("tessera_test_side_tables", "misuse");
  write_inputs(dir);
  const std::string input = " --input " + quote((dir / "beta.gctx").string());
  const std::string out = " --method two_way_mean --out " + quote((dir / "out").string());
  const std::string siginfo = " --signature-info " + quote((dir / "siginfo.txt").string());
  const std::string compounds = quote((dir / "compoundinfo.txt").string());
  struct Case {
    std::string arguments;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases{
      {input + " --where is_gold=1", {"--where filters the rows of a signature table", "--signature-info"}},
      {input + " --gene-info " + quote((dir / "siginfo.txt").string()) + " --genes landmarks",
       {"--genes 'landmarks' is not one of landmark | best inferred | inferred | all"}},
      {input + " --genes landmark", {"--genes selects genes", "--gene-info"}},
      {input + " --signature-info " + quote((dir / "siginfo.txt").string()) + " --where \"pert_itime='24 h\"",
       {"--where", "never closed"}},
      {input + " --signature-info " + quote((dir / "siginfo.txt").string()) + " --where cell_id=A375",
       {"siginfo.txt", "--where names field 'cell_id'", "'cell_iname'"}},
      {input + " --signature-info " + quote((dir / "siginfo.txt").string()) + " --where pert_itime=48h",
       {"siginfo.txt", "keeps none of its", "pert_itime='48h' keeps 0"}},
      // The GCTX without its siginfo: every signature unknown.
      {input + " --signature-info " + quote((dir / "geneinfo.txt").string()), {"geneinfo.txt", "no field 'sig_id'"}},
      // --compound-info: only with its signature table; --where fields of neither file, or keeping nothing.
      {input + " --compound-info " + compounds, {"--compound-info describes the compounds", "--signature-info"}},
      {input + siginfo + " --compound-info " + compounds + " --where moas=x",
       {"--where names field 'moas', which neither", "siginfo.txt", "compoundinfo.txt", "'moa'", "'is_gold'"}},
      {input + siginfo + " --compound-info " + compounds + " --where is_gold=1,moa=x,target=T0a",
       {"compoundinfo.txt", "keeps none of its 11 compounds", "moa='x' keeps 0, target='T0a' keeps 1 of 11"}},
      {input + siginfo + " --compound-info " + compounds + " --where pert_id=DMSO,moa='HDAC inhibitor'",
       {"--where keeps no signature of", "pert_id='DMSO' keeps 4", "4 have a pert_id the compound table lacks"}},
      {input + siginfo + " --compound-info " + quote((dir / "geneinfo.txt").string()),
       {"geneinfo.txt", "no field 'pert_id'"}},
  };
  for (const auto& c : cases) {
    const auto result = run_command(mpirun(2) + " " + kTessera + " impute" + c.arguments + out, 120);
    EXPECT_EQ(result.exit_code, 1) << c.arguments << "\n" << result.output;
    tessera::testing::expect_mentions(result.output, c.mentions);
  }
}

}  // namespace
