// The bench programs' one command-line parser and resource meter.
//
// Options are --name=value (or --name value) and bare --flag switches, read where they are used:
//   BenchArgs args(argc, argv, "ntk_exact_bench [--n=20000] [--genes=978] [--block=128]");
//   const auto n = args.integer("n", 20000);
//   args.finish();  // after the last read: an option no read asked for is an error
// A malformed value or an unknown option throws tessera::Error naming it and printing the usage line; run the
// program through bench_main() to have that printed once (rank 0) with exit code 64.
//
// Resources: wall time (Stopwatch), CPU seconds of this process (user + system, all threads), current and peak
// resident memory (peak as getrusage's ru_maxrss; reset_peak_rss() restarts it so each phase reports its own),
// rates, and a barrier that does not spin.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/context.h"
#include "engine/error.h"

namespace tessera::bench {

class BenchArgs {
 public:
  BenchArgs(int argc, char** argv, std::string usage) : usage_(std::move(usage)) {
    for (int i = 1; i < argc; ++i) arguments_.push_back(argv[i]);
    used_.assign(arguments_.size(), false);
  }

  std::int64_t integer(const std::string& name, std::int64_t fallback) {
    const auto text = value(name);
    return text ? to_integer(name, *text) : fallback;
  }
  double real(const std::string& name, double fallback) {
    const auto text = value(name);
    return text ? to_real(name, *text) : fallback;
  }
  std::string text(const std::string& name, const std::string& fallback) {
    const auto found = value(name);
    return found ? *found : fallback;
  }
  // A comma list of integers (--sizes=20,50,100).
  std::vector<std::int64_t> integers(const std::string& name, const std::vector<std::int64_t>& fallback) {
    const auto found = value(name);
    if (!found) return fallback;
    std::vector<std::int64_t> list;
    for (const auto& item : split(*found)) list.push_back(to_integer(name, item));
    return list;
  }
  // A comma list of words (--alg=gsp,igsp).
  std::vector<std::string> words(const std::string& name, const std::vector<std::string>& fallback) {
    const auto found = value(name);
    return found ? split(*found) : fallback;
  }
  // Every value of an option that may be given more than once (--set a=1 --set b=2), in order.
  std::vector<std::string> repeated(const std::string& name) {
    std::vector<std::string> values;
    for (std::size_t from = 0; const auto found = value(name, from);) values.push_back(*found);
    return values;
  }
  // A bare switch: --name (true when present).
  bool flag(const std::string& name) {
    for (std::size_t i = 0; i < arguments_.size(); ++i)
      if (arguments_[i] == "--" + name) return used_[i] = true;
    return false;
  }

  // Throws tessera::Error for the first argument no read asked for (an unknown option, one given twice, or a
  // word that is no option's value).
  void finish() const {
    for (std::size_t i = 0; i < arguments_.size(); ++i)
      TESSERA_CHECK(used_[i], "unknown, repeated or stray argument '", arguments_[i], "'; usage: ", usage_);
  }

 private:
  // The value of the first --name=value or --name value, marking the words it used; none when the option is
  // absent.
  std::optional<std::string> value(const std::string& name) {
    std::size_t from = 0;
    return value(name, from);
  }
  // The same from argument `from` on; `from` moves past the option found.
  std::optional<std::string> value(const std::string& name, std::size_t& from) {
    const std::string option = "--" + name;
    for (std::size_t i = from; i < arguments_.size(); ++i) {
      if (arguments_[i].rfind(option + "=", 0) == 0) {
        used_[i] = true;
        from = i + 1;
        return arguments_[i].substr(option.size() + 1);
      }
      if (arguments_[i] == option) {
        TESSERA_CHECK(i + 1 < arguments_.size(), "option ", option, " needs a value; usage: ", usage_);
        used_[i] = used_[i + 1] = true;
        from = i + 2;
        return arguments_[i + 1];
      }
    }
    return std::nullopt;
  }

  std::int64_t to_integer(const std::string& name, const std::string& text) const {
    std::size_t end = 0;
    std::int64_t number = 0;
    try {
      number = std::stoll(text, &end);
    } catch (const std::exception&) {
    }
    TESSERA_CHECK(!text.empty() && end == text.size(), "--", name, "=", text, " is not an integer; usage: ", usage_);
    return number;
  }
  double to_real(const std::string& name, const std::string& text) const {
    std::size_t end = 0;
    double number = 0;
    try {
      number = std::stod(text, &end);
    } catch (const std::exception&) {
    }
    TESSERA_CHECK(!text.empty() && end == text.size(), "--", name, "=", text, " is not a number; usage: ", usage_);
    return number;
  }

  static std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> items;
    for (std::size_t at = 0; at <= list.size();) {
      const std::size_t comma = std::min(list.find(',', at), list.size());
      if (comma > at) items.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
    return items;
  }

  std::string usage_;
  std::vector<std::string> arguments_;
  std::vector<bool> used_;
};

// Runs body(); a tessera::Error (a bad option, say) is printed once, by rank 0, and gives exit code 64.
inline int bench_main(const engine::Context& world, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& error) {
    if (world.is_root()) std::fprintf(stderr, "%s\n", error.what());
    return 64;
  }
}

// Wall-clock seconds since construction (or restart()).
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void restart() { start_ = std::chrono::steady_clock::now(); }
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// CPU seconds of this process so far, user + system, all threads.
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// Peak resident memory of this process in MiB (getrusage's ru_maxrss, KiB on Linux).
inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

// Current resident memory in MiB (VmRSS of /proc/self/status; 0 where there is none).
inline double current_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// Restarts this process's peak RSS at its current RSS (Linux >= 4.0), so that each phase reports its own peak;
// best effort.
inline void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// A barrier that the waiting ranks sit out asleep: Open MPI's barrier spins, which on a small machine would steal
// the core that a rank timing alone (a single-process baseline, a method on rank 0) runs on.
inline void sleepy_barrier(const engine::Context& ctx) {
  MPI_Request request;
  TESSERA_MPI(MPI_Ibarrier(ctx.comm(), &request));
  for (int done = 0; !done;) {
    TESSERA_MPI(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (!done) ::usleep(2000);
  }
}

// count / seconds, for the "<things>/s" figures.
inline double rate(double count, double seconds) { return count / seconds; }

}  // namespace tessera::bench
