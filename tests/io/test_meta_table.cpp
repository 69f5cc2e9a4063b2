// MetaTable / MetaColumn: CMap's missing-value rules, text forms of typed values, field lookup, subsets and
// replacing fields.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/error.h"
#include "io/meta_table.h"

namespace tessera::io {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

MetaColumn text_column(std::string name, std::vector<std::string> values) {
  return MetaColumn{std::move(name), MetaType::kString, std::move(values), {}};
}

MetaColumn number_column(std::string name, MetaType type, std::vector<double> values) {
  return MetaColumn{std::move(name), type, {}, std::move(values)};
}

MetaTable sample_table() {
  MetaTable table;
  table.ids = {"s0", "s1", "s2", "s3"};
  table.fields = {text_column("cell_id", {"A549", "MCF7", "-666", "PC3"}),
                  number_column("dose", MetaType::kFloat64, {0.5, kNaN, 10, 1.0 / 3}),
                  number_column("replicate", MetaType::kInt32, {1, 2, kNaN, -4})};
  return table;
}

TEST(MetaColumn, MissingValues) {
  const MetaColumn text = text_column("f", {"", "-666", "-666.0", "x", "-6660", " ", "-666.00"});
  EXPECT_TRUE(text.is_missing(0));
  EXPECT_TRUE(text.is_missing(1));
  EXPECT_TRUE(text.is_missing(2));
  EXPECT_FALSE(text.is_missing(3));
  EXPECT_FALSE(text.is_missing(4));
  EXPECT_FALSE(text.is_missing(5));  // a space is a value
  EXPECT_FALSE(text.is_missing(6));  // only the two spellings CMap writes
  const MetaColumn numbers = number_column("g", MetaType::kFloat64, {kNaN, -666, 0});
  EXPECT_TRUE(numbers.is_missing(0));
  EXPECT_FALSE(numbers.is_missing(1));  // -666 became NaN on reading; a stored -666 number is a value here
  EXPECT_FALSE(numbers.is_missing(2));
  EXPECT_EQ(numbers.size(), 3u);
  EXPECT_EQ(text.size(), 7u);
}

TEST(MetaColumn, AsStringKeepsTypes) {
  EXPECT_EQ(text_column("f", {"10 µM"}).as_string(0), "10 µM");
  const MetaColumn ints = number_column("i", MetaType::kInt64, {-3, 1099511627776.0, kNaN, 0});
  EXPECT_EQ(ints.as_string(0), "-3");
  EXPECT_EQ(ints.as_string(1), "1099511627776");
  EXPECT_EQ(ints.as_string(2), "-666");
  EXPECT_EQ(ints.as_string(3), "0");
  EXPECT_EQ(number_column("i", MetaType::kInt32, {7}).as_string(0), "7");
  // Unsigned 64-bit ids past int64 (fuzz_gctx_fields found the cast's undefined behaviour): the double's digits.
  const MetaColumn huge = number_column("i", MetaType::kInt64, {18446744073709551615.0, -0x1p64, 0x1p63 - 1024});
  EXPECT_EQ(huge.as_string(0), "18446744073709551616");
  EXPECT_EQ(huge.as_string(1), "-18446744073709551616");
  EXPECT_EQ(huge.as_string(2), "9223372036854774784");
  // Shortest text that reads back to the same value of the field's own type.
  EXPECT_EQ(number_column("f", MetaType::kFloat32, {double(0.1f)}).as_string(0), "0.1");
  EXPECT_EQ(number_column("f", MetaType::kFloat64, {double(0.1f)}).as_string(0), "0.10000000149011612");
  EXPECT_EQ(number_column("d", MetaType::kFloat64, {1.0 / 3}).as_string(0), "0.3333333333333333");
  EXPECT_EQ(number_column("d", MetaType::kFloat64, {2.0}).as_string(0), "2");
  EXPECT_EQ(number_column("d", MetaType::kFloat64, {kNaN}).as_string(0), "-666");
}

TEST(MetaColumn, AsNumbersReadsNumericTextAndRefusesTheRest) {
  const MetaColumn numbers = number_column("fold", MetaType::kInt32, {0, 3, kNaN});
  const auto same = numbers.as_numbers("f.h5ad");
  EXPECT_EQ(same.size(), 3u);
  EXPECT_EQ(same[1], 3);
  EXPECT_TRUE(std::isnan(same[2]));
  // A categorical of Tessera's .h5ad tables: "0" / "1" text; missing text is NaN.
  const auto parsed = text_column("imputed", {"1", "0", "", "-2.5"}).as_numbers("f.h5ad");
  EXPECT_EQ(parsed[0], 1);
  EXPECT_EQ(parsed[1], 0);
  EXPECT_TRUE(std::isnan(parsed[2]));
  EXPECT_EQ(parsed[3], -2.5);
  try {
    text_column("imputed", {"1", "yes"}).as_numbers("f.h5ad");
    ADD_FAILURE() << "a non-number was read";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const char* part : {"f.h5ad", "'imputed'", "'yes'", "row 1", "not a number"})
      EXPECT_NE(message.find(part), std::string::npos) << part << " in " << message;
  }
}

TEST(MetaTable, FindAndRequire) {
  const MetaTable table = sample_table();
  ASSERT_NE(table.find("dose"), nullptr);
  EXPECT_EQ(table.find("dose")->numbers[0], 0.5);
  EXPECT_EQ(table.find("pert_id"), nullptr);
  EXPECT_EQ(&table.require("cell_id", "x.gctx"), &table.fields[0]);
  try {
    table.require("pert_id", "/data/x.gctx");
    ADD_FAILURE() << "require of a missing field did not throw";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const char* part : {"/data/x.gctx", "'pert_id'", "cell_id, dose, replicate"})
      EXPECT_NE(message.find(part), std::string::npos) << message;
  }
  EXPECT_THROW(MetaTable{}.require("id", "empty.gctx"), Error);
}

TEST(MetaTable, SubsetKeepsOrderTypesAndRepeats) {
  const MetaTable table = sample_table();
  const std::vector<std::int64_t> picks = {3, 0, 3};
  const MetaTable sub = table.subset(picks);
  EXPECT_EQ(sub.ids, (std::vector<std::string>{"s3", "s0", "s3"}));
  ASSERT_EQ(sub.fields.size(), 3u);
  EXPECT_EQ(sub.fields[0].type, MetaType::kString);
  EXPECT_EQ(sub.fields[0].text, (std::vector<std::string>{"PC3", "A549", "PC3"}));
  EXPECT_EQ(sub.fields[1].type, MetaType::kFloat64);
  EXPECT_EQ(sub.fields[1].numbers, (std::vector<double>{1.0 / 3, 0.5, 1.0 / 3}));
  EXPECT_EQ(sub.fields[2].type, MetaType::kInt32);
  EXPECT_EQ(sub.fields[2].numbers, (std::vector<double>{-4, 1, -4}));
  EXPECT_TRUE(sub.fields[2].text.empty());
  const MetaTable none = table.subset({});
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.fields.size(), 3u);  // fields kept, with no rows
  EXPECT_TRUE(std::isnan(table.subset(std::vector<std::int64_t>{1}).fields[1].numbers[0]));
}

TEST(MetaTable, SetTextAddsOrReplaces) {
  MetaTable table = sample_table();
  table.set_text("pert_id", {"a", "b", "c", "d"});
  ASSERT_EQ(table.fields.size(), 4u);
  EXPECT_EQ(table.fields.back().name, "pert_id");
  EXPECT_EQ(table.require("pert_id", "t").text[2], "c");
  // Replacing a numeric field makes it a string field in place.
  table.set_text("dose", {"1", "2", "3", "4"});
  ASSERT_EQ(table.fields.size(), 4u);
  EXPECT_EQ(table.fields[1].name, "dose");
  EXPECT_EQ(table.fields[1].type, MetaType::kString);
  EXPECT_TRUE(table.fields[1].numbers.empty());
  EXPECT_EQ(table.fields[1].as_string(3), "4");
  try {
    table.set_text("cell_id", {"too", "few"});
    ADD_FAILURE() << "set_text with the wrong length did not throw";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'cell_id' has 2 values for 4 ids"), std::string::npos) << message;
  }
  EXPECT_EQ(table.require("cell_id", "t").text[0], "A549");  // unchanged after the failed call
}

}  // namespace
}  // namespace tessera::io
