// A minimal fork-join loop over std::thread for the matrix-free solver's tile work.
//
// Items are handed out dynamically, but every item is computed the same way whichever thread takes it, so
// results do not depend on the thread count as long as items write disjoint outputs. Local (no MPI).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::solvers::ntk {

// Calls body(item, thread) for item in [0, count) on up to `threads` threads (the caller's thread is thread 0).
// The first exception thrown by any item stops the hand-out and is rethrown here after all threads joined.
template <typename Body>
void parallel_for(std::int64_t count, int threads, Body&& body) {
  const int workers = int(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, count)));
  if (workers == 1) {
    for (std::int64_t i = 0; i < count; ++i) body(i, 0);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&](int thread) {
    try {
      for (std::int64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) body(i, thread);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(count);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(std::size_t(workers - 1));
  for (int t = 1; t < workers; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace tessera::solvers::ntk
