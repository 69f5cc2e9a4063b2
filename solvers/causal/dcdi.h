// DCDI's data layout (Brouillard et al., NeurIPS 2020; the files of github.com/slachapelle/dcdi), data set i in
// one folder:
//   data_interv{i}.npy   samples x variables
//   intervention{i}.csv  one line per sample: the 0-based indices of the variables intervened on, comma
//                        separated; an empty line is an observational sample
//   regime{i}.csv        one line per sample: its regime (setting), 0 = observational. Optional: without it,
//                        samples with the same intervention list form one setting
//   DAG{i}.npy           the true adjacency matrix, A(i, j) = 1 for i -> j (simulated sets; optional)
// Variables are named X0..X{p-1}; settings are named by their regime; each setting's known targets are its
// intervention list, which must be the same on every line of the regime.
#pragma once

#include <filesystem>
#include <optional>

#include "solvers/causal/dag.h"
#include "solvers/causal/data.h"

namespace tessera::solvers::causal {

// Throws tessera::Error naming the file and line of any problem (missing file, a row count that differs between
// files, an index out of range, a regime whose lines disagree on the targets, a regime 0 with targets).
InterventionalData read_dcdi(const std::filesystem::path& folder, int index = 1);

// DAG{i}.npy when present.
std::optional<Dag> read_dcdi_dag(const std::filesystem::path& folder, int index = 1);

// Writes the four files (DAG{i}.npy only with a truth), each through a temporary name.
void write_dcdi(const std::filesystem::path& folder, int index, const InterventionalData& data,
                const Dag* truth = nullptr);

}  // namespace tessera::solvers::causal
