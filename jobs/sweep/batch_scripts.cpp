#include "jobs/sweep/batch_scripts.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/error.h"

#ifndef TESSERA_SLURM_DIR
#define TESSERA_SLURM_DIR "slurm"
#endif

namespace tessera::jobs::sweep {

namespace fs = std::filesystem;

fs::path default_template_dir() {
  if (const char* env = std::getenv("TESSERA_SLURM_DIR"); env && *env) return env;
  return TESSERA_SLURM_DIR;
}

std::string fill_template(const fs::path& template_path, const std::map<std::string, std::string>& values) {
  std::ifstream in(template_path);
  TESSERA_CHECK(in, "sbatch template '", template_path.string(),
                "' cannot be opened: give --template-dir or set TESSERA_SLURM_DIR to Tessera's slurm/ folder");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  for (const auto& [key, value] : values) {
    const std::string placeholder = "@" + key + "@";
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
      text.replace(at, placeholder.size(), value);
  }
  // A placeholder we do not know is a template newer than this binary: better to stop than submit it.
  for (auto at = text.find('@'); at != std::string::npos; at = text.find('@', at + 1)) {
    const auto end = text.find('@', at + 1);
    if (end == std::string::npos) break;
    const std::string name = text.substr(at + 1, end - at - 1);
    const bool placeholder =
        !name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string::npos;
    TESSERA_CHECK(!placeholder, "sbatch template '", template_path.string(), "' has an unknown placeholder @", name,
                  "@; this tessera fills only ARRAY, SWEEP_DIR, TESSERA and JOB_NAME");
  }
  return text;
}

fs::path this_executable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  TESSERA_CHECK(!ec, "cannot find the tessera binary through /proc/self/exe: ", ec.message());
  return self;
}

}  // namespace tessera::jobs::sweep
