#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, MPI at 1/2/3 ranks, end to end).
# Real-data tests read ../shared/data (or $TESSERA_DATA_DIR) and skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh -DTESSERA_BUILD_TESTS=ON
source scripts/mpi_env.sh
cd build
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@"
