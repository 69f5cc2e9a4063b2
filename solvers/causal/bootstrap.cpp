#include "solvers/causal/bootstrap.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <span>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/hash.h"
#include "engine/log.h"
#include "engine/progress.h"
#include "engine/random.h"
#include "engine/signals.h"
#include "engine/task_farm.h"
#include "io/checkpoint.h"

namespace tessera::solvers::causal {

namespace {

using Clock = std::chrono::steady_clock;

// Version 1 was a text file ("# tessera bootstrap checkpoint ..."); it is refused with a message, not read.
const io::CheckpointKind kCheckpointKind{"tessera-bootstrap", 2, "bootstrap"};
constexpr const char* kCheckpointFix =
    "delete it to start the bootstrap over, or write to another output folder (--out)";

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
// with another alpha, depth, starting graph, shrinkage or CI test would mix counts of two different bootstraps.
std::uint64_t search_hash(const DiscoveryParams& params) {
  std::ostringstream text;
  text.precision(17);
  text << params.alpha << ' ' << params.alpha_inv << ' ' << params.depth << ' ' << params.restarts << ' '
       << name_table(params.move).name(params.move) << ' '
       << name_table(params.invariance_test).name(params.invariance_test);
  // Knobs added to the hash later appear only away from their defaults, so older checkpoints still resume.
  const DiscoveryParams defaults;
  if (params.start_candidates != defaults.start_candidates) text << " candidates " << params.start_candidates;
  if (params.start_graph != defaults.start_graph)
    text << " start " << name_table(params.start_graph).name(params.start_graph);
  if (params.shrinkage != defaults.shrinkage) text << " shrinkage " << params.shrinkage;
  if (params.ci_test != defaults.ci_test)
    text << ' ' << name_table(params.ci_test).name(params.ci_test) << ' ' << params.hsic_samples;
  text << " order";
  for (int v : params.fixed_order) text << ' ' << v;
  text << " required";
  for (const auto& [i, j] : params.required) text << ' ' << i << '>' << j;
  text << " forbidden";
  for (const auto& [i, j] : params.forbidden) text << ' ' << i << '>' << j;
  return engine::stable_hash(text.str());
}

// What identifies one bootstrap; a checkpoint is only resumed when all of these match.
io::Fingerprint fingerprint(const InterventionalData& data, const DiscoveryParams& params, int resamples) {
  io::Fingerprint f;
  f.integer("p", data.num_variables()).integer("resamples", resamples).text("seed", std::to_string(params.seed));
  f.text("algorithm", name_table(params.algorithm).name(params.algorithm))
      .hash("search", search_hash(params))
      .hash("data", data_hash(data));
  return f;
}

struct State {
  int done = 0;            // resamples 0 .. done-1 are counted
  Eigen::MatrixXd counts;  // integer arc counts over those resamples (exact in double up to 2^53)
};

// Rank 0 only. Atomic, so a kill during the write leaves the previous checkpoint intact.
void write_checkpoint(const std::filesystem::path& path, const io::Fingerprint& fingerprint, const State& state) {
  io::write_checkpoint(path, kCheckpointKind, fingerprint, [&](io::CheckpointWriter& out) {
    out.put_int("resamples", "done", state.done);
    out.put_matrix("resamples", "arc_counts", state.counts);
  });
}

// The text checkpoints of earlier versions start with this line; they are refused by name rather than reported
// as "not an HDF5 file".
void refuse_text_checkpoint(const std::filesystem::path& path) {
  std::string first_line;
  std::getline(std::ifstream(path), first_line);
  TESSERA_CHECK(first_line.rfind("# tessera bootstrap checkpoint", 0) != 0, "bootstrap checkpoint '", path.string(),
                "' is in the text format of an older Tessera, which this one does not read; ", kCheckpointFix,
                " (its resamples are run again), or finish it with the Tessera that wrote it");
}

// Rank 0 only: the saved state, checked against this bootstrap.
State read_checkpoint(const std::filesystem::path& path, const io::Fingerprint& expected, int p, int resamples) {
  refuse_text_checkpoint(path);
  const io::CheckpointReader in(path, kCheckpointKind, expected, kCheckpointFix);
  State state;
  const std::int64_t done = in.get_int("resamples", "done");
  if (done < 0 || done > resamples)
    in.fail(detail::concat("has done = ", done, " resamples (expected 0..", resamples, ")"));
  state.done = int(done);
  state.counts = in.get_matrix("resamples", "arc_counts");
  if (state.counts.rows() != p || state.counts.cols() != p)
    in.fail(
        detail::concat("has ", state.counts.rows(), " x ", state.counts.cols(), " arc counts, expected ", p, " x ", p));
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      const double c = state.counts(i, j);
      if (!(c >= 0 && c <= done && c == std::floor(c)))
        in.fail(
            detail::concat("has a bad count ", c, " at row ", i + 1, ", column ", j + 1, " (expected 0..", done, ")"));
    }
  return state;
}

// Collective: the saved state when the checkpoint exists, else nothing done. Rank 0 reads it and broadcasts the
// state or its error, so every rank fails or succeeds alike.
State load_or_start(const engine::Context& ctx, const std::filesystem::path& path, const io::Fingerprint& fingerprint,
                    int p, int resamples) {
  State state{0, Eigen::MatrixXd::Zero(p, p)};
  std::string error;
  if (!path.empty() && ctx.is_root() && std::filesystem::exists(path)) {
    try {
      state = read_checkpoint(path, fingerprint, p, resamples);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  engine::broadcast(ctx, error);
  if (!error.empty()) throw Error(error);
  std::int64_t done = state.done;
  engine::broadcast(ctx, std::span<std::int64_t>(&done, 1));
  state.done = int(done);
  engine::broadcast(ctx, std::span<double>(state.counts.data(), std::size_t(state.counts.size())));
  return state;
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
  const io::Fingerprint fields = fingerprint(data, params, resamples);
  State state = load_or_start(ctx, options.checkpoint, fields, p, resamples);
  if (state.done > 0)
    engine::info("bootstrap: resuming from '", options.checkpoint.string(), "' at resample ", state.done, " of ",
                 resamples);

  const int first = state.done;
  // Updated every round, printed at most every 2 s: fast rounds (small p) would flood the log.
  engine::Progress progress("bootstrap", resamples - first, "resamples");
  auto last_write = Clock::now();
  // Resamples spread over the ranks in rounds of one per rank (engine/task_farm.h). Rounds start at the checkpoint,
  // so a resume may use another rank count: resample b is the same on any rank.
  engine::TaskFarm farm;
  farm.what = "bootstrap";
  farm.task_name = "resample";
  farm.first = first;
  farm.end = resamples;
  farm.task = [&](const engine::Context& self, std::int64_t b) {
    std::vector<double> arcs;  // tail, head of each arc
    for (const auto& [i, j] : discover(self, resample(data, rows_of, params.seed, int(b)), params).dag.edges())
      arcs.insert(arcs.end(), {double(i), double(j)});
    return arcs;
  };
  farm.after_round = [&](const engine::FarmRound& round) {
    for (const auto& arcs : round.results)  // integer counts: exact in any order
      for (std::size_t a = 0; a < arcs.size(); a += 2)
        state.counts(Eigen::Index(arcs[a]), Eigen::Index(arcs[a + 1])) += 1;
    state.done = int(round.first_task) + int(round.results.size());
    if (options.progress && ctx.is_root()) progress.update(state.done - first);
    if (options.after_round) options.after_round(int(round.index));
    if (state.done == resamples) return;  // finished: nothing left to save
    const double since = std::chrono::duration<double>(Clock::now() - last_write).count();
    if (!options.checkpoint.empty() && options.checkpoint_interval_seconds > 0 &&
        since >= options.checkpoint_interval_seconds) {
      if (ctx.is_root()) write_checkpoint(options.checkpoint, fields, state);  // rank 0's clock decides alone
      last_write = Clock::now();
    }
  };
  farm.on_stop = [&](std::int64_t) {
    if (!options.checkpoint.empty() && ctx.is_root()) write_checkpoint(options.checkpoint, fields, state);
    ctx.barrier();  // no rank reports "checkpointed" before the file is there
    return "bootstrap stopped after " + std::to_string(state.done) + " of " + std::to_string(resamples) + " resamples" +
           (options.checkpoint.empty() ? "" : "; checkpoint " + options.checkpoint.string());
  };
  engine::run_task_farm(ctx, farm);
  if (options.progress && ctx.is_root()) progress.finish();
  return {state.counts / resamples, resamples};
}

}  // namespace tessera::solvers::causal
