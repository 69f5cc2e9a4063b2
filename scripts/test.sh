#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, MPI at 1/2/3 ranks, end to end).
# Real-data tests read ../shared/data (or $TESSERA_DATA_DIR) and skip with a message when it is absent.
#
#   bash scripts/test.sh                 # the normal build (./build), every test
#   bash scripts/test.sh --sanitize      # the checking build (./build-sanitize: clang, AddressSanitizer and
#                                        # UndefinedBehaviorSanitizer, the libFuzzer targets of tests/fuzz), then
#                                        # the tests labelled `sanitize` (unit tests, MPI tests at 1 rank, bad input)
#   bash scripts/test.sh [--sanitize] --build-only   # build, run nothing (scripts/fuzz.sh uses it)
# Other arguments go to ctest, e.g. `bash scripts/test.sh -R test_gctx`.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
build_only=0
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --build-only) build_only=1 ;;
    *) ctest_args+=("$arg") ;;
  esac
done
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install_deps.sh
if [ "$sanitize" -eq 0 ]; then
  build=build
  bash scripts/build.sh -DTESSERA_BUILD_TESTS=ON
  labels=()
else
  # One build serves both checks: the libraries carry the sanitizers and libFuzzer's coverage, so the sanitized
  # tests and the fuzz targets compile the project once. Without LibTorch (its autoencoder is the slowest part
  # to compile, and `train` is covered by the normal build); only the labelled tests and their binaries.
  build=build-sanitize
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=ON -DTESSERA_TORCH=OFF \
        -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTESSERA_FUZZ=ON -DTESSERA_SANITIZE=address,undefined
  cmake --build "$build" -j"$jobs" --target sanitize_tests fuzz_targets
  labels=(-L sanitize)
fi
[ "$build_only" -eq 0 ] || exit 0

source scripts/mpi_env.sh
cd "$build"
ctest --output-on-failure -j"$jobs" "${labels[@]}" "${ctest_args[@]}"
