// aggregate(): signatures -> (cell type x perturbation) table. Runs at 1, 2 and 3 ranks; each rank holds its
// engine::block_range of a tiny hand-made data set, and every answer is checked against hand-computed values
// and against the same call on one rank (MPI_COMM_SELF) to 1e-12.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/aggregate.h"

namespace tessera::io {
namespace {

constexpr double kTol = 1e-12;

// One signature: metadata and its two gene values.
struct Sig {
  const char* id;
  const char* cell;
  const char* pert;
  const char* type;
  const char* dose;
  const char* time;
  float g1, g2;
};

// Cell A: drugX as 2 replicates at 10 uM/24 h, one at 1 uM/24 h, one at 10 uM/6 h; drugY once; an shRNA
// (pert_type trt_sh, neither compound nor control); a vehicle control at 24 h and an untreated one at 6 h.
// Cell B: drugY, drugZ twice, one vehicle control. Cell C: drugX only, no controls.
const std::vector<Sig> kSignatures = {
    {"s0", "A", "drugX", "trt_cp", "10 uM", "24 h", 1, 2},
    {"s1", "A", "drugX", "trt_cp", "10 uM", "24 h", 3, 4},
    {"s2", "A", "drugX", "trt_cp", "1 uM", "24 h", 5, 6},
    {"s3", "A", "drugX", "trt_cp", "10 uM", "6 h", 7, 8},
    {"s4", "A", "drugY", "trt_cp", "1 uM", "6 h", 10, 20},
    {"s5", "A", "DMSO", "ctl_vehicle", "-666", "24 h", 0.5f, 1},
    {"s6", "A", "UNTRT", "ctl_untrt", "-666", "6 h", 1.5f, 1},
    {"s7", "A", "shGENE", "trt_sh", "1 uL", "24 h", 2, 2},
    {"s8", "B", "drugY", "trt_cp", "10 uM", "24 h", 4, 4},
    {"s9", "B", "drugZ", "trt_cp", "10 uM", "24 h", 2, 0},
    {"s10", "B", "drugZ", "trt_cp", "10 uM", "24 h", 4, 2},
    {"s11", "B", "DMSO", "ctl_vehicle", "-666", "24 h", 1, 1},
    {"s12", "C", "drugX", "trt_cp", "10 uM", "24 h", 1, 1},
};

// The whole data set as one genes x signatures matrix with metadata.
struct Dataset {
  MetaTable rows, cols;
  Eigen::MatrixXf values;
};

Dataset make_dataset() {
  Dataset d;
  d.rows.ids = {"g1", "g2"};
  d.rows.set_text("pr_gene_symbol", {"SYM1", "SYM2"});
  std::vector<std::string> cell, pert, type, dose, time;
  d.values.resize(2, Eigen::Index(kSignatures.size()));
  for (std::size_t i = 0; i < kSignatures.size(); ++i) {
    const auto& s = kSignatures[i];
    d.cols.ids.push_back(s.id);
    cell.push_back(s.cell);
    pert.push_back(s.pert);
    type.push_back(s.type);
    dose.push_back(s.dose);
    time.push_back(s.time);
    d.values(0, Eigen::Index(i)) = s.g1;
    d.values(1, Eigen::Index(i)) = s.g2;
  }
  d.cols.set_text("cell_id", cell);
  d.cols.set_text("pert_id", pert);
  d.cols.set_text("pert_type", type);
  d.cols.set_text("pert_idose", dose);
  d.cols.set_text("pert_itime", time);
  return d;
}

// This rank's block of the data set, as read_gctx_local would give it.
LocalGctx<float> local_block(const Dataset& d, const engine::Context& ctx) {
  LocalGctx<float> local;
  local.rows = d.rows;
  local.cols = d.cols;
  local.signatures = engine::block_range(std::int64_t(d.cols.size()), ctx.size(), ctx.rank());
  local.values = d.values.middleCols(local.signatures.begin, local.signatures.size());
  return local;
}

// aggregate() on every rank of the world, and the same call on one rank; checks they agree, returns the former.
PerturbationTable aggregate_checked(const Dataset& d, const AggregationOptions& options) {
  engine::Context world;
  engine::Context self(MPI_COMM_SELF);
  const PerturbationTable table = aggregate(world, local_block(d, world), options, "tiny.gctx");
  const PerturbationTable serial = aggregate(self, local_block(d, self), options, "tiny.gctx");
  EXPECT_EQ(table.cells, serial.cells);
  EXPECT_EQ(table.perts, serial.perts);
  EXPECT_EQ(table.observed, serial.observed);
  EXPECT_EQ(table.replicates, serial.replicates);
  EXPECT_EQ(table.control_counts, serial.control_counts);
  EXPECT_EQ(table.column_of, serial.column_of);
  EXPECT_LE((table.signatures - serial.signatures).cwiseAbs().maxCoeff(), kTol);
  EXPECT_LE((table.controls - serial.controls).cwiseAbs().maxCoeff(), kTol);
  return table;
}

// Checks entry (cell, pert) holds (g1, g2) pooled from `replicates` signatures.
void expect_entry(const PerturbationTable& t, const std::string& cell, const std::string& pert, double g1, double g2,
                  int replicates) {
  const auto c = t.find_cell(cell), p = t.find_pert(pert);
  ASSERT_GE(c, 0) << cell;
  ASSERT_GE(p, 0) << pert;
  const auto e = t.entry(c, p);
  EXPECT_EQ(t.observed[e], 1) << cell << "/" << pert;
  EXPECT_EQ(t.replicates[e], replicates) << cell << "/" << pert;
  EXPECT_NEAR(t.signature(e)(0), g1, kTol) << cell << "/" << pert;
  EXPECT_NEAR(t.signature(e)(1), g2, kTol) << cell << "/" << pert;
}

void expect_missing(const PerturbationTable& t, const std::string& cell, const std::string& pert) {
  const auto e = t.entry(t.find_cell(cell), t.find_pert(pert));
  EXPECT_EQ(t.observed[e], 0) << cell << "/" << pert;
  EXPECT_EQ(t.replicates[e], 0);
  EXPECT_EQ(t.column_of[e], -1);
}

TEST(Aggregate, PoolsEverythingWithoutCentering) {
  AggregationOptions options;
  options.center = ControlCentering::kNone;
  const auto t = aggregate_checked(make_dataset(), options);
  EXPECT_EQ(t.genes, (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ(t.gene_symbols, (std::vector<std::string>{"SYM1", "SYM2"}));
  EXPECT_EQ(t.cells, (std::vector<std::string>{"A", "B", "C"}));
  // Controls (DMSO, UNTRT) are not perturbations; the shRNA is.
  EXPECT_EQ(t.perts, (std::vector<std::string>{"drugX", "drugY", "drugZ", "shGENE"}));
  expect_entry(t, "A", "drugX", (1 + 3 + 5 + 7) / 4.0, (2 + 4 + 6 + 8) / 4.0, 4);
  expect_entry(t, "A", "drugY", 10, 20, 1);
  expect_entry(t, "A", "shGENE", 2, 2, 1);
  expect_missing(t, "A", "drugZ");
  expect_entry(t, "B", "drugY", 4, 4, 1);
  expect_entry(t, "B", "drugZ", 3, 1, 2);
  expect_missing(t, "B", "drugX");
  expect_missing(t, "B", "shGENE");
  expect_entry(t, "C", "drugX", 1, 1, 1);
  EXPECT_EQ(t.num_observed(), 6);
  // Control means: A = mean(s5, s6) = (1, 1); B = s11 = (1, 1); C has none.
  EXPECT_EQ(t.control_counts, (std::vector<int>{2, 1, 0}));
  EXPECT_NEAR(t.controls(0, 0), 1.0, kTol);
  EXPECT_NEAR(t.controls(1, 0), 1.0, kTol);
  EXPECT_NEAR(t.controls(0, 1), 1.0, kTol);
  EXPECT_EQ(t.controls.col(2).norm(), 0.0);
}

TEST(Aggregate, AutoCenteringSubtractsControlMeanWhereThereIsOne) {
  const auto t = aggregate_checked(make_dataset(), AggregationOptions{});  // kAuto
  expect_entry(t, "A", "drugX", 4 - 1, 5 - 1, 4);
  expect_entry(t, "A", "drugY", 10 - 1, 20 - 1, 1);
  expect_entry(t, "A", "shGENE", 2 - 1, 2 - 1, 1);
  expect_entry(t, "B", "drugZ", 3 - 1, 1 - 1, 2);
  expect_entry(t, "C", "drugX", 1, 1, 1);  // no controls: left as is
  expect_missing(t, "A", "drugZ");         // unobserved columns stay zero
}

TEST(Aggregate, RequiredCenteringNamesCellsWithoutControls) {
  AggregationOptions options;
  options.center = ControlCentering::kRequired;
  engine::Context world;
  try {
    aggregate(world, local_block(make_dataset(), world), options, "tiny.gctx");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tiny.gctx"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(": C"), std::string::npos) << e.what();
  }
  // With cell C removed (every cell has controls) the same option centres.
  Dataset d = make_dataset();
  d.cols = d.cols.subset(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  d.values.conservativeResize(Eigen::NoChange, 12);
  const auto t = aggregate_checked(d, options);
  EXPECT_EQ(t.cells, (std::vector<std::string>{"A", "B"}));
  expect_entry(t, "B", "drugY", 3, 3, 1);
}

TEST(Aggregate, DoseFilterKeepsOneDoseAndAllControls) {
  AggregationOptions options;
  options.dose = "10 uM";
  const auto t = aggregate_checked(make_dataset(), options);
  EXPECT_EQ(t.cells, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(t.perts, (std::vector<std::string>{"drugX", "drugY", "drugZ"}));
  // A/drugX = mean(s0, s1, s3) - control mean (1, 1).
  expect_entry(t, "A", "drugX", (1 + 3 + 7) / 3.0 - 1, (2 + 4 + 8) / 3.0 - 1, 3);
  expect_missing(t, "A", "drugY");  // only measured at 1 uM
  expect_entry(t, "B", "drugY", 3, 3, 1);
  EXPECT_EQ(t.control_counts, (std::vector<int>{2, 1, 0}));
}

TEST(Aggregate, TimeFilterAppliesToControlsToo) {
  AggregationOptions options;
  options.time = "24 h";
  const auto t = aggregate_checked(make_dataset(), options);
  EXPECT_EQ(t.perts, (std::vector<std::string>{"drugX", "drugY", "drugZ", "shGENE"}));
  // A's control at 24 h is s5 = (0.5, 1); A/drugX = mean(s0, s1, s2) - s5.
  EXPECT_EQ(t.control_counts, (std::vector<int>{1, 1, 0}));
  EXPECT_NEAR(t.controls(0, 0), 0.5, kTol);
  expect_entry(t, "A", "drugX", 3 - 0.5, 4 - 1, 3);
  expect_entry(t, "A", "shGENE", 2 - 0.5, 2 - 1, 1);
  expect_missing(t, "A", "drugY");
}

TEST(Aggregate, DoseAndTimeTogether) {
  AggregationOptions options;
  options.dose = "10 uM";
  options.time = "6 h";
  const auto t = aggregate_checked(make_dataset(), options);
  EXPECT_EQ(t.cells, (std::vector<std::string>{"A"}));
  EXPECT_EQ(t.perts, (std::vector<std::string>{"drugX"}));
  // s3 - s6 (A's only 6 h control).
  expect_entry(t, "A", "drugX", 7 - 1.5, 8 - 1, 1);
}

TEST(Aggregate, FilterLeavingNothingListsValuesPresent) {
  AggregationOptions options;
  options.dose = "5 uM";
  engine::Context world;
  try {
    aggregate(world, local_block(make_dataset(), world), options, "tiny.gctx");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tiny.gctx"), std::string::npos) << what;
    EXPECT_NE(what.find("'1 uM'"), std::string::npos) << what;
    EXPECT_NE(what.find("'10 uM'"), std::string::npos) << what;
    EXPECT_NE(what.find("'24 h'"), std::string::npos) << what;
    EXPECT_EQ(what.find("'-666"), std::string::npos) << "control doses are not listed: " << what;
  }
}

TEST(Aggregate, MissingFieldNamesFileAndField) {
  engine::Context world;
  for (const std::string field : {"pert_type", "cell_id"}) {
    Dataset d = make_dataset();
    std::erase_if(d.cols.fields, [&](const MetaColumn& f) { return f.name == field; });
    try {
      aggregate(world, local_block(d, world), AggregationOptions{}, "tiny.gctx");
      FAIL() << "expected an error for " << field;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("tiny.gctx"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
  // The dose field is needed only when a dose is chosen.
  Dataset d = make_dataset();
  std::erase_if(d.cols.fields, [](const MetaColumn& f) { return f.name == "pert_idose"; });
  EXPECT_NO_THROW(aggregate(world, local_block(d, world), AggregationOptions{}, "tiny.gctx"));
  AggregationOptions options;
  options.dose = "10 uM";
  try {
    aggregate(world, local_block(d, world), options, "tiny.gctx");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pert_idose"), std::string::npos) << e.what();
  }
}

TEST(Aggregate, NanInUsedSignatureFailsOnEveryRank) {
  engine::Context world;
  Dataset d = make_dataset();
  d.values(1, 9) = std::numeric_limits<float>::quiet_NaN();  // s9: B/drugZ at 10 uM, 24 h
  try {
    aggregate(world, local_block(d, world), AggregationOptions{}, "tiny.gctx");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tiny.gctx"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'s9'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
  // A NaN in a signature the filter drops is harmless.
  AggregationOptions options;
  options.time = "6 h";
  const auto t = aggregate_checked(d, options);
  EXPECT_EQ(t.cells, (std::vector<std::string>{"A"}));
  EXPECT_TRUE(t.signatures.allFinite());
}

TEST(Aggregate, MalformedBlockOnOneRankFailsEveryRank) {
  engine::Context world;
  auto local = local_block(make_dataset(), world);
  if (world.rank() == world.size() - 1) local.values.conservativeResize(Eigen::NoChange, local.values.cols() - 1);
  EXPECT_THROW(aggregate(world, local, AggregationOptions{}, "tiny.gctx"), Error);
}

}  // namespace
}  // namespace tessera::io
