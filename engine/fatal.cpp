#include "engine/fatal.h"

#include <exception>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/signals.h"

namespace tessera::engine {

int run_or_abort(const Context& world, const std::function<int()>& body) {
  int code = kExitOk;
  try {
    return body();
  } catch (const StopRequested& stop) {
    info("stopped on ", signal_name(stop_signal_number()), ": ", stop.what(), "; exiting with ", kExitRequeue,
         " so that the job is requeued");
    return kExitRequeue;
  } catch (const Error& e) {
    any_rank_error(e.what());
    code = kExitError;
  } catch (const std::exception& e) {
    any_rank_error("internal error: ", e.what());
    code = kExitInternal;
  }
  // With one rank nothing can be waiting on us: return and let MpiSession finalise MPI normally.
  if (world.size() > 1) world.abort(code);
  return code;
}

}  // namespace tessera::engine
