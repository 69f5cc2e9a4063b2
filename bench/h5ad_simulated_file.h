// A simulated single-cell screen as an AnnData (.h5ad) file with a CSR X, for the h5ad benches
// (h5ad_read_bench, pseudobulk_bench), written with the HDF5 C API in the layout anndata 0.8 writes.
//
// Contents (deterministic: the same options give the same file):
// - X: counts 1..9 as float32 at `density` of the cells x genes (each entry present independently), int32
//   indices, int64 indptr, in chunks of 2^18 values;
// - obs: ids cell0..; categoricals `perturbation` (100 values: "control", P1..P99; cell i has value i % 100) and
//   `cell_type` (10 values type0..type9; cell i has type (i / 100) % 10), so every (cell type, perturbation)
//   pair holds cells / 1000 cells (+-1) once there are 1000 cells or more;
// - var: ids gene0.. only.
// Written cell block by cell block (at most 2^20 values held), so simulating a file far larger than memory is
// bounded too; it goes to path + ".tmp" and is renamed at the end, so an interrupted run leaves no half file.
#pragma once

#include <cstdint>
#include <filesystem>

namespace tessera::bench {

struct SimulatedH5ad {
  std::int64_t cells = 20000;
  std::int64_t genes = 2000;
  double density = 0.1;
};

inline constexpr int kSimulatedPerturbations = 100;  // "control" + P1..P99
inline constexpr int kSimulatedCellTypes = 10;       // type0..type9

// Writes the file (throws tessera::Error when HDF5 cannot create or write it).
void write_simulated_h5ad(const SimulatedH5ad& options, const std::filesystem::path& path);

}  // namespace tessera::bench
