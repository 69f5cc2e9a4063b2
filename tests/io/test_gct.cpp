// GCT reading and writing: the real L1000 plates (expected values taken from the text files with awk and
// Python, not from this reader), round trips, metadata typing and one test per malformed-input error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/gct.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::io::GctVersion;
using tessera::io::MetaColumn;
using tessera::io::MetaTable;
using tessera::io::MetaType;
using tessera::io::read_gct;
using tessera::io::write_gct;
using Lines = std::vector<std::string>;

namespace {

using tessera::testing::data_dir;
using tessera::testing::error_of;
using tessera::testing::expect_mentions;
using tessera::testing::expect_same_meta;

const char* const kLevel2 = "LJP009_A375_24H_X1_B20_GEX_n384x978.gct";
const char* const kLevel3 = "LJP009_A375_24H_X1_B20_QNORM_n371x978.gct";
const char* const kLevel4 = "LJP009_A375_24H_X1_B20_ZSPCQNORM_n371x978.gct";

fs::path plate(const char* name) { return data_dir() / "l1000" / name; }

const MetaColumn& field(const MetaTable& table, const char* name) { return table.require(name, "test"); }

// Bit-identical values (so NaN matches NaN and -0 differs from +0).
template <typename Matrix>
void expect_same_bits(const Matrix& a, const Matrix& b) {
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.cols(), b.cols());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(typename Matrix::Scalar) * std::size_t(a.size())), 0);
}

class GctTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tessera_test_gct_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_text(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // A small valid 1.3 file, one entry per line, to be broken by the error tests.
  // Lines: 1 version, 2 dimensions, 3 header, 4-5 column metadata, 6-8 data.
  static Lines small_lines() {
    return {"#1.3",
            "3\t2\t1\t2",
            "id\tsymbol\tS1\tS2",
            "pert\t-666\tA\tB",
            "dose\t-666\t1\t-666",
            "g1\tAAA\t1.5\t2",
            "g2\tBBB\t-3\tNaN",
            "g3\t-666\t0.25\t1e-3"};
  }
  static std::string join(const Lines& lines) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    return text;
  }
  fs::path dir_;
};

// The cases that read the real L1000 plates (tests/CMakeLists.txt runs *RealData suites as test_gct_real_data).
using GctRealData = GctTest;

TEST_F(GctRealData, ReadsLevel2Plate) {
  const fs::path path = plate(kLevel2);
  TESSERA_REQUIRE_REAL_DATA(path);
  const auto gct = read_gct<float>(path);
  ASSERT_EQ(gct.num_genes(), 978);
  ASSERT_EQ(gct.num_signatures(), 384);
  EXPECT_EQ(gct.rows.ids.front(), "200814_at");
  EXPECT_EQ(gct.rows.ids[1], "218597_s_at");
  EXPECT_EQ(gct.rows.ids.back(), "203897_at");
  EXPECT_EQ(gct.cols.ids.front(), "LJP009_A375_24H_X1_B20:A01");
  EXPECT_EQ(gct.cols.ids[42], "LJP009_A375_24H_X1_B20:B19");
  EXPECT_EQ(gct.cols.ids.back(), "LJP009_A375_24H_X1_B20:P24");

  ASSERT_EQ(gct.rows.fields.size(), 8u);
  const std::vector<std::string> row_names = {"pr_analyte_id", "pr_analyte_num", "pr_bset_id",     "pr_lua_id",
                                              "pr_pool_id",    "pr_gene_id",     "pr_gene_symbol", "pr_gene_title"};
  for (std::size_t f = 0; f < row_names.size(); ++f) EXPECT_EQ(gct.rows.fields[f].name, row_names[f]);
  const auto& symbol = field(gct.rows, "pr_gene_symbol");
  EXPECT_EQ(symbol.type, MetaType::kString);
  EXPECT_EQ(symbol.text[0], "PSME1");
  EXPECT_EQ(symbol.text[1], "CISD1");
  EXPECT_EQ(symbol.text[300], "KIAA0907");
  EXPECT_EQ(symbol.text[977], "LYRM1");
  EXPECT_EQ(field(gct.rows, "pr_gene_title").text[0],
            "proteasome (prosome, macropain) activator subunit 1 (PA28 alpha)");
  const auto& gene_id = field(gct.rows, "pr_gene_id");
  EXPECT_EQ(gene_id.type, MetaType::kInt64);
  EXPECT_EQ(gene_id.numbers[0], 5720);
  EXPECT_EQ(gene_id.numbers[1], 55847);
  EXPECT_EQ(field(gct.rows, "pr_analyte_num").type, MetaType::kInt64);
  EXPECT_EQ(field(gct.rows, "pr_analyte_id").text[977], "Analyte 500");

  ASSERT_EQ(gct.cols.fields.size(), 30u);
  EXPECT_EQ(gct.cols.fields.front().name, "bead_batch");
  EXPECT_EQ(gct.cols.fields.back().name, "count_cv");
  EXPECT_EQ(field(gct.cols, "pert_id").text[0], "CMAP-001");
  EXPECT_EQ(field(gct.cols, "pert_id").text[383], "BRD-K02113016");
  EXPECT_EQ(field(gct.cols, "pert_iname").text[383], "olaparib");
  EXPECT_EQ(field(gct.cols, "pert_type").text[383], "trt_cp");
  const auto& idose = field(gct.cols, "pert_idose");  // text with a missing value: stays text
  EXPECT_EQ(idose.type, MetaType::kString);
  EXPECT_EQ(idose.text[0], "-666");
  EXPECT_EQ(idose.text[383], "0.04 um");
  const auto& dose = field(gct.cols, "pert_dose");  // numbers with missing values
  EXPECT_EQ(dose.type, MetaType::kFloat64);
  EXPECT_TRUE(std::isnan(dose.numbers[0]));
  EXPECT_EQ(dose.numbers[383], 0.04);
  EXPECT_EQ(field(gct.cols, "x_mfc_dose_mm").numbers[383], 0.0411523);
  const auto& count = field(gct.cols, "count_mean");
  EXPECT_EQ(count.type, MetaType::kInt64);
  EXPECT_EQ(count.numbers[0], 90);
  EXPECT_EQ(count.numbers[383], 80);
  EXPECT_EQ(field(gct.cols, "pert_time").type, MetaType::kInt64);
  const auto& plate_id = field(gct.cols, "mfc_plate_id");  // all -666: float NaN, as pandas makes it
  EXPECT_EQ(plate_id.type, MetaType::kFloat64);
  EXPECT_TRUE(std::isnan(plate_id.numbers[0]));

  EXPECT_EQ(gct.values(0, 0), 86.0f);
  EXPECT_EQ(gct.values(0, 383), 2233.0f);
  EXPECT_EQ(gct.values(977, 0), 87.0f);
  EXPECT_EQ(gct.values(977, 383), 302.0f);
  EXPECT_EQ(gct.values(500, 200), 321.0f);
  EXPECT_EQ(gct.values(300, 42), 1161.0f);
  EXPECT_EQ(gct.values(977, 100), 262.0f);
  EXPECT_EQ(gct.values.minCoeff(), 28.0f);
  EXPECT_EQ(gct.values.maxCoeff(), 12090.0f);
  // Integers: the double sum is exact (Python math.fsum of all 375,552 cells).
  EXPECT_EQ(read_gct<double>(path).values.sum(), 388458223.0);
}

TEST_F(GctRealData, ReadsLevel3And4Plates) {
  const fs::path level3 = plate(kLevel3), level4 = plate(kLevel4);
  TESSERA_REQUIRE_REAL_DATA(level3);
  TESSERA_REQUIRE_REAL_DATA(level4);
  const auto qnorm = read_gct<float>(level3);
  ASSERT_EQ(qnorm.num_genes(), 978);
  ASSERT_EQ(qnorm.num_signatures(), 371);
  EXPECT_EQ(qnorm.cols.ids.front(), "LJP009_A375_24H_X1_B20:A03");
  EXPECT_EQ(qnorm.cols.ids.back(), "LJP009_A375_24H_X1_B20:P24");
  // 34 column fields in the file; the "id" field repeats the column ids and is dropped.
  ASSERT_EQ(qnorm.cols.fields.size(), 33u);
  EXPECT_EQ(qnorm.cols.find("id"), nullptr);
  EXPECT_EQ(field(qnorm.cols, "qc_slope").type, MetaType::kInt64);
  EXPECT_EQ(field(qnorm.cols, "qc_iqr").type, MetaType::kFloat64);
  EXPECT_EQ(field(qnorm.cols, "qc_iqr").numbers[0], 13.09);
  EXPECT_EQ(field(qnorm.cols, "qc_f_logp").numbers[370], 6.3);
  EXPECT_EQ(field(qnorm.cols, "pert_mfc_desc").text[0], "VORINOSTAT ");  // trailing space kept
  EXPECT_EQ(qnorm.values(0, 0), 11.0060f);
  EXPECT_EQ(qnorm.values(0, 370), 10.1917f);
  EXPECT_EQ(qnorm.values(977, 100), 5.5547f);

  const auto zs = read_gct<double>(level4);
  ASSERT_EQ(zs.num_genes(), 978);
  ASSERT_EQ(zs.num_signatures(), 371);
  EXPECT_EQ(zs.rows.ids[300], "202220_at");
  EXPECT_EQ(zs.cols.ids[42], "LJP009_A375_24H_X1_B20:C01");
  EXPECT_EQ(zs.values(0, 0), 1.0190);
  EXPECT_EQ(zs.values(0, 370), -0.4917);
  EXPECT_EQ(zs.values(977, 370), -1.5075);
  EXPECT_EQ(zs.values(500, 200), -0.2995);
  EXPECT_EQ(zs.values(300, 42), -0.8894);
  EXPECT_EQ(zs.values.minCoeff(), -40.4111);
  EXPECT_EQ(zs.values.maxCoeff(), 43.6733);
  // Python math.fsum of the same cells: 5526.3326; 362,838 roundings stay far below 1e-6.
  EXPECT_NEAR(zs.values.sum(), 5526.3326, 1e-6);
}

TEST_F(GctRealData, ReadingTheLevel2PlateIsFast) {
  const fs::path path = plate(kLevel2);
  TESSERA_REQUIRE_REAL_DATA(path);
  double best = 1e9;
  for (int repeat = 0; repeat < 5; ++repeat) {
    const auto start = std::chrono::steady_clock::now();
    const auto gct = read_gct<float>(path);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ASSERT_EQ(gct.num_genes(), 978);
  }
  std::cout << "read_gct<float>(" << kLevel2 << "): best of 5 = " << best * 1e3 << " ms\n";
  RecordProperty("read_seconds", std::to_string(best));
  EXPECT_LT(best, 5.0);  // generous: only catches a pathological slowdown on a loaded machine
}

TEST_F(GctRealData, RealPlatesRoundTripThroughVersion13) {
  for (const char* name : {kLevel2, kLevel4}) {
    const fs::path path = plate(name);
    TESSERA_REQUIRE_REAL_DATA(path);
    const auto original = read_gct<float>(path);
    const fs::path copy = dir_ / "copy.gct";
    write_gct(copy, original);
    const auto again = read_gct<float>(copy);
    expect_same_meta(original.rows, again.rows);
    expect_same_meta(original.cols, again.cols);
    expect_same_bits(original.values, again.values);

    const auto wide = read_gct<double>(path);
    write_gct(copy, wide);
    expect_same_bits(wide.values, read_gct<double>(copy).values);
  }
}

TEST_F(GctRealData, RealPlateRoundTripsThroughVersion12) {
  const fs::path path = plate(kLevel3);
  TESSERA_REQUIRE_REAL_DATA(path);
  const auto original = read_gct<float>(path);
  const fs::path copy = dir_ / "copy12.gct";
  write_gct(copy, original, GctVersion::k1_2);
  std::ifstream in(copy);
  std::string first, header;
  std::getline(in, first);
  std::getline(in, first);
  std::getline(in, header);
  EXPECT_EQ(first, "978\t371");
  EXPECT_TRUE(header.starts_with("Name\tDescription\tLJP009_A375_24H_X1_B20:A03\t")) << header.substr(0, 80);

  const auto again = read_gct<float>(copy);
  EXPECT_EQ(again.rows.ids, original.rows.ids);
  EXPECT_EQ(again.cols.ids, original.cols.ids);
  EXPECT_TRUE(again.cols.fields.empty());
  ASSERT_EQ(again.rows.fields.size(), 1u);
  EXPECT_EQ(again.rows.fields[0].name, "Description");
  EXPECT_EQ(again.rows.fields[0].text, field(original.rows, "pr_analyte_id").text);
  expect_same_bits(original.values, again.values);
}

TEST_F(GctTest, SyntheticValuesRoundTripBitExactly) {
  tessera::io::GeneMatrix matrix;
  matrix.values.resize(2, 4);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  matrix.values << 0.1f, -0.0f, 1e-45f, std::numeric_limits<float>::max(),  //
      nan, 3.4028e30f, -1.17549435e-38f, std::numeric_limits<float>::infinity();
  matrix.rows.ids = {"gA", "gB"};
  matrix.cols.ids = {"s1", "s2", "s3", "s4"};
  matrix.rows.fields.push_back({"count", MetaType::kInt64, {}, {7, std::nan("")}});
  matrix.cols.fields.push_back({"dose", MetaType::kFloat64, {}, {0.1, std::nan(""), 2.5, 1e-7}});
  matrix.cols.fields.push_back({"name", MetaType::kString, {"a b", "-666", "x,y", "z"}, {}});
  const fs::path path = dir_ / "synthetic.gct";
  write_gct(path, matrix);
  const auto again = read_gct<float>(path);
  expect_same_meta(matrix.rows, again.rows);
  expect_same_meta(matrix.cols, again.cols);
  expect_same_bits(matrix.values, again.values);

  tessera::io::GeneMatrixD wide;
  wide.values.resize(1, 3);
  wide.values << 0.1, 1.0 / 3.0, 5e-324;
  wide.rows.ids = {"g"};
  wide.cols.ids = {"a", "b", "c"};
  write_gct(path, wide, GctVersion::k1_2);
  const auto wide_again = read_gct<double>(path);
  expect_same_bits(wide.values, wide_again.values);
  EXPECT_EQ(wide_again.rows.fields[0].text, std::vector<std::string>{"g"});  // Description = the id
}

TEST_F(GctTest, TypesMetadataFieldsAndMissingValues) {
  const fs::path path = write_text("types.gct",
                                   "#1.3\r\n"  // CRLF line ends are accepted
                                   "4\t1\t4\t0\r\n"
                                   "id\tints\tmixed\ttext\tnothing\tS\r\n"
                                   "a\t1\t1\tx\t-666\tNaN\r\n"
                                   "b\t-666\t2.5\t-666\t-666\tnan\r\n"
                                   "c\t-3\t1e3\t3\t\tNA\r\n"
                                   "d\t40\t-666.0\ty\tNaN\t\r\n\r\n\r\n");  // blank trailing lines ignored
  const auto gct = read_gct<double>(path);
  const auto& ints = field(gct.rows, "ints");
  EXPECT_EQ(ints.type, MetaType::kInt64);
  EXPECT_EQ(ints.numbers[0], 1);
  EXPECT_TRUE(std::isnan(ints.numbers[1]));
  EXPECT_EQ(ints.numbers[2], -3);
  const auto& mixed = field(gct.rows, "mixed");
  EXPECT_EQ(mixed.type, MetaType::kFloat64);
  EXPECT_EQ(mixed.numbers[2], 1000.0);
  EXPECT_TRUE(std::isnan(mixed.numbers[3]));
  const auto& text = field(gct.rows, "text");
  EXPECT_EQ(text.type, MetaType::kString);
  EXPECT_EQ(text.text, (std::vector<std::string>{"x", "-666", "3", "y"}));
  EXPECT_EQ(field(gct.rows, "nothing").type, MetaType::kFloat64);
  for (int r = 0; r < 4; ++r) EXPECT_TRUE(std::isnan(gct.values(r, 0))) << r;
}

TEST_F(GctTest, ReadsVersion12) {
  const fs::path path = write_text("v12.gct",
                                   "#1.2\n2\t3\nName\tDescription\tA\tB\tC\n"
                                   "g1\tfirst gene\t1\t2\t3\ng2\tsecond\t-4.5\t5e-1\t6\n");
  const auto gct = read_gct<float>(path);
  EXPECT_EQ(gct.rows.ids, (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ(gct.cols.ids, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(field(gct.rows, "Description").text[1], "second");
  EXPECT_EQ(gct.values(1, 0), -4.5f);
  EXPECT_EQ(gct.values(1, 1), 0.5f);
}

TEST_F(GctTest, MissingFileIsAnError) {
  const std::string message = error_of([&] { read_gct<float>(dir_ / "absent.gct"); });
  expect_mentions(message, {"absent.gct", "cannot open", "No such file"});
}

TEST_F(GctTest, EmptyFileIsAnError) {
  const fs::path path = write_text("empty.gct", "\n\n");
  expect_mentions(error_of([&] { read_gct<float>(path); }), {"empty.gct", "is empty"});
}

// Each malformed input names the file, the line (and column where there is one) and the problem.
TEST_F(GctTest, EachMalformedInputGivesItsError) {
  struct Broken {
    std::string file;
    std::function<void(Lines&)> edit;
    std::vector<std::string> mentions;
  };
  const std::vector<Broken> cases = {
      {"version.gct", [](Lines& l) { l[0] = "#1.4"; }, {"line 1", "'#1.4'", "#1.2"}},
      {"dims.gct", [](Lines& l) { l[1] = "3\t2\t1"; }, {"line 2", "found 3 values, expected 4"}},
      {"dimtext.gct", [](Lines& l) { l[1] = "3\ttwo\t1\t2"; }, {"line 2", "column 2", "'two'"}},
      {"header.gct", [](Lines& l) { l[2] = "id\tsymbol\tS1"; }, {"line 3", "header", "has 3", "expected 4"}},
      {"colmeta.gct", [](Lines& l) { l[4] += "\t7"; }, {"line 5", "column metadata", "has 5", "expected 4"}},
      {"short.gct", [](Lines& l) { l[6] = "g2\tBBB\t-3"; }, {"line 7", "has 3 tab-separated cells", "expected 4"}},
      {"long.gct", [](Lines& l) { l[5] += "\t9"; }, {"line 6", "has 5 tab-separated cells", "expected 4"}},
      {"text.gct",
       [](Lines& l) { l[6] = "g2\tBBB\t-3\t1.2.3"; },
       {"line 7", "column 4", "'1.2.3'", "row 'g2'", "column 'S2'"}},
      {"range.gct", [](Lines& l) { l[5] = "g1\tAAA\t1e39\t2"; }, {"line 6", "column 3", "'1e39'", "float"}},
      {"duprow.gct", [](Lines& l) { l[7] = "g1\tCCC\t1\t2"; }, {"line 8", "row id 'g1'", "line 6"}},
      {"dupcol.gct",
       [](Lines& l) { l[2] = "id\tsymbol\tS1\tS1"; },
       {"line 3", "column 4", "column id 'S1'", "column 3"}},
      {"truncated.gct", [](Lines& l) { l.pop_back(); }, {"line 7", "truncated", "3 data rows"}},
      {"extra.gct", [](Lines& l) { l.push_back("g4\tDDD\t1\t2"); }, {"line 9", "more lines than the 3 data rows"}},
      {"idfield.gct", [](Lines& l) { l[3] = "id\t-666\tS1\tX"; }, {"line 4", "'X'", "'S2'"}},
      // A blank line inside the data block is reported at its own line, not as "more lines" at the end.
      {"blank.gct", [](Lines& l) { l.insert(l.begin() + 6, ""); }, {"line 7 is blank", "remove the line"}},
      {"blankmeta.gct", [](Lines& l) { l.insert(l.begin() + 4, ""); }, {"line 5 is blank"}},
      // A NUL byte, in a value or in metadata, at read time and at its line and column.
      {"nulvalue.gct",
       [](Lines& l) { l[6] = std::string("g2\tBBB\t-3\tN\0aN", 14); },
       {"line 7", "column 4", "NUL byte", "damaged"}},
      {"nulmeta.gct",
       [](Lines& l) { l[3] = std::string("pert\t-666\tA\0\tB", 14); },
       {"line 4", "column 3", "NUL byte"}},
      {"zerorows.gct",
       [](Lines& l) {
         l = {"#1.3", "0\t2\t1\t0", "id\tsymbol\tS1\tS2"};
       },
       {"line 2", "0 rows (genes) x 2 columns", "nothing to read"}},
      {"zerobyzero.gct",
       [](Lines& l) {
         l = {"#1.2", "0\t0", "Name\tDescription"};
       },
       {"line 2", "0 rows (genes) x 0 columns", "nothing to read"}},
  };
  for (const auto& broken : cases) {
    SCOPED_TRACE(broken.file);
    auto lines = small_lines();
    broken.edit(lines);
    const fs::path path = write_text(broken.file, join(lines));
    const std::string message = error_of([&] { read_gct<float>(path); });
    expect_mentions(message, {broken.file});
    expect_mentions(message, broken.mentions);
  }
}

TEST_F(GctTest, WritingRejectsMismatchedShapesAndTabs) {
  tessera::io::GeneMatrix matrix;
  matrix.values.setZero(2, 1);
  matrix.rows.ids = {"g1"};
  matrix.cols.ids = {"s"};
  expect_mentions(error_of([&] { write_gct(dir_ / "bad.gct", matrix); }), {"bad.gct", "1 row ids for 2"});
  matrix.rows.ids = {"g1", "g\t2"};
  expect_mentions(error_of([&] { write_gct(dir_ / "bad.gct", matrix); }), {"bad.gct", "tab"});
  EXPECT_FALSE(fs::exists(dir_ / "bad.gct"));
}

// The real Level 5 file stores pert_idose in Latin-1 ("10 \xb5M"): metadata reads as UTF-8 ("10 µM"), the
// values are untouched, and a file that is UTF-8 already keeps its bytes.
TEST_F(GctTest, Latin1MetadataIsReadAsUtf8) {
  auto lines = small_lines();
  lines[3] = "pert_idose\t-666\t10 \xb5M\t1 \xb5M";
  lines[5] = "g1\tA\xe9\t1.5\t2";
  const auto gct = read_gct<float>(write_text("latin1.gct", join(lines)));
  EXPECT_EQ(field(gct.cols, "pert_idose").text, (std::vector<std::string>{"10 \xc2\xb5M", "1 \xc2\xb5M"}));
  EXPECT_EQ(field(gct.rows, "symbol").text[0], "A\xc3\xa9");
  EXPECT_EQ(gct.values(0, 0), 1.5f);
  lines[3] = "pert_idose\t-666\t10 \xc2\xb5M\t1 uM";
  lines[5] = "g1\tAAA\t1.5\t2";
  const auto utf8 = read_gct<float>(write_text("utf8.gct", join(lines)));
  EXPECT_EQ(field(utf8.cols, "pert_idose").text, (std::vector<std::string>{"10 \xc2\xb5M", "1 uM"}));
}

}  // namespace
