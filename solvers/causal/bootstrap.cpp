#include "solvers/causal/bootstrap.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/progress.h"
#include "engine/random.h"
#include "engine/signals.h"
#include "io/atomic_file.h"

namespace tessera::solvers::causal {

namespace {

using Clock = std::chrono::steady_clock;
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Hash of everything the resamples read: names, values (bitwise), settings and known targets.
std::uint64_t data_hash(const InterventionalData& data) {
  std::string bytes;
  for (const auto& v : data.variables) bytes += v + '\n';
  bytes.append(reinterpret_cast<const char*>(data.samples.data()), data.samples.size() * sizeof(double));
  bytes.append(reinterpret_cast<const char*>(data.setting.data()), data.setting.size() * sizeof(int));
  for (const auto& targets : data.known_targets) {
    for (int t : targets) bytes += std::to_string(t) + ',';
    bytes += ';';
  }
  return engine::stable_hash(bytes);
}

// Hash of the search parameters other than seed and algorithm (which the checkpoint shows in clear): a resume
// with another alpha or depth would mix counts of two different bootstraps.
std::uint64_t search_hash(const DiscoveryParams& params) {
  std::ostringstream text;
  text.precision(17);
  text << params.alpha << ' ' << params.alpha_inv << ' ' << params.depth << ' ' << params.restarts << " order";
  for (int v : params.fixed_order) text << ' ' << v;
  text << " required";
  for (const auto& [i, j] : params.required) text << ' ' << i << '>' << j;
  text << " forbidden";
  for (const auto& [i, j] : params.forbidden) text << ' ' << i << '>' << j;
  return engine::stable_hash(text.str());
}

// What identifies one bootstrap; a checkpoint is only resumed when all of these match.
Fields fingerprint(const InterventionalData& data, const DiscoveryParams& params, int resamples) {
  return {{"p", std::to_string(data.num_variables())},
          {"resamples", std::to_string(resamples)},
          {"seed", std::to_string(params.seed)},
          {"algorithm", params.algorithm},
          {"search", hex(search_hash(params))},
          {"data", hex(data_hash(data))}};
}

struct State {
  int done = 0;            // resamples 0 .. done-1 are counted
  Eigen::MatrixXd counts;  // integer arc counts over those resamples (exact in double up to 2^53)
};

std::string checkpoint_text(const Fields& fields, const State& state) {
  std::ostringstream out;
  out << "# tessera bootstrap checkpoint: delete this file to start the bootstrap over\n";
  for (const auto& [key, value] : fields) out << key << ' ' << value << '\n';
  out << "done " << state.done << "\ncounts\n";
  for (Eigen::Index i = 0; i < state.counts.rows(); ++i) {
    for (Eigen::Index j = 0; j < state.counts.cols(); ++j)
      out << (j ? " " : "") << static_cast<long long>(state.counts(i, j));
    out << '\n';
  }
  return out.str();
}

// Rank 0 only. Atomic, so a kill during the write leaves the previous checkpoint intact.
void write_checkpoint(const std::filesystem::path& path, const Fields& fields, const State& state) {
  io::write_bytes_atomically(path, checkpoint_text(fields, state), io::Durability::kFolder);
}

// Parses a checkpoint (its text, read by rank 0 and broadcast, so every rank fails or succeeds alike).
State parse_checkpoint(const std::filesystem::path& path, const std::string& text, const Fields& expected,
                       int resamples) {
  const std::string where = "bootstrap checkpoint '" + path.string() + "'";
  const std::string fix = "; delete it to start the bootstrap over, or write to another output folder (--out)";
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // comment
  for (const auto& [key, value] : expected) {
    std::string got_key, got_value;
    TESSERA_CHECK(std::getline(in, line), where, " is truncated before '", key, "'", fix);
    std::istringstream(line) >> got_key >> got_value;
    TESSERA_CHECK(got_key == key, where, " is not a bootstrap checkpoint (expected '", key, "', found '", line,
                  "')", fix);
    TESSERA_CHECK(got_value == value, where, " belongs to another bootstrap: ", key, " is ", got_value,
                  " there but ", value, " in this run", fix);
  }
  State state;
  std::string key, counts_key;
  TESSERA_CHECK((in >> key >> state.done) && key == "done" && state.done >= 0 && state.done <= resamples, where,
                " has a bad 'done' line (expected 0..", resamples, ")", fix);
  TESSERA_CHECK((in >> counts_key) && counts_key == "counts", where, " has no 'counts' section", fix);
  const int p = std::stoi(expected.front().second);
  state.counts = Eigen::MatrixXd::Zero(p, p);
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      long long c = -1;
      TESSERA_CHECK((in >> c) && c >= 0 && c <= state.done, where, " has a bad count at row ", i + 1, ", column ",
                    j + 1, " (expected 0..", state.done, ")", fix);
      state.counts(i, j) = double(c);
    }
  return state;
}

// Collective: the saved state when the checkpoint exists, else nothing done.
State load_or_start(const engine::Context& ctx, const std::filesystem::path& path, const Fields& fields,
                    int p, int resamples) {
  std::string text;
  if (!path.empty() && ctx.is_root() && std::filesystem::exists(path)) {
    std::ifstream f(path);
    std::ostringstream all;
    all << f.rdbuf();
    text = all.str();
    TESSERA_CHECK(!text.empty(), "bootstrap checkpoint '", path.string(), "' is empty or unreadable; delete it");
  }
  engine::broadcast(ctx, text);
  if (text.empty()) return {0, Eigen::MatrixXd::Zero(p, p)};
  return parse_checkpoint(path, text, fields, resamples);
}

// Resample b: the rows of each setting drawn with replacement (stratified: each setting keeps its size).
InterventionalData resample(const InterventionalData& data, const std::vector<std::vector<Eigen::Index>>& rows_of,
                            std::uint64_t seed, int b) {
  engine::RandomStream rng(seed, "gsp/bootstrap", std::uint64_t(b));
  InterventionalData resampled = data;
  Eigen::Index at = 0;
  for (int s = 0; s < data.num_settings(); ++s)
    for (std::size_t a = 0; a < rows_of[s].size(); ++a, ++at) {
      resampled.samples.row(at) = data.samples.row(rows_of[s][rng.uniform_int(rows_of[s].size())]);
      resampled.setting[at] = s;
    }
  return resampled;
}

}  // namespace

EdgeFrequencies bootstrap_edges(const engine::Context& ctx, const InterventionalData& data,
                                const DiscoveryParams& params, int resamples, const BootstrapOptions& options) {
  TESSERA_CHECK(resamples >= 1, "bootstrap needs at least 1 resample, got ", resamples);
  const int p = data.num_variables();
  std::vector<std::vector<Eigen::Index>> rows_of(data.num_settings());
  for (Eigen::Index r = 0; r < data.samples.rows(); ++r) rows_of[data.setting[r]].push_back(r);
  const Fields fields = fingerprint(data, params, resamples);
  State state = load_or_start(ctx, options.checkpoint, fields, p, resamples);
  if (state.done > 0) engine::info("bootstrap: resuming from '", options.checkpoint.string(), "' at resample ",
                                   state.done, " of ", resamples);

  const engine::Context self(MPI_COMM_SELF);
  const int first = state.done;
  // Updated every round, printed at most every 2 s: fast rounds (small p) would flood the log.
  engine::Progress progress("bootstrap", resamples - first, "resamples");
  auto last_write = Clock::now();
  // Round r: resamples done .. done+size-1, one per rank. Rounds start at the checkpoint, so a resume may use
  // another rank count: resample b is the same on any rank.
  for (int round = 0; state.done < resamples; ++round) {
    Eigen::MatrixXd round_counts = Eigen::MatrixXd::Zero(p, p);
    const int b = state.done + ctx.rank();
    if (b < resamples)
      for (const auto& [i, j] : discover(self, resample(data, rows_of, params.seed, b), params).dag.edges())
        round_counts(i, j) += 1;
    engine::allreduce_sum(ctx, round_counts);  // integer counts: exact in any order
    state.counts += round_counts;
    state.done = std::min(resamples, state.done + ctx.size());
    if (options.progress && ctx.is_root()) progress.update(state.done - first);
    if (options.after_round) options.after_round(round);
    if (state.done == resamples) break;  // finished: nothing left to save
    if (engine::stop_requested(ctx)) {
      if (!options.checkpoint.empty() && ctx.is_root()) write_checkpoint(options.checkpoint, fields, state);
      ctx.barrier();  // no rank reports "checkpointed" before the file is there
      throw engine::StopRequested("bootstrap stopped after " + std::to_string(state.done) + " of " +
                                  std::to_string(resamples) + " resamples" +
                                  (options.checkpoint.empty() ? "" : "; checkpoint " + options.checkpoint.string()));
    }
    const double since = std::chrono::duration<double>(Clock::now() - last_write).count();
    if (!options.checkpoint.empty() && options.checkpoint_interval_seconds > 0 &&
        since >= options.checkpoint_interval_seconds) {
      if (ctx.is_root()) write_checkpoint(options.checkpoint, fields, state);  // rank 0's clock decides alone
      last_write = Clock::now();
    }
  }
  if (options.progress && ctx.is_root()) progress.finish();
  return {state.counts / resamples, resamples};
}

}  // namespace tessera::solvers::causal
