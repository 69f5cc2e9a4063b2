// Fills the sbatch templates of slurm/ (sweep.sbatch, collect.sbatch) for one planned sweep. Placeholders:
//   @ARRAY@      the --array list with its %K limit, e.g. 0-11%4
//   @SWEEP_DIR@  the sweep folder, absolute
//   @TESSERA@    the tessera binary, absolute (the one running `plan`)
//   @JOB_NAME@   tessera-sweep-<folder name>
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace tessera::jobs::sweep {

// The folder holding sweep.sbatch and collect.sbatch: $TESSERA_SLURM_DIR, else the source tree's slurm/.
std::filesystem::path default_template_dir();

// Reads `template_path`, replaces every @KEY@ of `values`, and checks that no @...@ placeholder is left.
std::string fill_template(const std::filesystem::path& template_path, const std::map<std::string, std::string>& values);

// The absolute path of the running executable (/proc/self/exe).
std::filesystem::path this_executable();

}  // namespace tessera::jobs::sweep
