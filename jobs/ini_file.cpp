#include "jobs/ini_file.h"

#include <algorithm>
#include <fstream>

#include "engine/error.h"
#include "jobs/command_line.h"

namespace tessera::jobs {

namespace {

// Drops a trailing comment (" #..." or " ;..."), so "folds = 3, 5   # small" works.
std::string strip_comment(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i)
    if ((text[i] == '#' || text[i] == ';') && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t'))
      return text.substr(0, i);
  return text;
}

std::string bracketed_list(const std::vector<std::string>& sections) {
  std::string list;
  for (std::size_t i = 0; i < sections.size(); ++i)
    list += (i == 0 ? "" : i + 1 == sections.size() ? " and " : ", ") + ("[" + sections[i] + "]");
  return list;
}

}  // namespace

std::string ini_where(const std::string& what, const std::filesystem::path& path, int line) {
  return what + " '" + path.string() + "' line " + std::to_string(line) + ": ";
}

std::vector<IniEntry> read_ini_entries(const std::filesystem::path& path, const std::string& what,
                                       const std::vector<std::string>& sections, const std::string& open_hint) {
  std::ifstream in(path);
  TESSERA_CHECK(in, what, " '", path.string(), "' cannot be opened: ", open_hint);
  std::vector<IniEntry> entries;
  std::string line, section;
  int number = 0;
  const auto where = [&] { return ini_where(what, path, number); };
  while (std::getline(in, line)) {
    ++number;
    const std::string text = trim(strip_comment(line));
    if (text.empty()) continue;
    if (text.front() == '[') {
      TESSERA_CHECK(text.back() == ']', where(), "'", text, "' is not a section header such as [",
                    sections.empty() ? "name" : sections.front(), "]");
      section = trim(text.substr(1, text.size() - 2));
      TESSERA_CHECK(sections.empty() || std::find(sections.begin(), sections.end(), section) != sections.end(), where(),
                    "unknown section [", section, "]; the sections are ", bracketed_list(sections));
      continue;
    }
    const auto equals = text.find('=');
    TESSERA_CHECK(equals != std::string::npos, where(), "'", text, "' is not 'key = value'");
    IniEntry entry{section, trim(text.substr(0, equals)), trim(text.substr(equals + 1)), number};
    TESSERA_CHECK(!section.empty(), where(), "'", entry.key, "' stands before any section; put it under ",
                  sections.empty() ? "a [section]" : bracketed_list(sections));
    TESSERA_CHECK(!entry.key.empty(), where(), "empty key");
    TESSERA_CHECK(std::none_of(entries.begin(), entries.end(),
                               [&](const IniEntry& e) { return e.section == section && e.key == entry.key; }),
                  where(), "'", entry.key, "' is given twice in [", section, "]");
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace tessera::jobs
