#include "solvers/search/compounds.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/error.h"
#include "io/side_table.h"
#include "solvers/search/statistics.h"

namespace tessera::solvers::search {

std::vector<CompoundSummary> summarize_compounds(const Library& library, std::span<const double> ncs) {
  TESSERA_CHECK(std::int64_t(ncs.size()) == library.size(), "summarize_compounds: ", ncs.size(), " scores for ",
                library.size(), " signatures");
  std::map<std::string, std::vector<std::int64_t>> members;
  for (std::int64_t i = 0; i < library.size(); ++i)
    if (!library.info(i).pert.empty()) members[library.info(i).pert].push_back(i);
  std::vector<CompoundSummary> out;
  for (const auto& [pert, signatures] : members) {
    CompoundSummary c;
    c.pert_id = pert;
    std::vector<double> scores;
    std::set<std::string> cells;
    for (const std::int64_t i : signatures) {
      const auto& info = library.info(i);
      if (c.name.empty()) c.name = info.name;
      c.imputed += info.method.empty() ? 0 : 1;
      cells.insert(info.cell);
      scores.push_back(ncs[std::size_t(i)]);
      if (c.strongest < 0 || ncs[std::size_t(i)] < ncs[std::size_t(c.strongest)]) c.strongest = i;
    }
    c.signatures = int(signatures.size());
    c.cells = int(cells.size());
    std::sort(scores.begin(), scores.end());
    c.q33 = quantile_of_sorted(scores, 1.0 / 3.0);
    c.q67 = quantile_of_sorted(scores, 2.0 / 3.0);
    c.summary = std::fabs(c.q67) >= std::fabs(c.q33) ? c.q67 : c.q33;
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const CompoundSummary& a, const CompoundSummary& b) {
    return a.summary < b.summary || (a.summary == b.summary && a.pert_id < b.pert_id);
  });
  return out;
}

CompoundTable read_compound_table(const std::filesystem::path& path) {
  const io::SideTable side = io::read_side_table(path, "pert_id", /*unique_ids=*/false);
  const std::string where = "compound table '" + path.string() + "'";
  const auto& name = side.table.require("cmap_name", where);
  const auto& target = side.table.require("target", where);
  const auto& moa = side.table.require("moa", where);
  CompoundTable out;
  for (std::size_t r = 0; r < side.table.size(); ++r) {
    auto& entry = out[side.table.ids[r]];
    if (entry.name.empty() && !name.is_missing(r)) entry.name = name.text[r];
    if (!target.is_missing(r)) entry.targets.push_back(target.text[r]);
    if (!moa.is_missing(r)) entry.moas.push_back(moa.text[r]);
  }
  for (auto& [pert, entry] : out)
    for (auto* list : {&entry.targets, &entry.moas}) {
      std::sort(list->begin(), list->end());
      list->erase(std::unique(list->begin(), list->end()), list->end());
    }
  return out;
}

std::vector<TermEnrichment> enrich_terms(std::span<const std::string> ranked, const CompoundTable& table,
                                         std::size_t top_n) {
  std::vector<TermEnrichment> out;
  for (const char* kind : {"target", "moa"}) {
    const bool targets = std::string(kind) == "target";
    // term -> (compounds of the universe with it, those in the top)
    std::map<std::string, std::pair<long long, std::vector<std::string>>> terms;
    long long universe = 0, top = 0;
    for (std::size_t r = 0; r < ranked.size(); ++r) {
      const auto hit = table.find(ranked[r]);
      if (hit == table.end()) continue;
      const auto& list = targets ? hit->second.targets : hit->second.moas;
      if (list.empty()) continue;
      ++universe;
      const bool in_top = r < top_n;
      top += in_top ? 1 : 0;
      for (const auto& term : list) {
        auto& [count, members] = terms[term];
        ++count;
        if (in_top) members.push_back(ranked[r]);
      }
    }
    std::vector<TermEnrichment> found;
    for (const auto& [term, counts] : terms) {
      TermEnrichment e;
      e.kind = kind, e.term = term, e.top = top, e.universe = universe;
      e.with_term = counts.first;
      e.compounds = counts.second;
      e.in_top = (long long)e.compounds.size();
      e.p_value = hypergeometric_upper_tail(e.in_top, universe, e.with_term, top);
      found.push_back(std::move(e));
    }
    std::vector<double> p;
    for (const auto& e : found) p.push_back(e.p_value);
    const auto adjusted = benjamini_hochberg(p);
    for (std::size_t t = 0; t < found.size(); ++t) found[t].fdr = adjusted[t];
    std::stable_sort(found.begin(), found.end(),
                     [](const TermEnrichment& a, const TermEnrichment& b) { return a.p_value < b.p_value; });
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace tessera::solvers::search
