// How well imputed signatures match the measured ones (Radhakrishnan et al., PNAS 2022).
//
// Inputs are genes x signatures (Eigen column-major; one column = one held-out table entry's gene vector).
//   pearson      Pearson r over all genes x signatures values pooled together ("global r");
//   mean_r2      mean over signatures of the coefficient of determination across genes,
//                R^2 = 1 - sum_g (y_g - yhat_g)^2 / sum_g (y_g - mean(y))^2, which can be negative;
//   mean_cosine  mean over signatures of y . yhat / (|y| |yhat|);
//   mse          mean over all genes x signatures values of (yhat - y)^2 (GEARS, Roohani et al. 2023);
//   mean_pearson_de  mean over signatures of the Pearson r between y and yhat over the kTopChangedGenes genes with
//                the largest |y| (all genes when there are fewer): the "top 20 DE genes" r of GEARS and of
//                Norman et al. 2019. A table's entries are changes from their context's control, so the genes
//                with the largest |y| are the perturbation's most changed ones; scoring them alone keeps the many
//                unchanged genes from inflating r. Ties in |y| go to the lower gene index (deterministic).
// Undefined cases, chosen so a degenerate signature neither helps nor hides a method:
//   - a signature whose truth is constant across genes has no R^2 (zero denominator): it is left out of
//     mean_r2; a signature whose truth is all zero has no cosine: it is left out of mean_cosine;
//   - a zero prediction of a non-zero truth has cosine 0 (no agreement), not "undefined";
//   - pearson is NaN with fewer than 2 values or when either side is constant; a mean over no signatures is NaN;
//   - a signature whose truth is constant over its top genes (or that has fewer than 2 genes) has no
//     mean_pearson_de r: it is left out; a constant prediction of a non-constant truth there has r = 0 (no
//     agreement, as a zero prediction's cosine), so predicting nothing cannot hide a method's misses;
//   - mse is NaN with no values;
//   - a NaN or infinite prediction is never left out: it makes the metrics it enters NaN.
// num_signatures and num_values count every column and value given, including left-out signatures.
// All functions are local (no MPI).
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tessera::solvers::imputation {

// The number of most changed genes (largest |truth|) mean_pearson_de scores each signature on, as GEARS does.
inline constexpr Eigen::Index kTopChangedGenes = 20;

struct Metrics {
  double pearson = NAN;
  double mean_r2 = NAN;
  double mean_cosine = NAN;
  double mse = NAN;
  double mean_pearson_de = NAN;
  std::int64_t num_signatures = 0;
  std::int64_t num_values = 0;
};

// truth and predicted: genes x signatures, same shape (else tessera::Error).
Metrics compute_metrics(const Eigen::MatrixXd& truth, const Eigen::MatrixXd& predicted);

// R^2, cosine and top-changed-genes r of one signature (NaN where undefined, as above); exposed for tests and
// reports.
double signature_r2(const Eigen::Ref<const Eigen::VectorXd>& truth, const Eigen::Ref<const Eigen::VectorXd>& predicted);
double signature_cosine(const Eigen::Ref<const Eigen::VectorXd>& truth,
                        const Eigen::Ref<const Eigen::VectorXd>& predicted);
double signature_pearson_de(const Eigen::Ref<const Eigen::VectorXd>& truth,
                            const Eigen::Ref<const Eigen::VectorXd>& predicted);
// The rows of the min(kTopChangedGenes, size) largest |truth| values, largest first (ties: lower row first).
std::vector<Eigen::Index> top_changed_genes(const Eigen::Ref<const Eigen::VectorXd>& truth);

// Metrics of a cross-validation run: over all held-out entries, per cell type (in table order, only cell types
// with held-out entries) and per fold (index = fold; a fold without entries keeps the NaN defaults).
struct EvaluationReport {
  Metrics overall;
  std::vector<std::pair<std::string, Metrics>> per_cell;
  std::vector<Metrics> per_fold;
};

// One line: "r=0.812 R2=0.604 cos=0.815 mse=0.0312 r_de20=0.7001 (120 signatures, 117600 values)".
std::string format_metrics(const Metrics& metrics);

}  // namespace tessera::solvers::imputation
