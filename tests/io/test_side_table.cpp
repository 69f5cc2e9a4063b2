// Side tables (io/side_table.h) and the selected GCTX read (GctxReader::read_selection): parsing with its exact
// error messages, the --where filter, the join onto GCTX signatures, gene selection by feature_space, and the
// selected read against the whole file indexed with Eigen (exact equality). Runs at 1, 2 and 3 ranks: every rank
// makes the same collective calls; files are written by rank 0 only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/gctx.h"
#include "io/side_table.h"
#include "tests/support/shared_temp_dir.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::error_of;
using tessera::testing::message_of;
namespace fs = std::filesystem;

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

// This test case's folder, shared by the ranks.
struct TempDir : tessera::testing::SharedTempDir {
  TempDir() : SharedTempDir("tessera_test_side_table") {}
};

const MetaColumn& field(const MetaTable& table, const std::string& name) { return table.require(name, "test"); }

// A siginfo-shaped table: 6 signatures of two cell lines, gold or not, two times, one control.
constexpr const char* kSigInfo =
    "sig_id\tpert_id\tcmap_name\tpert_type\tcell_iname\tpert_idose\tpert_itime\tis_gold\n"
    "S0\tBRD-A\talpha\ttrt_cp\tA375\t10 uM\t24 h\t1\n"
    "S1\tBRD-B\tbeta\ttrt_cp\tA375\t10 uM\t6 h\t1\n"
    "S2\tBRD-A\talpha\ttrt_cp\tPC3\t10 uM\t24 h\t0\n"
    "S3\tDMSO\tDMSO\tctl_vehicle\tPC3\t-666\t24 h\t1\n"
    "S4\tBRD-B\tbeta\ttrt_cp\tPC3\t1 uM\t24 h\t1\n"
    "S5\tBRD-C\tgamma, the third\ttrt_sh\tA375\t-666\t24 h\t1\n";

SideTable sig_info() { return parse_side_table(kSigInfo, "s.txt", "sig_id"); }

TEST(SideTable, ReadsTabsWithByteOrderMarkCrlfAndTrailingEmptyLine) {
  const std::string text =
      "\xEF\xBB\xBFgene_id\tgene_symbol\tfeature_space\r\n5720\tPSME1\tlandmark\r\n"
      "466\tATF1\tbest inferred\r\n7\t\tinferred\r\n\r\n";
  const SideTable side = parse_side_table(text, "g.txt", "gene_id");
  EXPECT_EQ(side.table.ids, (std::vector<std::string>{"5720", "466", "7"}));
  ASSERT_EQ(side.table.fields.size(), 2u);
  EXPECT_EQ(field(side.table, "gene_symbol").text, (std::vector<std::string>{"PSME1", "ATF1", ""}));
  EXPECT_EQ(field(side.table, "feature_space").text,
            (std::vector<std::string>{"landmark", "best inferred", "inferred"}));
  EXPECT_TRUE(field(side.table, "gene_symbol").is_missing(2));
  EXPECT_EQ(side.lines, (std::vector<std::int64_t>{2, 3, 4}));
  // The id column may stand anywhere; the others keep file order.
  const SideTable middle = parse_side_table("a\tid\tb\n1\tx\t2\n", "m.txt", "id");
  EXPECT_EQ(middle.table.ids, std::vector<std::string>{"x"});
  EXPECT_EQ(middle.table.fields[0].name, "a");
  EXPECT_EQ(middle.table.fields[1].text, std::vector<std::string>{"2"});
}

TEST(SideTable, ReadsAFileAndRoundTripsThroughItsText) {
  TempDir dir;
  if (world().is_root()) std::ofstream(dir / "s.txt", std::ios::binary) << kSigInfo;
  world().barrier();
  const SideTable side = read_side_table(dir / "s.txt", "sig_id");
  EXPECT_EQ(side.table.size(), 6u);
  EXPECT_EQ(side_table_text(side.table, "sig_id"), kSigInfo);
  EXPECT_EQ(message_of([&] { read_side_table(dir / "none.txt", "sig_id"); }),
            "side table '" + (dir / "none.txt").string() + "' does not exist; check the path");
}

TEST(SideTable, ErrorsNameTheFileTheLineAndTheField) {
  EXPECT_EQ(message_of([] { parse_side_table("pert_id\tx\nA\t1\n", "s.txt", "sig_id"); }),
            "side table 's.txt', line 1: no field 'sig_id' in the header (fields: 'pert_id', 'x'); give the sig_id "
            "table here, tab-separated with its header line (is this the right file?)");
  EXPECT_EQ(message_of([] { parse_side_table("sig_id\ta\tb\nS0\t1\t2\nS1\t1\n", "s.txt", "sig_id"); }),
            "side table 's.txt', line 3: 2 tab-separated cells but the header has 3 fields ('b' is missing); every "
            "row needs one cell per field: fix the row or copy the file again");
  EXPECT_EQ(message_of([] { parse_side_table("sig_id\ta\nS0\t1\t2\n", "s.txt", "sig_id"); }),
            "side table 's.txt', line 2: 3 tab-separated cells but the header has 2 fields (extra cells after "
            "'a'); every row needs one cell per field: fix the row or copy the file again");
  EXPECT_EQ(message_of([] { parse_side_table("sig_id\ta\nS0\t1\nS1\t2\nS0\t3\n", "s.txt", "sig_id"); }),
            "side table 's.txt', line 4, field 'sig_id': duplicate id 'S0' (first on line 2); each id may appear "
            "once: remove the repeated row");
  EXPECT_EQ(message_of([] { parse_side_table("sig_id\ta\nS0\t1\n\nS1\t2\n", "s.txt", "sig_id"); }),
            "side table 's.txt', line 3: empty line inside the table; remove it (only empty lines at the end are "
            "ignored)");
  EXPECT_EQ(message_of([] { parse_side_table("a\tsig_id\n1\t\n", "s.txt", "sig_id"); }),
            "side table 's.txt', line 2, field 'sig_id': the id is empty; every row needs its sig_id");
  EXPECT_EQ(message_of([] { parse_side_table("sig_id\ta\ta\n", "s.txt", "sig_id"); }),
            "side table 's.txt', line 1: field 'a' is named twice (columns 2 and 3); rename one");
  // compoundinfo_beta.txt repeats pert_id: accepted when asked.
  EXPECT_EQ(parse_side_table("pert_id\tmoa\nA\tx\nA\ty\n", "c.txt", "pert_id", false).table.size(), 2u);
}

TEST(SideTable, WhereParsesQuotedValues) {
  const auto clauses = parse_where(R"(is_gold=1, pert_type = trt_cp,pert_itime='24 h',cmap_name="gamma, the third")");
  ASSERT_EQ(clauses.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"is_gold", "1"}, {"pert_type", "trt_cp"}, {"pert_itime", "24 h"}, {"cmap_name", "gamma, the third"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(clauses[i].field, expected[i].first);
    EXPECT_EQ(clauses[i].value, expected[i].second);
  }
  EXPECT_EQ(parse_where("a='x=\"y\"'")[0].value, "x=\"y\"");
  EXPECT_EQ(parse_where("a=")[0].value, "");
  EXPECT_EQ(message_of([] { parse_where("is_gold=1,trt_cp"); }),
            "--where 'is_gold=1,trt_cp': clause 'trt_cp' is not field=value; write e.g. --where "
            "is_gold=1,pert_type=trt_cp,pert_itime='24 h'");
  EXPECT_EQ(message_of([] { parse_where("pert_itime='24 h"); }),
            "--where 'pert_itime='24 h': the value of 'pert_itime' opens a ' quote that is never closed; close it");
  EXPECT_EQ(message_of([] { parse_where("a='x'y"); }),
            "--where 'a='x'y': unexpected text after the quoted value of 'a'; separate clauses with ','");
  EXPECT_EQ(message_of([] { parse_where("=1"); }),
            "--where '=1': a clause has no field name before '='; write field=value");
}

TEST(SideTable, FilterAndsFieldsAndOrsClausesOfOneField) {
  const SideTable side = sig_info();
  EXPECT_EQ(filter_rows(side, parse_where("is_gold=1,pert_type=trt_cp,pert_itime='24 h'")),
            (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(filter_rows(side, parse_where("pert_itime='24 h',pert_itime=6 h,cell_iname=A375")),
            (std::vector<std::int64_t>{0, 1, 5}));
  EXPECT_EQ(filter_rows(side, parse_where("cmap_name='gamma, the third'")), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(filter_rows(side, parse_where("sig_id=S3")), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(message_of([&] { filter_rows(side, parse_where("is_gold=1,cell_id=A375")); }),
            "side table 's.txt': --where names field 'cell_id', which the file does not have (fields: 'sig_id', "
            "'pert_id', 'cmap_name', 'pert_type', 'cell_iname', 'pert_idose', 'pert_itime', 'is_gold'); fix the "
            "field name or give the right file");
  EXPECT_EQ(message_of([&] { filter_rows(side, parse_where("is_gold=0,pert_itime=6 h,pert_itime=48 h")); }),
            "side table 's.txt': --where keeps none of its 6 rows (is_gold='0' keeps 1, pert_itime='6 h' keeps 1, "
            "pert_itime='48 h' keeps 0 of 6 rows; clauses on different fields must all hold, values are compared "
            "as exact text); loosen the filter or check the values in the file");
}

// A compoundinfo-shaped table: one row per (compound, target), BRD-B with two moas, BRD-D in no signature, BRD-C
// with missing values and a cmap_name that differs from the signature table's; DMSO (S3) has no row.
constexpr const char* kCompoundInfo =
    "pert_id\tcmap_name\ttarget\tmoa\tcanonical_smiles\tinchi_key\tcompound_aliases\n"
    "BRD-A\talpha\tHDAC1\tHDAC inhibitor\tCC\tK-A\t-666\n"
    "BRD-A\talpha\tHDAC2\tHDAC inhibitor\tCC\tK-A\t-666\n"
    "BRD-B\tbeta\tEGFR\tEGFR inhibitor\tCN\tK-B\tb1\n"
    "BRD-B\tbeta\tERBB2\tEGFR inhibitor\tCN\tK-B\tb1\n"
    "BRD-B\tbeta\tERBB2\tTyrosine kinase inhibitor\tCN\tK-B\tb1\n"
    "BRD-D\tdelta\tHDAC3\tHDAC inhibitor\tCO\tK-D\t-666\n"
    "BRD-C\tgamma\t-666\t\tCS\tK-C\t-666\n";

SideTable compound_info() { return parse_side_table(kCompoundInfo, "c.txt", "pert_id", false); }

// The rule of filter_signatures written out row by row, for comparison: a signature clause tests the row's own
// value; a compound clause field holds when some compound row of the signature's pert_id has one of its values.
std::vector<std::int64_t> brute_force_filter(const SideTable& sigs, const SideTable& compounds,
                                             const std::vector<WhereClause>& where) {
  const auto value = [](const SideTable& side, const std::string& name, std::size_t i) -> const std::string* {
    if (name == side.id_column) return &side.table.ids[i];
    const MetaColumn* column = side.table.find(name);
    return column == nullptr ? nullptr : &column->text[i];
  };
  std::vector<std::int64_t> rows;
  for (std::size_t i = 0; i < sigs.table.size(); ++i) {
    bool keep = true;
    for (const auto& clause : where) {
      bool field_holds = false;  // any clause on this field
      for (const auto& other : where) {
        if (other.field != clause.field) continue;
        if (value(sigs, other.field, 0) != nullptr) {
          field_holds |= *value(sigs, other.field, i) == other.value;
          continue;
        }
        for (std::size_t r = 0; r < compounds.table.size(); ++r)
          field_holds |= compounds.table.ids[r] == field(sigs.table, "pert_id").text[i] &&
                         *value(compounds, other.field, r) == other.value;
      }
      keep &= field_holds;
    }
    rows.push_back(std::int64_t(i));
    if (!keep) rows.pop_back();
  }
  return rows;
}

TEST(SideTable, CompoundFieldsFilterSignaturesByTheirCompound) {
  const SideTable sigs = sig_info(), compounds = compound_info();
  ASSERT_EQ(compounds.table.size(), 7u);
  // No compound clause: every row the signature clauses keep, DMSO (no compound row) included but counted.
  auto filter = filter_signatures(sigs, &compounds, parse_where("is_gold=1"));
  EXPECT_EQ(filter.rows, (std::vector<std::int64_t>{0, 1, 3, 4, 5}));
  EXPECT_EQ(filter.rows_without_compound, 1);
  EXPECT_FALSE(filter.compound_clauses);
  EXPECT_EQ(filter_signatures(sigs, &compounds, {}).rows.size(), 6u);
  // A compound clause: only signatures of kept compounds; DMSO's goes and is counted.
  filter = filter_signatures(sigs, &compounds, parse_where("moa='HDAC inhibitor'"));
  EXPECT_EQ(filter.rows, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(filter.rows_without_compound, 1);
  EXPECT_TRUE(filter.compound_clauses);
  EXPECT_EQ(filter_signatures(sigs, &compounds, parse_where("is_gold=1,moa='EGFR inhibitor'")).rows,
            (std::vector<std::int64_t>{1, 4}));
  // Field by field over the compound's rows: BRD-B has a row with target EGFR and another with this moa.
  EXPECT_EQ(filter_signatures(sigs, &compounds, parse_where("target=EGFR,moa='Tyrosine kinase inhibitor'")).rows,
            (std::vector<std::int64_t>{1, 4}));
  // cmap_name is in both files: the signature table's value decides (BRD-C is 'gamma' only in the compound table).
  EXPECT_EQ(filter_signatures(sigs, &compounds, parse_where("cmap_name='gamma, the third'")).rows,
            (std::vector<std::int64_t>{5}));
  EXPECT_FALSE(filter_signatures(sigs, &compounds, parse_where("cmap_name='gamma, the third'")).compound_clauses);
  // Without a compound table, the signature table alone (the same as filter_rows).
  EXPECT_EQ(filter_signatures(sigs, nullptr, parse_where("is_gold=1,pert_type=trt_cp")).rows,
            filter_rows(sigs, parse_where("is_gold=1,pert_type=trt_cp")));

  // Against the rule written out, on a set of filters mixing both tables.
  for (const char* where :
       {"moa='HDAC inhibitor'", "target=HDAC1,target=EGFR", "target=ERBB2,moa='HDAC inhibitor',moa='EGFR inhibitor'",
        "pert_itime='24 h',target=HDAC2,target=ERBB2", "cell_iname=A375,moa='EGFR inhibitor',moa='HDAC inhibitor'",
        "inchi_key=K-B,is_gold=1", "compound_aliases=-666", "target=-666", "pert_id=BRD-B,target=EGFR",
        "sig_id=S2,sig_id=S4,canonical_smiles=CC"}) {
    const auto clauses = parse_where(where);
    EXPECT_EQ(filter_signatures(sigs, &compounds, clauses).rows, brute_force_filter(sigs, compounds, clauses)) << where;
  }
}

TEST(SideTable, CompoundFilterErrorsNameTheFilesAndTheClauses) {
  const SideTable sigs = sig_info(), compounds = compound_info();
  EXPECT_EQ(message_of([&] { filter_signatures(sigs, &compounds, parse_where("is_gold=1,moas=x")); }),
            "--where names field 'moas', which neither side table 's.txt' (fields: 'sig_id', 'pert_id', "
            "'cmap_name', 'pert_type', 'cell_iname', 'pert_idose', 'pert_itime', 'is_gold') nor compound table "
            "'c.txt' (fields: 'pert_id', 'cmap_name', 'target', 'moa', 'canonical_smiles', 'inchi_key', "
            "'compound_aliases') has; fix the field name or give the right files");
  // A field of both tables filters by the signature table, so its message names that file.
  EXPECT_EQ(message_of([&] { filter_signatures(sigs, &compounds, parse_where("cmap_name=gamma")); }),
            "side table 's.txt': --where keeps none of its 6 rows (cmap_name='gamma' keeps 0 of 6 rows; clauses on "
            "different fields must all hold, values are compared as exact text); loosen the filter or check the "
            "values in the file");
  EXPECT_EQ(message_of([&] {
              filter_signatures(sigs, &compounds, parse_where("moa=nothing,target=HDAC1,target=EGFR,is_gold=1"));
            }),
            "compound table 'c.txt': --where keeps none of its 4 compounds (moa='nothing' keeps 0, target='HDAC1' "
            "keeps 1, target='EGFR' keeps 1 of 4 compounds; a compound is kept when, for each field, one of its "
            "rows holds one of the field's values, values compared as exact text); loosen the filter or check the "
            "values in the file");
  EXPECT_EQ(message_of([&] {
              filter_signatures(sigs, &compounds,
                                parse_where("pert_type=trt_sh,pert_type=ctl_vehicle,moa='HDAC "
                                            "inhibitor'"));
            }),
            "--where keeps no signature of side table 's.txt' and compound table 'c.txt': of the 2 rows its clauses "
            "keep (pert_type='trt_sh' keeps 1, pert_type='ctl_vehicle' keeps 1 of 6 rows), 1 have a pert_id the "
            "compound table lacks and 1 are of compounds other than the 2 that the compound clauses keep "
            "(moa='HDAC inhibitor' keeps 2 of 4 compounds; e.g. 'BRD-A'); loosen the filter, or check that both "
            "files come from the same release");
  EXPECT_EQ(message_of([&] { filter_signatures(sigs, &compounds, parse_where("target=HDAC3")); }),
            "--where keeps no signature of side table 's.txt' and compound table 'c.txt': of its 6 rows (no clause "
            "names a field of it), 1 have a pert_id the compound table lacks and 5 are of compounds other than the 1 "
            "that the compound clauses "
            "keep (target='HDAC3' keeps 1 of 4 compounds; e.g. 'BRD-D'); loosen the filter, or check that both "
            "files come from the same release");
  const SideTable no_pert_id = parse_side_table("sig_id\tcell_iname\nS0\tA375\n", "n.txt", "sig_id");
  EXPECT_EQ(message_of([&] { filter_signatures(no_pert_id, &compounds, {}); }),
            "side table 'n.txt', which --compound-info joins by pert_id: metadata field 'pert_id' is missing "
            "(fields present: cell_iname); add it to the file or name another field in the options");
}

TEST(SideTable, CompoundFieldsJoinEachCompoundsDistinctValues) {
  const SideTable compounds = compound_info();
  const std::vector<std::string> ids{"BRD-B", "DMSO", "BRD-A", "BRD-C"}, fields{"cmap_name", "moa", "target"};
  const MetaTable out = compound_fields(compounds, ids, fields);
  EXPECT_EQ(out.ids, ids);
  EXPECT_EQ(field(out, "cmap_name").text, (std::vector<std::string>{"beta", "-666", "alpha", "gamma"}));
  EXPECT_EQ(field(out, "moa").text,
            (std::vector<std::string>{"EGFR inhibitor|Tyrosine kinase inhibitor", "-666", "HDAC inhibitor", "-666"}));
  EXPECT_EQ(field(out, "target").text, (std::vector<std::string>{"EGFR|ERBB2", "-666", "HDAC1|HDAC2", "-666"}));
  const std::vector<std::string> wrong{"mechanism"};
  EXPECT_EQ(message_of([&] { compound_fields(compounds, ids, wrong); }),
            "compound table 'c.txt': metadata field 'mechanism' is missing (fields present: cmap_name, target, moa, "
            "canonical_smiles, inchi_key, compound_aliases); add it to the file or name another field in the "
            "options");
}

// GCTX column metadata as a beta file has it (ids only), or with a field of its own.
MetaTable gctx_cols(std::vector<std::string> ids) { return MetaTable{std::move(ids), {}}; }

TEST(SideTable, JoinSelectsGctxSignaturesInFileOrderWithTheirMetadata) {
  const SideTable side = sig_info();
  // The GCTX holds S4, S0, S3, S1 (not S2, S5) in its own order.
  const MetaTable cols = gctx_cols({"S4", "S0", "S3", "S1"});
  const auto kept = filter_rows(side, parse_where("is_gold=1,pert_itime='24 h'"));  // S0 S3 S4 S5
  const SignatureSelection selection = join_signatures(cols, "x.gctx", side, kept);
  EXPECT_EQ(selection.indices, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(selection.cols.ids, (std::vector<std::string>{"S4", "S0", "S3"}));
  EXPECT_EQ(selection.side_rows_not_in_gctx, 1);  // S5
  EXPECT_EQ(field(selection.cols, "cell_iname").text, (std::vector<std::string>{"PC3", "A375", "PC3"}));
  EXPECT_EQ(field(selection.cols, "pert_idose").text, (std::vector<std::string>{"1 uM", "10 uM", "-666"}));
  EXPECT_TRUE(field(selection.cols, "pert_idose").is_missing(2));
  EXPECT_EQ(selection.cols.fields.size(), 7u);

  // A field the GCTX carries itself keeps the GCTX's value and type when the two agree (numbers as numbers).
  MetaTable with_own = gctx_cols({"S0", "S1"});
  with_own.fields.push_back(MetaColumn{"is_gold", MetaType::kInt32, {}, {1, 1}});
  with_own.fields.push_back(MetaColumn{"pert_type", MetaType::kString, {"trt_cp", "trt_cp"}, {}});
  const auto agreeing = join_signatures(with_own, "x.gctx", side, filter_rows(side, parse_where("is_gold=1")));
  EXPECT_EQ(agreeing.cols.fields[0].type, MetaType::kInt32);
  EXPECT_EQ(agreeing.cols.fields.size(), 7u);
  with_own.fields[1].text[1] = "trt_sh";
  EXPECT_EQ(message_of([&] { join_signatures(with_own, "x.gctx", side, filter_rows(side, parse_where("is_gold=1"))); }),
            "GCTX file 'x.gctx' and side table 's.txt' disagree on field 'pert_type' of signature 'S1' (trt_sh "
            "against trt_cp); give the siginfo file released with this GCTX");
}

TEST(SideTable, JoinRefusesGctxSignaturesTheTableDoesNotKnow) {
  const SideTable side = sig_info();
  const auto all = filter_rows(side, {});
  EXPECT_EQ(message_of([&] {
              join_signatures(gctx_cols({"S0", "X1", "S1", "X2"}), "x.gctx", side, all);
            }),
            "GCTX file 'x.gctx': 2 of its 4 signatures (e.g. 'X1') have no row in side table 's.txt' (field "
            "'sig_id'); give the siginfo file released with this GCTX");
  EXPECT_EQ(message_of([&] {
              join_signatures(gctx_cols({"S1"}), "x.gctx", side, filter_rows(side, parse_where("cell_iname=PC3")));
            }),
            "side table 's.txt': the 3 rows --where keeps are none of the signatures of GCTX file 'x.gctx'; loosen "
            "--where or give the GCTX file these signatures are in");
}

constexpr const char* kGeneInfo =
    "gene_id\tgene_symbol\tensembl_id\tgene_title\tgene_type\tsrc\tfeature_space\n"
    "10\tAAA\tENSG1\ta\tprotein-coding\tNCBI\tlandmark\n"
    "20\tBBB\tENSG2\tb\tprotein-coding\tNCBI\tinferred\n"
    "30\tCCC\tENSG3\tc\tprotein-coding\tNCBI\tbest inferred\n"
    "40\tDDD\tENSG4\td\tprotein-coding\tNCBI\tlandmark\n"
    "50\tEEE\tENSG5\te\tprotein-coding\tNCBI\tinferred\n";

TEST(SideTable, GenesAreSelectedByFeatureSpaceAndNamedBySymbol) {
  const SideTable genes = parse_side_table(kGeneInfo, "g.txt", "gene_id");
  const MetaTable rows{{"40", "30", "10", "20"}, {}};  // the GCTX's own order; gene 50 is not in it
  const std::vector<std::string> landmark{"landmark"};
  auto selection = select_genes(rows, "x.gctx", genes, landmark);
  EXPECT_EQ(selection.indices, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(selection.rows.ids, (std::vector<std::string>{"40", "10"}));
  EXPECT_EQ(field(selection.rows, "pr_gene_symbol").text, (std::vector<std::string>{"DDD", "AAA"}));
  const std::vector<std::string> two{"landmark", "best inferred"};
  EXPECT_EQ(select_genes(rows, "x.gctx", genes, two).indices, (std::vector<std::int64_t>{0, 1, 2}));
  const std::vector<std::string> all{"all"};
  EXPECT_EQ(field(select_genes(rows, "x.gctx", genes, all).rows, "pr_gene_symbol").text,
            (std::vector<std::string>{"DDD", "CCC", "AAA", "BBB"}));

  const MetaTable unknown{{"40", "99", "98"}, {}};
  EXPECT_EQ(message_of([&] { select_genes(unknown, "x.gctx", genes, landmark); }),
            "GCTX file 'x.gctx': 2 of its 3 genes (e.g. row id '99') have no row in gene table 'g.txt' (field "
            "'gene_id'); give the geneinfo file released with this GCTX");
  const MetaTable inferred_only{{"20", "50"}, {}};
  EXPECT_EQ(message_of([&] { select_genes(inferred_only, "x.gctx", genes, two); }),
            "gene table 'g.txt': --genes 'landmark', 'best inferred' keeps none of the 2 genes of GCTX file 'x.gctx' "
            "(feature_space of those genes: 'inferred': 2); choose one of the values present, or all");
}

// The selected read against the whole file indexed with Eigen, exactly, with batches small enough that ranks
// make different numbers of reads (every rank still makes the same number of collective calls).
TEST(SideTable, SelectedReadEqualsWholeReadIndexed) {
  TempDir dir;
  const fs::path path = dir / "x.gctx";
  constexpr int kGenes = 23, kSignatures = 41;
  if (world().is_root()) {
    GeneMatrix m;
    m.values.resize(kGenes, kSignatures);
    for (int s = 0; s < kSignatures; ++s)
      for (int g = 0; g < kGenes; ++g) m.values(g, s) = float(1000 * s + g) + 0.25f;
    for (int g = 0; g < kGenes; ++g) m.rows.ids.push_back(std::to_string(100 + g));
    for (int s = 0; s < kSignatures; ++s) m.cols.ids.push_back(detail::concat("S", s));
    write_gctx(path, m, {0, 1});  // 1 KB chunks: the selection crosses many chunks
  }
  world().barrier();
  const GeneMatrix whole = read_gctx<float>(path, world());
  const std::vector<std::int64_t> signatures{0, 1, 2, 5, 7, 8, 9, 10, 11, 20, 21, 33, 39, 40};
  const std::vector<std::int64_t> genes{0, 3, 4, 5, 9, 10, 17, 22};
  const GctxReader reader(path, world());
  for (const std::int64_t batch_bytes : {std::int64_t(16) << 20, std::int64_t(2 * 8 * 4), std::int64_t(1)}) {
    const auto range = engine::block_range(std::int64_t(signatures.size()), world().size(), world().rank());
    const auto mine =
        std::span<const std::int64_t>(signatures).subspan(std::size_t(range.begin), std::size_t(range.size()));
    const Eigen::MatrixXf got = reader.read_selection<float>(mine, genes, batch_bytes);
    const std::vector<std::int64_t> mine_copy(mine.begin(), mine.end());
    const Eigen::MatrixXf expected = whole.values(genes, mine_copy);
    ASSERT_EQ(got.rows(), expected.rows());
    ASSERT_EQ(got.cols(), expected.cols());
    EXPECT_TRUE((got.array() == expected.array()).all()) << "batch_bytes " << batch_bytes;
    const Eigen::MatrixXd as_double = reader.read_selection<double>(mine, genes, batch_bytes);
    EXPECT_TRUE((as_double.array() == expected.cast<double>().array()).all());
  }
  // Every signature and gene: the plain block read.
  std::vector<std::int64_t> all_signatures(kSignatures), all_genes(kGenes);
  for (int s = 0; s < kSignatures; ++s) all_signatures[std::size_t(s)] = s;
  for (int g = 0; g < kGenes; ++g) all_genes[std::size_t(g)] = g;
  const auto range = engine::block_range(kSignatures, world().size(), world().rank());
  const Eigen::MatrixXf block = reader.read_selection<float>(
      std::span<const std::int64_t>(all_signatures).subspan(std::size_t(range.begin), std::size_t(range.size())),
      all_genes);
  EXPECT_TRUE((block.array() == reader.read_signatures<float>(range.begin, range.end).array()).all());

  // A bad selection on one rank fails every rank, the others with a pointer to it.
  const std::vector<std::int64_t> unsorted{3, 2};
  const std::vector<std::int64_t> none;
  const std::string message = message_of(
      [&] { reader.read_selection<float>(world().is_root() ? std::span<const std::int64_t>(unsorted) : none, genes); });
  if (world().is_root())
    EXPECT_EQ(message, detail::concat("GCTX file '", path.string(),
                                      "', /0/DATA/0/matrix: cannot read the selection: signature indices must "
                                      "increase strictly, but position 1 holds 2 after 3; select within the file"));
  else
    EXPECT_EQ(message, detail::concat("GCTX file '", path.string(),
                                      "', /0/DATA/0/matrix: another rank asked for a selection outside the file"));
}

}  // namespace
}  // namespace tessera::io
