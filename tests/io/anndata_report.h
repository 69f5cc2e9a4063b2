// What python3-anndata sees in an .h5ad file Tessera wrote, as a check script reports it (tests/io/h5ad_check.py
// for the dense writer, h5ad_csr_check.py for a sparse X; run with Debian's /usr/bin/python3): for the tests of
// io/h5ad_writer.h and of the simulator's single-cell screens. Local: call it on one rank.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/run_command.h"

namespace tessera::testing {

inline constexpr const char* kAnndataPython = "/usr/bin/python3";

// "" when /usr/bin/python3 imports anndata and h5py, else why not (the caller skips with it).
inline std::string why_no_anndata() {
  if (!std::filesystem::exists(kAnndataPython))
    return "no /usr/bin/python3 (Debian's python3 with python3-anndata is needed to read the files back)";
  const auto result = run_command(std::string(kAnndataPython) + " -c 'import anndata, h5py'", 60);
  if (result.exit_code != 0)
    return "/usr/bin/python3 cannot import anndata and h5py (install python3-anndata): " + result.output;
  return "";
}

// The report's lines by key ("<key>", or "<key>:<column>" for the per-column lines), each split on tabs without
// the key (and column).
struct AnndataSeen {
  std::map<std::string, std::vector<std::vector<std::string>>> lines;
  std::string report;
  const std::vector<std::string>& one(const std::string& key) const {
    static const std::vector<std::string> none;
    const auto it = lines.find(key);
    EXPECT_TRUE(it != lines.end() && it->second.size() == 1) << key << " in\n" << report;
    return it == lines.end() ? none : it->second.front();
  }
};

// Runs the check script `script` on `path` and reads its report.
inline AnndataSeen read_with_anndata(const std::string& script, const std::filesystem::path& path) {
  const std::string out = path.string() + ".seen.txt";
  const auto result = run_command(
      std::string(kAnndataPython) + " " + quote(script) + " " + quote(path.string()) + " " + quote(out), 300);
  AnndataSeen seen;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::ifstream in(out);
  std::string text;
  while (std::getline(in, text)) {
    seen.report += text + "\n";
    std::vector<std::string> fields;
    std::stringstream split(text);
    for (std::string field; std::getline(split, field, '\t');) fields.push_back(field);
    if (fields.empty()) continue;
    std::string key = fields.front();
    fields.erase(fields.begin());
    const bool per_column = key.ends_with("_column") || key.ends_with("_categories") || key.ends_with("_values");
    if (per_column && !fields.empty()) {
      key += ":" + fields.front();
      fields.erase(fields.begin());
    }
    seen.lines[key].push_back(fields);
  }
  return seen;
}

}  // namespace tessera::testing
