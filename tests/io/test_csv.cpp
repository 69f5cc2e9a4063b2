// CSV reading and writing: quoting, escaped quotes, CRLF, blank trailing lines, ragged rows, round trips.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/csv.h"
#include "tests/support/test_helpers.h"

namespace fs = std::filesystem;
using tessera::io::CsvTable;
using tessera::io::read_csv;
using tessera::io::to_csv_text;
using tessera::io::write_csv;
using tessera::testing::file_text;
using Cells = std::vector<std::string>;

namespace {

using tessera::testing::error_of;
using tessera::testing::expect_mentions;

class CsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tessera_test_csv_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_text(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  fs::path dir_;
};

TEST_F(CsvTest, ReadsPlainTable) {
  const auto table = read_csv(write_text("plain.csv", "fold,cell,pert\n0,A375,BRD-1\n1,PC3,BRD-2"));
  EXPECT_EQ(table.header, (Cells{"fold", "cell", "pert"}));
  ASSERT_EQ(table.rows.size(), 2u);  // the last line has no newline and still counts
  EXPECT_EQ(table.rows[0], (Cells{"0", "A375", "BRD-1"}));
  EXPECT_EQ(table.rows[1], (Cells{"1", "PC3", "BRD-2"}));
  EXPECT_EQ(table.line_numbers, (std::vector<int>{2, 3}));
}

TEST_F(CsvTest, ReadsQuotedCellsWithCommasQuotesAndNewlines) {
  const auto table = read_csv(write_text("quoted.csv",
                                         "name,desc\n"
                                         "\"a,b\",\"say \"\"hi\"\"\"\n"
                                         "\"two\nlines\",\"\"\n"
                                         "plain,x\n"));
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[0], (Cells{"a,b", "say \"hi\""}));
  EXPECT_EQ(table.rows[1], (Cells{"two\nlines", ""}));
  EXPECT_EQ(table.rows[2], (Cells{"plain", "x"}));
  EXPECT_EQ(table.line_numbers, (std::vector<int>{2, 3, 5}));  // the quoted line break moves later rows down
}

TEST_F(CsvTest, ToleratesCrlfEmptyCellsAndBlankTrailingLines) {
  const auto table = read_csv(write_text("crlf.csv", "a,b,c\r\n1,,3\r\n,\"q\",\r\n\r\n\r\n"));
  EXPECT_EQ(table.header, (Cells{"a", "b", "c"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0], (Cells{"1", "", "3"}));
  EXPECT_EQ(table.rows[1], (Cells{"", "q", ""}));
}

TEST_F(CsvTest, RaggedRowIsAnErrorNamingFileAndLine) {
  const fs::path path = write_text("ragged.csv", "a,b\n1,2\n3\n4,5\n");
  expect_mentions(error_of([&] { read_csv(path); }), {"ragged.csv", "line 3", "1 cells", "header has 2"});
  const fs::path wide = write_text("wide.csv", "a,b\r\n1,2\r\n3,4,5\r\n");
  expect_mentions(error_of([&] { read_csv(wide); }), {"wide.csv", "line 3", "3 cells"});
  const fs::path gap = write_text("gap.csv", "a,b\n1,2\n\n3,4\n");
  expect_mentions(error_of([&] { read_csv(gap); }), {"gap.csv", "line 3", "empty line"});
}

TEST_F(CsvTest, MalformedQuotesAreErrors) {
  const fs::path open = write_text("open.csv", "a,b\n1,\"never closed\n2,3\n");
  expect_mentions(error_of([&] { read_csv(open); }), {"open.csv", "line 2", "never closed"});
  const fs::path after = write_text("after.csv", "a,b\n1,\"x\"y\n");
  expect_mentions(error_of([&] { read_csv(after); }), {"after.csv", "line 2", "after the closing quote"});
}

TEST_F(CsvTest, MissingAndEmptyFilesAreErrors) {
  expect_mentions(error_of([&] { read_csv(dir_ / "absent.csv"); }), {"absent.csv", "cannot open"});
  const fs::path empty = write_text("empty.csv", "\n\n");
  expect_mentions(error_of([&] { read_csv(empty); }), {"empty.csv", "empty"});
}

TEST_F(CsvTest, ColumnLookupNamesFileAndHeader) {
  const auto table = read_csv(write_text("cols.csv", "fold,cell\n0,A375\n"));
  EXPECT_EQ(table.column("cell", "cols.csv"), 1u);
  expect_mentions(error_of([&] { table.column("pert", "folds.csv"); }), {"folds.csv", "'pert'", "'fold', 'cell'"});
}

TEST_F(CsvTest, WriterQuotesOnlyWhatNeedsIt) {
  CsvTable table;
  table.header = {"id", "note"};
  table.rows = {{"plain", "a,b"}, {"q\"uote", "line\nbreak"}, {"", "x"}};
  EXPECT_EQ(to_csv_text(table), "id,note\nplain,\"a,b\"\n\"q\"\"uote\",\"line\nbreak\"\n,x\n");
  const fs::path path = dir_ / "out" / "written.csv";  // the folder is created
  write_csv(path, table);
  EXPECT_EQ(file_text(path), to_csv_text(table));
}

TEST_F(CsvTest, RoundTripKeepsEveryCell) {
  CsvTable table;
  table.header = {"a", "b,c", "\"d\""};
  table.rows = {{"1", "", "x\r\ny"}, {" spaced ", "\"", ",,"}, {"", "", ""}};
  const fs::path path = dir_ / "round.csv";
  write_csv(path, table);
  const auto again = read_csv(path);
  EXPECT_EQ(again.header, table.header);
  EXPECT_EQ(again.rows, table.rows);
  EXPECT_EQ(again.line_numbers, (std::vector<int>{2, 4, 5}));
}

TEST_F(CsvTest, SingleColumnEmptyCellSurvivesRoundTrip) {
  // An unquoted empty cell would be an empty last line, which the reader drops as a blank trailing line.
  CsvTable table;
  table.header = {"only"};
  table.rows = {{"x"}, {""}};
  EXPECT_EQ(to_csv_text(table), "only\nx\n\"\"\n");
  const fs::path path = dir_ / "single.csv";
  write_csv(path, table);
  EXPECT_EQ(read_csv(path).rows, table.rows);
}

TEST_F(CsvTest, WriterRejectsRaggedTable) {
  CsvTable table;
  table.header = {"a", "b"};
  table.rows = {{"1"}};
  expect_mentions(error_of([&] { write_csv(dir_ / "bad.csv", table); }), {"row 0", "1 cells", "header has 2"});
  EXPECT_FALSE(fs::exists(dir_ / "bad.csv"));
}

// A NUL byte would cut an id short wherever it later meets a C string (HDF5, printf): refused at its line.
TEST_F(CsvTest, NulByteIsAnErrorAtItsLine) {
  const auto path = write_text("nul.csv", std::string("cell,pert\nA375,BRD-1\nPC3,BR\0D\n", 30));
  expect_mentions(error_of([&] { read_csv(path); }), {"nul.csv", "line 3", "NUL byte", "damaged"});
}

TEST_F(CsvTest, RepeatedColumnNameIsAnError) {
  const auto path = write_text("dup.csv", "x,y,x\n1,2,3\n");
  expect_mentions(error_of([&] { read_csv(path); }),
                  {"dup.csv", "line 1", "column 3", "'x'", "column 1", "must be unique"});
}

// Latin-1 metadata (the LINCS Level 5 dose "10 \xb5M") reads as UTF-8, as the user types it.
TEST_F(CsvTest, Latin1CellsAreReadAsUtf8) {
  const auto table = read_csv(write_text("latin1.csv", "cell,pert_idose\nA375,10 \xb5M\n"));
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0][1], "10 \xc2\xb5M");
  // Text that is UTF-8 already is kept byte for byte.
  EXPECT_EQ(read_csv(write_text("utf8.csv", "d\n10 \xc2\xb5M\n")).rows[0][0], "10 \xc2\xb5M");
}

}  // namespace
