#include "solvers/autoencoder/alignment.h"

#include "engine/error.h"

namespace tessera::solvers::autoencoder {

namespace {

double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double na = a.norm(), nb = b.norm();
  return (na > 0 && nb > 0) ? a.dot(b) / (na * nb) : 0.0;
}

}  // namespace

std::vector<AlignmentRow> alignment_report(const Trainer& model, const io::PerturbationTable& table,
                                           const std::string& cell_a, const std::string& cell_b,
                                           const ProfileScaling& scaling) {
  const std::int64_t a = table.find_cell(cell_a), b = table.find_cell(cell_b);
  TESSERA_CHECK(a >= 0, "alignment: cell type '", cell_a, "' is not in the table");
  TESSERA_CHECK(b >= 0, "alignment: cell type '", cell_b, "' is not in the table");
  TESSERA_CHECK(model.num_genes() == table.num_genes(), "alignment: the model has ", model.num_genes(),
                " genes, the table ", table.num_genes());
  std::vector<std::int64_t> perts;
  for (std::int64_t p = 0; p < table.num_perts(); ++p)
    if (table.observed[std::size_t(table.entry(a, p))] && table.observed[std::size_t(table.entry(b, p))])
      perts.push_back(p);
  std::vector<AlignmentRow> rows;
  if (perts.empty()) return rows;

  const Eigen::Index genes = table.num_genes(), n = Eigen::Index(perts.size());
  Eigen::MatrixXf controls(genes, 2);
  controls.col(0) = table.controls.col(a).cast<float>();
  controls.col(1) = table.controls.col(b).cast<float>();
  Eigen::MatrixXf treated(genes, 2 * n);
  for (Eigen::Index i = 0; i < n; ++i) {
    treated.col(i) = controls.col(0) + table.signature(table.entry(a, perts[std::size_t(i)])).cast<float>();
    treated.col(n + i) = controls.col(1) + table.signature(table.entry(b, perts[std::size_t(i)])).cast<float>();
  }
  const Eigen::MatrixXf control_latent = model.encode(scaling.apply(controls));
  const Eigen::MatrixXf latent = model.encode(scaling.apply(treated));
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::int64_t p = perts[std::size_t(i)];
    AlignmentRow row;
    row.pert = table.perts[std::size_t(p)];
    row.input_cosine = cosine(table.signature(table.entry(a, p)), table.signature(table.entry(b, p)));
    row.latent_cosine = cosine((latent.col(i) - control_latent.col(0)).cast<double>(),
                               (latent.col(n + i) - control_latent.col(1)).cast<double>());
    rows.push_back(row);
  }
  return rows;
}

}  // namespace tessera::solvers::autoencoder
