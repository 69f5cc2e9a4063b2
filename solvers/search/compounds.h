// From signatures to drugs: each compound's calibrated connectivity summarised over its signatures (cell lines,
// doses, times, observed or imputed), its annotations (name, targets, mechanism of action) from a LINCS
// compound table, and which targets and mechanisms are over-represented among the top compounds.
//
// Summary (CMap's "maximum quantile" across cell lines, Subramanian et al. 2017): the 33rd and 67th percentiles
// q33, q67 of the compound's NCS values; the summary is q67 when |q67| >= |q33|, else q33. One strong cell line
// among many indifferent ones does not make a compound a hit; a consistent effect does. Compounds are ordered
// by summary ascending (most negative first: the strongest reversal of the query), ties by pert_id.
//
// Enrichment: among the top N compounds of that order, each target (and each MOA) is tested by the
// hypergeometric upper tail against the compounds of the ranking that carry at least one annotation of that
// kind; p-values are BH-adjusted within each kind.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "solvers/search/library.h"

namespace tessera::solvers::search {

struct CompoundSummary {
  std::string pert_id;
  std::string name;  // pert_iname of its signatures, or the compound table's cmap_name
  int signatures = 0, imputed = 0, cells = 0;
  double q33 = 0, q67 = 0, summary = 0;
  std::int64_t strongest = -1;  // the signature with the most negative NCS
};

// One per pert_id of the library (signatures without one are left out), ordered as above. ncs: per signature,
// library order.
std::vector<CompoundSummary> summarize_compounds(const Library& library, std::span<const double> ncs);

struct CompoundAnnotation {
  std::string name;
  std::vector<std::string> targets, moas;  // sorted, unique
};
using CompoundTable = std::map<std::string, CompoundAnnotation>;  // by pert_id

// LINCS compoundinfo_beta.txt, read as io::read_side_table reads it (tab-separated; pert_id, cmap_name, target,
// moa; other columns ignored; several rows per compound, one per target). Empty and "-666" cells are missing.
// Errors name the file, and the line or the missing column.
CompoundTable read_compound_table(const std::filesystem::path& path);

struct TermEnrichment {
  std::string kind;  // "target" or "moa"
  std::string term;
  long long in_top = 0, top = 0, with_term = 0, universe = 0;
  double p_value = 1, fdr = 1;
  std::vector<std::string> compounds;  // of the top that carry the term
};

// ranked: pert_ids in ranking order; top_n: how many of them form the top set. Terms carried by no top compound
// are tested too (p = 1) so that the FDR counts every term. Ordered by kind, then p-value, then term.
std::vector<TermEnrichment> enrich_terms(std::span<const std::string> ranked, const CompoundTable& table,
                                         std::size_t top_n);

}  // namespace tessera::solvers::search
