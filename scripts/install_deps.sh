#!/usr/bin/env bash
# Installs the Debian 12 packages Tessera needs, and only those that are missing.
# Idempotent: a second run installs nothing. Needs root (or sudo) when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  openmpi-bin libopenmpi-dev          # MPI runtime and headers
  libhdf5-openmpi-dev hdf5-tools      # parallel HDF5 (MPI-IO driver) for GCTX and checkpoints
  zlib1g-dev                          # decoding gzip chunks to check them before HDF5 reads them
  libeigen3-dev                       # dense linear algebra
  libopenblas-dev                     # BLAS/LAPACK back end
  libscalapack-openmpi-dev            # distributed dense algebra (NTK exact solver)
  libboost-program-options-dev        # command line and INI config files
  libgtest-dev googletest             # unit and MPI tests
  libtorch-dev                        # LibTorch (CPU) for the autoencoder (TESSERA_TORCH=AUTO builds it when found)
  python3-anndata                     # tests/io: .h5ad fixtures written and read back by anndata itself (the
                                      # scverse tools' own reader), run with /usr/bin/python3
  python3-dev pybind11-dev python3-pybind11   # the Python package (python/: TESSERA_PYTHON=AUTO builds it when found)
  python3-numpy python3-pandas python3-networkx python3-mpi4py python3-h5py   # what it returns and takes; mpi4py
                                      # for `mpirun -np N python3 script.py` with mpi4py's communicator
  python3-pytest                      # tests/python (run by ctest)
  python3-matplotlib                  # examples/: the imputation example's plot of the method table
  slurm-wlm munge                     # tests/slurm: a private one-node Slurm (started by the test, not systemd)
  clang-format-14                     # scripts/format.sh --check (CI): the style of .clang-format
  clang libclang-rt-14-dev llvm       # checking build (test.sh --sanitize, fuzz.sh): ASan/UBSan, libFuzzer,
                                      # llvm-symbolizer for readable stacks (libclang-rt is only a Recommends)
  nlohmann-json3-dev                  # `tessera report`: the data and chart specs embedded in the page
  graphviz                            # `tessera report`: the learned DAG drawn by dot as SVG
  chromium                            # tests/jobs: reports opened in headless Chromium (no console error, plots drawn)
)
# Node.js and npm fetch the report's plotting libraries (below). Only when npm is missing: a machine may have its
# own Node.js (e.g. NodeSource's, which bundles npm and conflicts with Debian's npm package).
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages already installed"
else
  echo "install_deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Vega and Vega-Lite, at the versions of jobs/report/web/package-lock.json, from the npm registry (Debian has
# Vega but no Vega-Lite). The build embeds their minified bundles in `tessera`, so reports open offline.
web="$(dirname "$0")/../jobs/report/web"
if [ -f "$web/node_modules/vega/build/vega.min.js" ] && [ -f "$web/node_modules/vega-lite/build/vega-lite.min.js" ]; then
  echo "install_deps: Vega and Vega-Lite already in jobs/report/web/node_modules"
else
  echo "install_deps: npm ci in jobs/report/web (Vega, Vega-Lite)"
  npm ci --prefix "$web" --no-audit --no-fund --loglevel=error
fi
