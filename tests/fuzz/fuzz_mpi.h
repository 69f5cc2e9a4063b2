// MPI for the fuzz targets whose readers need a Context (GCTX through the MPI-IO driver, the option parser):
// initialised once per fuzzing process, as a one-rank job (MPI_COMM_SELF, Open MPI's singleton mode).
#pragma once

#include "engine/context.h"
#include "engine/log.h"

namespace tessera::fuzz {

inline const engine::Context& one_rank() {
  static engine::MpiSession mpi(nullptr, nullptr);  // finalised when the fuzzer exits
  static const engine::Context self(MPI_COMM_SELF);
  static const bool quiet = [] {
    engine::init_logging(0, 1, engine::LogLevel::kQuiet);  // warnings of readers are no findings
    return true;
  }();
  (void)quiet;
  return self;
}

}  // namespace tessera::fuzz
