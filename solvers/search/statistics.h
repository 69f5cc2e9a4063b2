// Small statistics shared by the ranking's calibration and summaries: quantiles, Benjamini-Hochberg FDR and the
// hypergeometric tail. All local.
#pragma once

#include <span>
#include <vector>

namespace tessera::solvers::search {

// The q-quantile of sorted values by linear interpolation between order statistics (R's type 7, numpy's
// default): position q (n - 1). NaN for no values.
double quantile_of_sorted(std::span<const double> sorted, double q);

// Benjamini-Hochberg adjusted p-values (R's p.adjust(p, "BH")), in the input's order:
// q_(i) = min over j >= i of min(1, n p_(j) / j), for the p-values sorted ascending. NaN p-values are not
// tested: they stay NaN and do not count in n.
std::vector<double> benjamini_hochberg(std::span<const double> p_values);

// P(X >= x) for X hypergeometric: `drawn` items drawn without replacement from `population` items of which
// `successes` are marked. Summed in log space (lgamma), so populations of millions are fine.
double hypergeometric_upper_tail(long long x, long long population, long long successes, long long drawn);

}  // namespace tessera::solvers::search
