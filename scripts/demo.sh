#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing, builds, and imputes the built-in
# simulated CMap-like screen over 2 MPI ranks, printing the results table. Extra arguments go to `tessera impute`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
source scripts/mpi_env.sh
mpirun -np 2 build/jobs/tessera impute --out tessera-impute "$@"
