#include "solvers/search/calibration.h"

#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include "engine/collectives.h"
#include "engine/partition.h"
#include "engine/progress.h"
#include "solvers/search/statistics.h"

namespace tessera::solvers::search {

ConnectivityGroups connectivity_groups(const Library& library) {
  ConnectivityGroups groups;
  std::map<std::pair<std::string, std::string>, int> number;
  groups.group_of.resize(std::size_t(library.size()));
  for (std::int64_t i = 0; i < library.size(); ++i) {
    const auto& info = library.info(i);
    const auto [it, fresh] = number.emplace(std::make_pair(info.cell, info.pert_type), int(groups.labels.size()));
    if (fresh) groups.labels.push_back(info.pert_type.empty() ? info.cell : info.cell + "/" + info.pert_type);
    groups.group_of[std::size_t(i)] = it->second;
  }
  return groups;
}

std::vector<double> normalized_connectivity(std::span<const double> wtcs, ConnectivityGroups& groups) {
  const std::size_t count = groups.labels.size();
  std::vector<double> positive(count, 0), negative(count, 0);
  std::vector<std::int64_t> positives(count, 0), negatives(count, 0);
  for (std::size_t i = 0; i < wtcs.size(); ++i) {
    const auto g = std::size_t(groups.group_of[i]);
    if (wtcs[i] > 0) positive[g] += wtcs[i], ++positives[g];
    if (wtcs[i] < 0) negative[g] += wtcs[i], ++negatives[g];
  }
  groups.positive_mean.assign(count, NAN);
  groups.negative_mean.assign(count, NAN);
  for (std::size_t g = 0; g < count; ++g) {
    if (positives[g] > 0) groups.positive_mean[g] = positive[g] / double(positives[g]);
    if (negatives[g] > 0) groups.negative_mean[g] = negative[g] / double(negatives[g]);
  }
  std::vector<double> ncs(wtcs.size(), 0);
  for (std::size_t i = 0; i < wtcs.size(); ++i) ncs[i] = ncs_in_group(wtcs[i], groups, groups.group_of[i]);
  return ncs;
}

double ncs_in_group(double w, const ConnectivityGroups& groups, int g) {
  const double mean = w > 0 ? groups.positive_mean[std::size_t(g)] : groups.negative_mean[std::size_t(g)];
  if (w == 0 || std::isnan(mean)) return w;
  return w / std::fabs(mean);
}

double Calibration::mean_draws() const {
  if (draws_used.empty()) return 0;
  return double(std::accumulate(draws_used.begin(), draws_used.end(), std::int64_t(0))) / double(draws_used.size());
}

Calibration calibrate(const engine::Context& ctx, const Library& library, const PreparedQuery& query,
                      const PermutationOptions& permutation, bool progress) {
  TESSERA_CHECK(query.num_library_genes == library.num_genes(), "query prepared for ", query.num_library_genes,
                " genes, library has ", library.num_genes());
  const auto range = engine::block_range(library.size(), ctx.size(), ctx.rank());
  const auto& values = library.values();
  const std::size_t genes = std::size_t(library.num_genes());
  const bool testing = permutation.permutations > 0;
  const RandomQueryDraws draws = testing ? draw_random_queries(int(genes), int(query.up.size()), int(query.down.size()),
                                                               permutation.permutations, permutation.seed)
                                         : RandomQueryDraws{};

  const auto start = std::chrono::steady_clock::now();
  EnrichmentScratch scratch;
  PermutationTester tester(draws, query.weight_power, permutation.stop_after);
  std::vector<double> wtcs_local, p_local;
  std::vector<std::int64_t> draws_local;
  engine::Progress line("connectivity p-values", range.size() * ctx.size(), "signatures");
  for (std::int64_t i = range.begin; i < range.end; ++i) {
    const std::span<const float> signature{values.col(i).data(), genes};
    const auto [up, down] = enrichment_scores(signature, query.up, query.down, query.weight_power, scratch);
    wtcs_local.push_back(wtcs(up, down));
    if (testing) {
      const auto result = tester.test(signature, wtcs_local.back());
      p_local.push_back(result.p_value);
      draws_local.push_back(result.draws_used);
      if (progress && ((i - range.begin) & 0xfff) == 0) line.update((i - range.begin) * ctx.size());
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress && testing) line.finish();

  Calibration out;
  out.seconds = engine::allreduce_max(ctx, seconds);
  out.wtcs = engine::allgatherv(ctx, std::span<const double>(wtcs_local));
  out.groups = connectivity_groups(library);
  out.ncs = normalized_connectivity(out.wtcs, out.groups);
  if (testing) {
    out.p_value = engine::allgatherv(ctx, std::span<const double>(p_local));
    out.draws_used = engine::allgatherv(ctx, std::span<const std::int64_t>(draws_local));
    out.fdr = benjamini_hochberg(out.p_value);
  }
  return out;
}

}  // namespace tessera::solvers::search
