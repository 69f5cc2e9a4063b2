// read_causal_csv: a good file, and each bad input with the error that names the problem.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/error.h"
#include "solvers/causal/data.h"

namespace tessera::solvers::causal {
namespace {

namespace fs = std::filesystem;

fs::path write(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / ("tessera_causal_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path;
}

const char* kGood =
    "a,b,c,grp\n"
    "1,2,3,1\n"
    "2,1,5,1\n"
    "3,5,4,2\n"
    "4,3,1,2\n"
    "5,4,2,6\n"
    "6,7,9,6\n";

TEST(ReadCausalCsv, ReadsSettingsAndTargets) {
  CausalCsvOptions opt;
  opt.observational = {"1"};
  const auto data = read_causal_csv(write("good.csv", kGood), "grp", "2:a;c, 6:b", opt);
  EXPECT_EQ(data.variables, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(data.setting, (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(data.setting_names, (std::vector<std::string>{"observational", "2", "6"}));
  EXPECT_EQ(data.known_targets, (std::vector<std::vector<int>>{{}, {0, 2}, {1}}));
  EXPECT_EQ(data.samples(4, 2), 2.0);
  opt.keep_settings = {"1", "6"};
  const auto kept = read_causal_csv(write("good.csv", kGood), "grp", "", opt);
  EXPECT_EQ(kept.samples.rows(), 4);
  EXPECT_EQ(kept.num_settings(), 2);
}

void expect_error(const std::string& text, const std::string& targets, const std::string& needle,
                  CausalCsvOptions opt = {}) {
  if (opt.observational.size() == 3) opt.observational = {"1"};
  try {
    read_causal_csv(write("bad.csv", text), "grp", targets, opt);
    ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ReadCausalCsv, BadInputsNameTheProblem) {
  expect_error("a,b,c,grp\n1,2,3,1\n2,x,5,1\n3,5,4,2\n", "", "line 3 column 'b'");
  expect_error("a,b,c,grp\n1,2,7,1\n2,1,7,1\n3,5,7,2\n4,3,7,2\n", "", "column 'c' is constant");
  expect_error("a,b,c,grp\n1,2,1,1\n2,1,2,1\n3,5,3,2\n4,3,4,2\n", "", "columns 'a' and 'c' are identical");
  // A repeated column name is refused by the CSV reader itself (io/csv.cpp), with both columns.
  expect_error("a,b,a,grp\n1,2,3,1\n2,1,5,1\n3,5,4,2\n4,3,1,2\n", "", "column 3 is named 'a' like column 1");
  expect_error("a,b,c,d,e,grp\n1,2,3,4,5,1\n2,1,5,3,4,1\n", "", "2 rows but 5 variables");
  expect_error(kGood, "7:a", "setting '7', which has no rows");
  expect_error(kGood, "2:zz", "targets of setting '2' name unknown variable 'zz'");
  expect_error(kGood, "2a", "not 'setting:var1;var2'");
  CausalCsvOptions keep;
  keep.observational = {"1"};
  keep.keep_settings = {"1", "2", "9"};
  expect_error(kGood, "", "setting '9' has no rows", keep);
  CausalCsvOptions no_obs;
  no_obs.observational = {"0"};
  expect_error(kGood, "",
               "no row is observational: no value of column 'grp' is one of 0; name the observational "
               "values with --observational (the values here: 1, 2, 6)",
               no_obs);
  EXPECT_THROW(read_causal_csv(write("good.csv", kGood), "group", ""), Error);  // no such setting column
}

}  // namespace
}  // namespace tessera::solvers::causal
