// PerturbationTable stores only the measured entries: column numbering, set_dense / dense_rows round trips, and
// the error for an entry that was not measured; --normalize l2's scaling.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "engine/error.h"
#include "io/perturbation_table.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

// 2 cell types x 3 perturbations x 2 genes; measured: (A, d1), (A, d3), (B, d2).
PerturbationTable small_table(Eigen::MatrixXd& dense) {
  PerturbationTable t;
  t.genes = {"g1", "g2"};
  t.cells = {"A", "B"};
  t.perts = {"d1", "d2", "d3"};
  t.observed = {1, 0, 1, 0, 1, 0};
  dense.resize(2, 6);
  dense << 1, 2, 3, 4, 5, 6,  //
      7, 8, 9, 10, 11, 12;
  t.set_dense(dense);
  return t;
}

TEST(PerturbationTable, StoresOnlyMeasuredEntriesInEntryOrder) {
  Eigen::MatrixXd dense;
  const PerturbationTable t = small_table(dense);
  EXPECT_EQ(t.num_observed(), 3);
  EXPECT_EQ(t.column_of, (std::vector<std::int64_t>{0, -1, 1, -1, 2, -1}));
  Eigen::MatrixXd expected(2, 3);
  expected << 1, 3, 5, 7, 9, 11;
  EXPECT_TRUE(t.signatures == expected);
  EXPECT_TRUE(t.signature(t.entry(1, 1)) == dense.col(4));
}

TEST(PerturbationTable, DenseRowsPutsZerosWhereNothingWasMeasured) {
  Eigen::MatrixXd dense;
  const PerturbationTable t = small_table(dense);
  Eigen::MatrixXd expected(1, 6);
  expected << 7, 0, 9, 0, 11, 0;
  EXPECT_TRUE(t.dense_rows(1, 1) == expected);
  EXPECT_EQ(t.dense_rows(0, 2).cols(), 6);
}

TEST(PerturbationTable, SignatureOfAnUnmeasuredEntryIsAnError) {
  Eigen::MatrixXd dense;
  PerturbationTable t = small_table(dense);
  tessera::testing::expect_mentions(testing::error_of([&] { (void)t.signature(1); }),
                                    {"perturbation table: entry 1 (in the table) has no measured signature"});
  tessera::testing::expect_mentions(testing::error_of([&] { (void)t.signature(6); }),
                                    {"perturbation table: entry 6 (not in the table) has no measured signature"});
  tessera::testing::expect_mentions(testing::error_of([&] { t.set_dense(Eigen::MatrixXd::Zero(2, 5)); }),
                                    {"perturbation table: dense values are 2 x 5, expected 2 genes x 6 entries"});
}

TEST(PerturbationTable, L2ScalingGivesEveryMeasuredSignatureUnitNorm) {
  Eigen::MatrixXd dense;
  PerturbationTable t = small_table(dense);
  scale_signatures(t, SignatureScaling::kNone);
  EXPECT_TRUE(t.signature(t.entry(0, 0)) == dense.col(0)) << "none leaves the values";
  scale_signatures(t, SignatureScaling::kL2);
  // (1, 7) / sqrt(50), (3, 9) / sqrt(90), (5, 11) / sqrt(146).
  for (const auto& [entry, norm] :
       {std::pair{0, std::sqrt(50.0)}, std::pair{2, std::sqrt(90.0)}, std::pair{4, std::sqrt(146.0)}})
    EXPECT_LT((t.signature(entry) - dense.col(entry) / norm).cwiseAbs().maxCoeff(), 1e-15) << entry;
  EXPECT_EQ(name_table(SignatureScaling{}).choices(), "none | l2");

  t.signature(t.entry(1, 1)).setZero();
  testing::expect_mentions(testing::error_of([&] { scale_signatures(t, SignatureScaling::kL2); }),
                           {"cell type 'B' and perturbation 'd2' has norm 0", "--normalize none"});
}

}  // namespace
}  // namespace tessera::io
