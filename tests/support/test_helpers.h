// Helpers shared by Tessera's tests: where the real data live, the message of an expected error, and
// comparisons of metadata tables.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/meta_table.h"

namespace tessera::testing {

// $TESSERA_DATA_DIR (CTest sets it from the CMake cache), else ../shared/data beside the repository.
inline std::filesystem::path data_dir() {
  if (const char* env = std::getenv("TESSERA_DATA_DIR"); env != nullptr && *env != '\0') return env;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "shared" / "data";
}

// The first statement of a real-data case: skips it, with the path and the fix, when the file is missing. Real-data
// cases live in GoogleTest suites named *RealData, which tests/CMakeLists.txt runs as their own ctest entry
// (<test>_real_data), so ctest reports them Skipped on a machine without the data.
#define TESSERA_REQUIRE_REAL_DATA(path)                               \
  if (!std::filesystem::exists(path))                                 \
  GTEST_SKIP() << "real data not found at " << (path)                 \
               << "; set TESSERA_DATA_DIR to the shared data folder " \
                  "(../shared/data beside the repository) to run this test"

// A fresh, empty folder <tmp>/<prefix>_<pid>/<name> for one test's files.
inline std::filesystem::path scratch_dir(const std::string& prefix, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The file's bytes; "" when it cannot be opened.
inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// True when a "<name>.tmp-<...>" temporary (io/atomic_file.h) is left anywhere under dir.
inline bool has_temporary_files(const std::filesystem::path& dir) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
  return false;
}

// The message of the tessera::Error that `call` throws; a test failure when it throws nothing.
template <typename Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a tessera::Error";
  return "";
}

// error_of without the " [file:line]" that TESSERA_CHECK appends: the text the user reads.
template <typename Call>
std::string message_of(Call&& call) {
  const std::string message = error_of(std::forward<Call>(call));
  return message.substr(0, message.rfind(" ["));
}

// The message (as message_of) of the tessera::Error that `check` throws; "" when it throws nothing, which is no
// failure here: for checks that may accept.
inline std::string refusal_of(const std::function<void()>& check) {
  try {
    check();
  } catch (const Error& error) {
    const std::string what = error.what();
    return what.substr(0, what.rfind(" ["));
  }
  return "";
}

// Every part appears in the message.
inline void expect_mentions(const std::string& message, const std::vector<std::string>& parts) {
  for (const auto& part : parts)
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' missing from: " << message;
}

// Same ids, field names, types and values, numbers compared bit for bit (so NaN equals NaN).
inline void expect_same_meta(const io::MetaTable& a, const io::MetaTable& b) {
  EXPECT_EQ(a.ids, b.ids);
  ASSERT_EQ(a.fields.size(), b.fields.size());
  for (std::size_t f = 0; f < a.fields.size(); ++f) {
    const auto& x = a.fields[f];
    const auto& y = b.fields[f];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type) << x.name;
    EXPECT_EQ(x.text, y.text) << x.name;
    ASSERT_EQ(x.numbers.size(), y.numbers.size()) << x.name;
    for (std::size_t i = 0; i < x.numbers.size(); ++i)
      EXPECT_EQ(std::memcmp(&x.numbers[i], &y.numbers[i], sizeof(double)), 0) << x.name << "[" << i << "]";
  }
}

// A tab-separated file with a header line as header -> column, read without Tessera's own reader (for checking
// what Tessera writes); a row with another number of fields than the header is a test failure.
inline std::map<std::string, std::vector<std::string>> read_tsv_columns(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream head(line);
  for (std::string field; std::getline(head, field, '\t');) header.push_back(field);
  std::map<std::string, std::vector<std::string>> columns;
  for (const auto& name : header) columns[name];
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      fields.push_back(line.substr(start, tab - start));
    fields.push_back(line.substr(start));
    EXPECT_EQ(fields.size(), header.size()) << path << ": " << line;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) columns[header[i]].push_back(fields[i]);
  }
  return columns;
}

}  // namespace tessera::testing
