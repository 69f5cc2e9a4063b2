#!/usr/bin/env bash
# The GPU check (issue 13): everything a GPU machine must run, prepared here and run there in one call.
#
#   bash scripts/gpu_check.sh prepare   # on a build machine (CUDA toolkit, no GPU needed): builds the GPU tests and
#                                       # benchmark with -DTESSERA_CUDA=ON into ./build-gpu and packs them, with the
#                                       # shared libraries they need (Open MPI's plugins included), into
#                                       # ./.gpu/pack.tar.xz
#   bash scripts/gpu_check.sh run       # on the GPU machine, from the repository root with ./.gpu beside it: unpacks,
#                                       # runs the GPU tests and the benchmark, and prints one table
#
# The GPU machine has the CUDA 13 runtime, cuBLAS, cuSOLVER and NCCL (through PyTorch's nvidia-* packages) but no
# MPI, HDF5 or OpenBLAS, and nothing can be installed there; the pack carries those (22 MB compressed, 96 MB
# unpacked: OpenBLAS alone is 36 MB) and leaves the CUDA libraries to the machine, whose copies match its driver.
# Through the device tool:
#   run(command="bash scripts/gpu_check.sh run", carry=[".gpu"], timeout_s=480)
# The table goes to stdout and to $OUT/gpu_check.txt when OUT is set. The LibTorch autoencoder on CUDA is not in
# the pack yet (it needs a CUDA LibTorch, which only the GPU machine's PyTorch has).
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.gpu/pack.tar.xz
build=build-gpu
stage=$build/pack

prepare() {
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTESSERA_CUDA=ON -DTESSERA_TORCH=OFF -DTESSERA_PYTHON=OFF \
        -DTESSERA_BUILD_TESTS=ON
  cmake --build "$build" -j"$jobs" --target test_device_communicator test_ntk_device ntk_exact_bench
  rm -rf "$stage"
  mkdir -p "$stage/bin" "$stage/lib" "$stage/openmpi"
  cp "$build/tests/engine/test_device_communicator" "$build/tests/solvers/test_ntk_device" \
     "$build/bench/ntk_exact_bench" "$stage/bin/"
  # Open MPI finds its plugins and help texts under OPAL_PREFIX, in the layout of its install prefix (/usr).
  local ompi_lib=/usr/lib/x86_64-linux-gnu/openmpi
  mkdir -p "$stage/openmpi/lib/x86_64-linux-gnu" "$stage/openmpi/share"
  cp -a "$ompi_lib" "$stage/openmpi/lib/x86_64-linux-gnu/"
  cp -a /usr/share/openmpi "$stage/openmpi/share/"
  rm -rf "$stage/openmpi/lib/x86_64-linux-gnu/openmpi/include"
  # Every shared library the programs and the plugins load, but the C runtime's and CUDA's. The C++ runtime goes
  # apart (lib-cxx): run uses it only where the machine's own is older than the one built against.
  local skip='/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas|libcublasLt|libcusolver|libcusparse|libnvJitLink|libnccl)\.so'
  { ldd "$stage"/bin/*; find "$stage/openmpi" -name '*.so*' -exec ldd {} \; ; } 2>/dev/null |
    awk '/=> \// {print $3}' | sort -u | grep -v -E "$skip" | while read -r lib; do cp -L "$lib" "$stage/lib/"; done
  mkdir -p "$stage/lib-cxx"
  cp -L "$(ldd "$stage/bin/ntk_exact_bench" | awk '/libstdc\+\+/ {print $3}')" \
        "$(ldd "$stage/bin/ntk_exact_bench" | awk '/libgcc_s/ {print $3}')" "$stage/lib-cxx/"
  mkdir -p "$(dirname "$pack")"
  tar -C "$stage" -cJf "$pack" bin lib lib-cxx openmpi
  du -sh "$stage" "$pack"
}

# The folders holding the machine's CUDA libraries: the toolkit's, then PyTorch's nvidia-* packages (NCCL).
cuda_library_path() {
  local dirs=()
  for dir in /usr/local/cuda/lib64 /usr/local/cuda/lib; do [ -d "$dir" ] && dirs+=("$dir"); done
  local site
  site=$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null || true)
  for root in $site; do
    for dir in "$root"/nvidia/*/lib "$root"/nvidia/cu13/lib; do [ -d "$dir" ] && dirs+=("$dir"); done
  done
  local IFS=:
  echo "${dirs[*]}"
}

run() {
  [ -f "$pack" ] || { echo "gpu_check: no $pack; run 'bash scripts/gpu_check.sh prepare' first" >&2; exit 2; }
  local root=${TMPDIR:-/tmp}/tessera-gpu-check
  rm -rf "$root"
  mkdir -p "$root"
  tar -C "$root" -xJf "$pack"
  export LD_LIBRARY_PATH="$root/lib:$(cuda_library_path)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # The machine's C++ runtime unless it lacks the newest symbol version of the one packed (GCC 12's).
  local system_cxx
  system_cxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !seen {print $NF; seen = 1}' || true)
  if [ -z "$system_cxx" ] || ! grep -qa GLIBCXX_3.4.30 "$system_cxx"; then
    LD_LIBRARY_PATH="$root/lib-cxx:$LD_LIBRARY_PATH"
  fi
  export OPAL_PREFIX="$root/openmpi"
  # One process per test, no mpirun: an isolated singleton needs no daemon, shared memory only.
  export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_mtl=^ofi OMPI_MCA_plm=isolated
  local out=${OUT:-/tmp}/gpu_check.txt
  {
    echo "== gpu_check $(date -u +%FT%TZ) on $(hostname)"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
    echo "== GPU tests (1 rank)"
    "$root/bin/test_device_communicator" --gtest_brief=1 2>&1 || echo "test_device_communicator FAILED"
    "$root/bin/test_ntk_device" --gtest_brief=1 2>&1 || echo "test_ntk_device FAILED"
    echo "== NTK exact on the GPU against the CPU (N = 20,000), then N = 50,000 on the GPU alone"
    "$root/bin/ntk_exact_bench" --device=cuda --n=20000 --check 2>&1 || echo "ntk_exact_bench N=20000 FAILED"
    "$root/bin/ntk_exact_bench" --device=cuda --n=50000 2>&1 || echo "ntk_exact_bench N=50000 FAILED"
    echo "== NTK matrix-free with its kernel products on the GPU: seconds per PCG iteration (16 genes)"
    for n in 100000 500000; do
      "$root/bin/ntk_exact_bench" --device=cuda --n=$n --genes=16 --matrix-free=3 2>&1 ||
        echo "ntk_exact_bench --matrix-free N=$n FAILED"
    done
  } | tee "$out"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bash scripts/gpu_check.sh prepare|run" >&2; exit 64 ;;
esac
