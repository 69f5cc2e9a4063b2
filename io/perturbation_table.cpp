#include "io/perturbation_table.h"

#include <algorithm>
#include <numeric>

namespace tessera::io {

std::int64_t PerturbationTable::num_observed() const {
  return std::accumulate(observed.begin(), observed.end(), std::int64_t(0));
}

namespace {
std::int64_t find_sorted(const std::vector<std::string>& ids, const std::string& id) {
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return (it != ids.end() && *it == id) ? std::int64_t(it - ids.begin()) : -1;
}
}  // namespace

std::int64_t PerturbationTable::find_cell(const std::string& id) const { return find_sorted(cells, id); }
std::int64_t PerturbationTable::find_pert(const std::string& id) const { return find_sorted(perts, id); }

}  // namespace tessera::io
