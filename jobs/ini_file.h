// The INI files Tessera reads besides --config (sweep files, tuning grids): "[section]" headers and
// "key = value" lines; '#' or ';' at the start of a line or after a blank starts a comment. One reader, so both
// files accept and refuse the same things, each error naming the file and the line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tessera::jobs {

struct IniEntry {
  std::string section;  // the enclosing [section]
  std::string key;
  std::string value;  // trimmed, comment dropped
  int line = 0;
};

// "<what> '<path>' line <n>: ": the start of an error about one line of the file.
std::string ini_where(const std::string& what, const std::filesystem::path& path, int line);

// Every entry in file order. `what` names the kind of file in errors ("sweep file"); `sections` are the allowed
// section names (empty: any); `open_hint` ends the message for a file that cannot be opened. tessera::Error for an
// unreadable file, a malformed header or line, an unknown section, a key before any section, an empty key, or a
// key given twice in one section.
std::vector<IniEntry> read_ini_entries(const std::filesystem::path& path, const std::string& what,
                                       const std::vector<std::string>& sections, const std::string& open_hint);

}  // namespace tessera::jobs
