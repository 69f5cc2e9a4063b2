#include "io/perturbation_table.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace tessera::io {

namespace {
std::int64_t find_sorted(const std::vector<std::string>& ids, const std::string& id) {
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return (it != ids.end() && *it == id) ? std::int64_t(it - ids.begin()) : -1;
}

std::int64_t checked_column(const PerturbationTable& table, std::int64_t entry) {
  TESSERA_CHECK(entry >= 0 && entry < std::int64_t(table.column_of.size()) && table.column_of[std::size_t(entry)] >= 0,
                "perturbation table: entry ", entry, " (", entry >= 0 && entry < table.num_entries() ? "" : "not ",
                "in the table) has no measured signature");
  return table.column_of[std::size_t(entry)];
}
}  // namespace

std::int64_t PerturbationTable::find_cell(const std::string& id) const { return find_sorted(cells, id); }
std::int64_t PerturbationTable::find_pert(const std::string& id) const { return find_sorted(perts, id); }

Eigen::MatrixXd::ConstColXpr PerturbationTable::signature(std::int64_t entry) const {
  return signatures.col(checked_column(*this, entry));
}

Eigen::MatrixXd::ColXpr PerturbationTable::signature(std::int64_t entry) {
  return signatures.col(checked_column(*this, entry));
}

void PerturbationTable::index_observed() {
  TESSERA_CHECK(std::int64_t(observed.size()) == num_entries(), "perturbation table: ", observed.size(),
                " observed flags for ", num_cells(), " x ", num_perts(), " entries");
  column_of.assign(observed.size(), -1);
  std::int64_t next = 0;
  for (std::size_t e = 0; e < observed.size(); ++e)
    if (observed[e]) column_of[e] = next++;
  signatures = Eigen::MatrixXd::Zero(num_genes(), next);
}

void PerturbationTable::set_dense(const Eigen::MatrixXd& dense) {
  TESSERA_CHECK(dense.rows() == num_genes() && dense.cols() == num_entries(), "perturbation table: dense values are ",
                dense.rows(), " x ", dense.cols(), ", expected ", num_genes(), " genes x ", num_entries(), " entries");
  index_observed();
  for (std::int64_t e = 0; e < num_entries(); ++e)
    if (column_of[std::size_t(e)] >= 0) signatures.col(column_of[std::size_t(e)]) = dense.col(e);
}

Eigen::MatrixXd PerturbationTable::dense_rows(std::int64_t first_gene, std::int64_t count) const {
  TESSERA_ASSERT(first_gene >= 0 && count >= 0 && first_gene + count <= num_genes());
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(count, num_entries());
  for (std::int64_t e = 0; e < num_entries(); ++e)
    if (column_of[std::size_t(e)] >= 0)
      dense.col(e) = signatures.col(column_of[std::size_t(e)]).segment(first_gene, count);
  return dense;
}

const engine::NameTable<SignatureScaling>& name_table(SignatureScaling) {
  static const engine::NameTable<SignatureScaling> table{{SignatureScaling::kNone, "none"},
                                                         {SignatureScaling::kL2, "l2"}};
  return table;
}

void scale_signatures(PerturbationTable& table, SignatureScaling scaling) {
  if (scaling == SignatureScaling::kNone) return;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!table.observed[std::size_t(e)]) continue;
    auto signature = table.signature(e);
    const double norm = signature.norm();
    TESSERA_CHECK(norm > 0 && std::isfinite(norm), "--normalize l2: the signature of cell type '",
                  table.cells[std::size_t(table.cell_of(e))], "' and perturbation '",
                  table.perts[std::size_t(table.pert_of(e))], "' has norm ", norm,
                  ", so it cannot be scaled to unit norm: drop it from the input or use --normalize none");
    signature /= norm;
  }
}

}  // namespace tessera::io
