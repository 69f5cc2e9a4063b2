// Runtime options of the sanitizer build (-DTESSERA_SANITIZE=...), compiled into every executable of the project.
//
// They live in the binaries rather than in ASAN_OPTIONS because the tests run `tessera` in a cleared environment
// (tests/support/run_command.h), where a variable set by CI would not reach it. A variable that is set still wins
// (the runtimes read these defaults first, then the environment), e.g. ASAN_OPTIONS=detect_leaks=1 to look for
// leaks by hand.
//
// - detect_leaks=0: Open MPI, HDF5 and LibTorch keep allocations alive past exit on purpose; LeakSanitizer would
//   fail every run on them. Handles of our own are RAII (io/hdf5_handles.h), and a handle left open shows up as a
//   crash at MPI_Finalize, which the disk-full tests catch without LeakSanitizer.
// - halt_on_error=1 (also compiled in: -fno-sanitize-recover=all): the first report ends the program.
// - exitcode=86: a sanitizer report is never mistaken for Tessera's own exit codes (engine/fatal.h: 1 bad input,
//   2 internal error, 64 usage, 75 requeue), so a bad-input test that expects 1 fails on it.
// - allocator_may_return_null=1: a damaged size field can ask for an impossible allocation (HDF5 reading a
//   corrupt object header asks for 2^64 - 184 bytes). glibc's malloc returns NULL there, HDF5 reports "memory
//   allocation failed" and Tessera refuses the file with exit 1; without this option ASan aborts instead, so the
//   checking build would test a path no user runs. libFuzzer's -malloc_limit_mb still flags every allocation
//   over its limit that succeeds.

extern "C" {

__attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "detect_leaks=0:exitcode=86:print_stacktrace=1:allocator_may_return_null=1";
}

__attribute__((visibility("default"), used)) const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:exitcode=86";
}

}  // extern "C"
