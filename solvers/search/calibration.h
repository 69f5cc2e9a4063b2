// CMap's calibrated connectivity for every single signature of a library: WTCS, the normalised score NCS, a
// permutation p-value and the Benjamini-Hochberg FDR, computed in one pass spread over the ranks.
//
// NCS (Subramanian et al. 2017): WTCS divided by the mean of the library's WTCS of the same sign within the
// signature's group, its cell line and perturbation type (cell_id, pert_type): w / mean(w > 0 in the group) for
// w > 0 and w / |mean(w < 0 in the group)| for w < 0, 0 for 0. So NCS keeps WTCS's sign (negative: the
// signature reverses the query) and a group whose scores run high is not favoured.
//
// p-values: solvers/search/permutation_test.h (two-sided: |WTCS| of random queries of the query's up and down
// set sizes); FDR: Benjamini-Hochberg over every single signature of the library.
//
// Every rank scores its block of signatures; the scores and p-values are gathered, so every rank ends with the
// whole table in library order, and the group means are summed in that order: 1, 2 or 3 ranks give the same
// bits. Memory: four doubles per signature (32 MB at a million), beside the library itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/context.h"
#include "solvers/search/library.h"
#include "solvers/search/permutation_test.h"
#include "solvers/search/scores.h"

namespace tessera::solvers::search {

// The NCS groups: one per (cell_id, pert_type) present, numbered in order of first appearance.
struct ConnectivityGroups {
  std::vector<int> group_of;        // per signature
  std::vector<std::string> labels;  // "cell_id/pert_type" (or "cell_id" when the library has no pert_type)
  std::vector<double> positive_mean, negative_mean;  // mean WTCS of each sign (NaN when the group has none)
};
ConnectivityGroups connectivity_groups(const Library& library);

// Fills the groups' means from wtcs (library order) and returns the NCS of each signature. Local.
std::vector<double> normalized_connectivity(std::span<const double> wtcs, ConnectivityGroups& groups);
// NCS of a WTCS value w in group g (means filled). A sign the group never showed (possible only for a
// bootstrap replicate) is left unnormalised.
double ncs_in_group(double w, const ConnectivityGroups& groups, int g);

struct Calibration {
  std::vector<double> wtcs, ncs;         // per single signature, library order
  std::vector<double> p_value, fdr;      // per single signature; empty without permutations
  std::vector<std::int64_t> draws_used;  // random queries each p-value took
  ConnectivityGroups groups;
  double seconds = 0;  // wall time of the pass (max over ranks)
  double mean_draws() const;
};

// Collective over ctx: every rank gets the same Calibration.
Calibration calibrate(const engine::Context& ctx, const Library& library, const PreparedQuery& query,
                      const PermutationOptions& permutation, bool progress = true);

}  // namespace tessera::solvers::search
