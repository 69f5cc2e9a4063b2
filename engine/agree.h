// Agreeing on failure: a rank that throws inside a distributed step must not leave the others waiting in the
// step's next collective. run_agreeing() runs local work, then one allreduce tells every rank whether any rank
// failed; then every rank throws (the failing rank its own error, the others a pointer to it).
#pragma once

#include <exception>
#include <utility>

#include "engine/collectives.h"
#include "engine/error.h"

namespace tessera::engine {

// Collective over ctx. `what` names the step in the other ranks' message.
template <typename Work>
void run_agreeing(const Context& ctx, const char* what, Work&& work) {
  std::exception_ptr failure;
  try {
    std::forward<Work>(work)();
  } catch (...) {
    failure = std::current_exception();
  }
  const bool any_failed = allreduce_any(ctx, failure != nullptr);
  if (failure) std::rethrow_exception(failure);
  TESSERA_CHECK(!any_failed, what, " failed on another rank (see that rank's error)");
}

}  // namespace tessera::engine
