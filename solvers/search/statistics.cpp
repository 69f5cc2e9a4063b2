#include "solvers/search/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"

namespace tessera::solvers::search {

double quantile_of_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) return NAN;
  const double at = q * double(sorted.size() - 1);
  const std::size_t low = std::size_t(std::floor(at));
  const std::size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (at - double(low)) * (sorted[high] - sorted[low]);
}

std::vector<double> benjamini_hochberg(std::span<const double> p_values) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p_values.size(); ++i)
    if (!std::isnan(p_values[i])) order.push_back(i);
  // Ties by index, so the order (and nothing else) is fixed for equal p-values.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return p_values[a] < p_values[b] || (p_values[a] == p_values[b] && a < b);
  });
  std::vector<double> adjusted(p_values.size(), NAN);
  const double n = double(order.size());
  double running_min = 1.0;
  for (std::size_t r = order.size(); r-- > 0;) {
    running_min = std::min(running_min, n * p_values[order[r]] / double(r + 1));
    adjusted[order[r]] = running_min;
  }
  return adjusted;
}

double hypergeometric_upper_tail(long long x, long long population, long long successes, long long drawn) {
  TESSERA_CHECK(population >= 0 && successes >= 0 && drawn >= 0 && successes <= population && drawn <= population,
                "hypergeometric: bad sizes (population ", population, ", successes ", successes, ", drawn ", drawn,
                ")");
  const long long lowest = std::max(0LL, drawn - (population - successes));
  const long long highest = std::min(successes, drawn);
  if (x <= lowest) return 1.0;
  if (x > highest) return 0.0;
  auto log_choose = [](long long n, long long k) {
    return std::lgamma(double(n) + 1) - std::lgamma(double(k) + 1) - std::lgamma(double(n - k) + 1);
  };
  const double log_total = log_choose(population, drawn);
  // Terms shrink fast past the mode; summing from the largest log term keeps the sum exact to rounding.
  std::vector<double> logs;
  for (long long i = x; i <= highest; ++i)
    logs.push_back(log_choose(successes, i) + log_choose(population - successes, drawn - i) - log_total);
  const double largest = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (const double l : logs) sum += std::exp(l - largest);
  return std::min(1.0, std::exp(largest) * sum);
}

}  // namespace tessera::solvers::search
