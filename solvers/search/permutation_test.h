// Permutation p-values of the weighted connectivity score (WTCS): how often a random query of the same up and
// down set sizes connects to a signature at least as strongly (|WTCS| >= |observed|) as the real query.
//
// Random gene sets as random positions. A random query draws |U| + |D| distinct genes of the G library genes
// and splits them into an up set of |U| and a down set of |D|. A signature's ranking is a bijection from genes
// to positions 0 .. G-1, so the positions of those genes in ANY signature's ranking are |U| + |D| uniformly
// random distinct positions with the same split. So each draw is stored once, as sorted positions with an up /
// down label, and shared by every signature: scoring draw b against a signature reads the signature's weights
// at those positions (|value|^p of the gene ranked there) in one pass of |U| + |D| steps, with no sort per
// draw. The signature itself is sorted once.
//
// Sequential stopping (Besag & Clifford 1991): draws are tried in order until `stop_after` of them reach the
// observed |WTCS| (p = stop_after / draws tried) or all `permutations` are used (p = (exceedances + 1) /
// (permutations + 1)). Both are valid p-values; strong hits use every draw, while a signature with p near 0.5
// stops after about 2 x stop_after draws. This is what makes 1,000 permutations per signature affordable over a
// whole library.
//
// The draws come from engine::RandomStream(seed, "rank/permutation", b): the same on every rank and run.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tessera::solvers::search {

struct PermutationOptions {
  int permutations = 1000;  // random queries per signature at most (0: no p-values)
  int stop_after = 10;      // exceedances that end a signature's test early
  std::uint64_t seed = 1;
};

// The random queries' positions: draw b is entries [b m, (b + 1) m) of `positions`, m = up_size + down_size:
// the up set's positions ascending, then the down set's ascending. Each set's running sum needs only its own
// hits (the other set's genes are misses like any other), so the two are scored by separate tight loops.
struct RandomQueryDraws {
  int num_genes = 0, up_size = 0, down_size = 0, draws = 0;
  std::vector<std::int32_t> positions;
  std::size_t set_size() const { return std::size_t(up_size + down_size); }
};
RandomQueryDraws draw_random_queries(int num_genes, int up_size, int down_size, int draws, std::uint64_t seed);

// WTCS of draw b against the signature whose ranking weights are weight_by_position (G values: |v|^p of the
// gene at each position, best-ranked first).
double random_query_wtcs(const RandomQueryDraws& draws, int b, std::span<const double> weight_by_position);

struct PermutationResult {
  double p_value = 1;
  int draws_used = 0;
};

// Tests one signature at a time; reuse it (it keeps its scratch space).
class PermutationTester {
 public:
  PermutationTester(const RandomQueryDraws& draws, double weight_power, int stop_after);
  PermutationResult test(std::span<const float> signature, double observed_wtcs);

 private:
  const RandomQueryDraws* draws_;
  double weight_power_;
  int stop_after_;
  std::vector<std::uint64_t> keys_, sorted_scratch_;
  std::vector<double> weight_by_position_;
};

}  // namespace tessera::solvers::search
