// Imputation protocols and fold files (solvers/imputation/protocol.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "engine/error.h"
#include "solvers/imputation/protocol.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::imputation {
namespace {

namespace fs = std::filesystem;

// Cell types with these numbers of observed drugs out of 30 (drug p observed in cell c when (p * 7 + c) % 30 is
// below the count, a scattered pattern). MCF7 is the reference; C_few and C_nine fall under min_drugs = 10.
const std::vector<std::pair<std::string, int>> kCells = {{"C_a", 23},   {"C_b", 12}, {"C_c", 10}, {"C_few", 3},
                                                         {"C_nine", 9}, {"C_z", 30}, {"MCF7", 4}};

io::PerturbationTable make_table() {
  io::PerturbationTable t;
  t.genes = {"g1"};
  for (const auto& [cell, count] : kCells) t.cells.push_back(cell);  // already sorted
  for (int p = 0; p < 30; ++p) {
    char id[8];
    std::snprintf(id, sizeof id, "P%02d", p);
    t.perts.push_back(id);
  }
  t.observed.assign(std::size_t(t.num_entries()), 0);
  for (std::size_t c = 0; c < kCells.size(); ++c)
    for (int p = 0; p < 30; ++p)
      if ((p * 7 + int(c)) % 30 < kCells[c].second) t.observed[std::size_t(t.entry(std::int64_t(c), p))] = 1;
  t.replicates.assign(t.observed.begin(), t.observed.end());
  t.index_observed();
  return t;
}

ProtocolOptions full_options() {
  ProtocolOptions o;
  o.reference_cells = {"MCF7"};
  o.seed = 42;
  return o;
}

using tessera::testing::error_of;
using tessera::testing::expect_mentions;

std::vector<int> labels_of_cell(const io::PerturbationTable& t, const FoldPlan& plan, const std::string& cell) {
  std::vector<int> labels;
  const auto c = t.find_cell(cell);
  for (std::int64_t p = 0; p < t.num_perts(); ++p)
    if (t.observed[std::size_t(t.entry(c, p))]) labels.push_back(plan.fold[std::size_t(t.entry(c, p))]);
  return labels;
}

TEST(Protocol, FullProtocolBalancedFoldsPerCellAndOverall) {
  const auto t = make_table();
  const FoldPlan plan = make_folds(t, full_options());
  EXPECT_EQ(plan.num_folds, 5);
  EXPECT_EQ(plan.dropped_cells, (std::vector<std::string>{"C_few", "C_nine"}));
  ASSERT_EQ(plan.fold.size(), std::size_t(t.num_entries()));
  std::vector<int> overall(5, 0);
  for (const auto& [cell, count] : kCells) {
    const auto labels = labels_of_cell(t, plan, cell);
    ASSERT_EQ(int(labels.size()), count) << cell;
    if (cell == "MCF7") {  // reference: every observed entry trains, none is evaluated
      EXPECT_TRUE(std::all_of(labels.begin(), labels.end(), [](int l) { return l == kTrainOnly; }));
    } else if (cell == "C_few" || cell == "C_nine") {
      EXPECT_TRUE(std::all_of(labels.begin(), labels.end(), [](int l) { return l == kUnused; }));
    } else {
      // Every observed entry of a kept cell in exactly one fold; fold sizes within the cell differ by <= 1.
      std::vector<int> sizes(5, 0);
      for (int l : labels) {
        ASSERT_TRUE(l >= 0 && l < 5) << cell << " label " << l;
        ++sizes[std::size_t(l)];
        ++overall[std::size_t(l)];
      }
      EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()), 1)
          << cell;
    }
  }
  EXPECT_LE(*std::max_element(overall.begin(), overall.end()) - *std::min_element(overall.begin(), overall.end()), 1);
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    if (!t.observed[std::size_t(e)]) {
      EXPECT_EQ(plan.fold[std::size_t(e)], kUnused);
    }
  }
}

TEST(Protocol, TrainMaskAndHeldOutPartitionTheUsableEntries) {
  const auto t = make_table();
  const FoldPlan plan = make_folds(t, full_options());
  std::vector<int> times_held_out(std::size_t(t.num_entries()), 0);
  for (int k = 0; k < plan.num_folds; ++k) {
    const auto mask = train_mask(plan, k);
    const auto held = held_out_entries(plan, k);
    EXPECT_TRUE(std::is_sorted(held.begin(), held.end()));
    for (auto e : held) {
      ++times_held_out[std::size_t(e)];
      EXPECT_EQ(mask[std::size_t(e)], 0);
    }
    for (std::int64_t e = 0; e < t.num_entries(); ++e) {
      const int label = plan.fold[std::size_t(e)];
      EXPECT_EQ(mask[std::size_t(e)], label != kUnused && label != k) << "entry " << e << " fold " << k;
    }
  }
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    EXPECT_EQ(times_held_out[std::size_t(e)], plan.fold[std::size_t(e)] >= 0 ? 1 : 0);
  }
  EXPECT_THROW(train_mask(plan, 5), Error);
  EXPECT_THROW(held_out_entries(plan, -1), Error);
}

TEST(Protocol, SparseProtocolKeepsExactlyBTrainingDrugs) {
  const auto t = make_table();
  ProtocolOptions o = full_options();
  o.protocol = Protocol::kSparse;
  o.sparse_train_drugs = 11;  // C_c (10 drugs) and C_b (12 drugs): only C_b has more than B
  o.min_drugs = 5;
  const FoldPlan plan = make_folds(t, o);
  EXPECT_EQ(plan.num_folds, 1);
  EXPECT_EQ(plan.dropped_cells, (std::vector<std::string>{"C_c", "C_few", "C_nine"}));
  for (const std::string cell : {"C_a", "C_b", "C_z"}) {
    const auto labels = labels_of_cell(t, plan, cell);
    EXPECT_EQ(std::count(labels.begin(), labels.end(), kTrainOnly), 11) << cell;
    EXPECT_EQ(std::count(labels.begin(), labels.end(), 0), std::ptrdiff_t(labels.size()) - 11) << cell;
  }
  const auto mcf7 = labels_of_cell(t, plan, "MCF7");
  EXPECT_EQ(std::count(mcf7.begin(), mcf7.end(), kTrainOnly), 4);
  // Fold 0 trains on every kTrainOnly entry: all cells' B drugs and the reference.
  const auto mask = train_mask(plan, 0);
  EXPECT_EQ(std::count(mask.begin(), mask.end(), 1), 3 * 11 + 4);
}

TEST(Protocol, DeterministicBySeed) {
  const auto t = make_table();
  ProtocolOptions o = full_options();
  const FoldPlan a = make_folds(t, o), b = make_folds(t, o);
  EXPECT_EQ(a.fold, b.fold);
  o.seed = 43;
  EXPECT_NE(make_folds(t, o).fold, a.fold);
  o.protocol = Protocol::kSparse;
  o.sparse_train_drugs = 5;
  EXPECT_EQ(make_folds(t, o).fold, make_folds(t, o).fold);
}

TEST(Protocol, InvalidOptionsAreErrors) {
  const auto t = make_table();
  auto with = [](auto change) {
    ProtocolOptions o;
    change(o);
    return o;
  };
  EXPECT_THROW(name_table(Protocol{}).parse("dense", "--protocol"), Error);
  EXPECT_THROW(with([](ProtocolOptions& o) { o.folds = 1; }).validate(), Error);
  EXPECT_THROW(with([](ProtocolOptions& o) { o.sparse_train_drugs = 0; }).validate(), Error);
  EXPECT_THROW(with([](ProtocolOptions& o) { o.min_drugs = 0; }).validate(), Error);
  EXPECT_THROW(make_folds(t, with([](ProtocolOptions& o) { o.reference_cells = {"HeLa"}; })), Error);
  EXPECT_NO_THROW(ProtocolOptions{}.validate());
}

// Options that drop every cell type used to give an empty plan (a run that exits 0 with empty metrics); they are
// refused, naming the option, the most drugs any evaluable cell type has (C_z: 30; MCF7 is a reference) and the fix.
TEST(Protocol, OptionsThatLeaveNothingToEvaluateAreRefused) {
  const auto t = make_table();
  ProtocolOptions o = full_options();
  o.min_drugs = 31;
  EXPECT_NO_THROW(make_folds(t, [&] {
    auto fine = o;
    fine.min_drugs = 30;
    return fine;
  }()));
  expect_mentions(error_of([&] { make_folds(t, o); }),
                  {"--min-drugs 31 leaves no cell type to evaluate", "is 30 (C_z)", "use --min-drugs 30 or lower"});
  o.min_drugs = 5;
  o.protocol = Protocol::kSparse;
  o.sparse_train_drugs = 30;
  expect_mentions(error_of([&] { make_folds(t, o); }), {"--sparse-train-drugs 30 leaves no cell type to evaluate",
                                                        "is 30 (C_z)", "use --sparse-train-drugs 29 or lower"});
  o.min_drugs = 40;
  expect_mentions(error_of([&] { make_folds(t, o); }),
                  {"--sparse-train-drugs 30 and --min-drugs 40",
                   "use --sparse-train-drugs 29 or lower and --min-drugs 30 or lower"});
  o.protocol = Protocol::kFull;
  o.reference_cells = t.cells;
  expect_mentions(error_of([&] { make_folds(t, o); }), {"is a --reference-cell", "leave at least one out"});
  EXPECT_EQ(error_of([&] {
              ProtocolOptions bad;
              bad.min_drugs = 0;
              bad.validate();
            }).find("--min-drugs 0 is invalid"),
            0u);
}

// A scratch folder, removed at the end of the test.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("tessera_test_protocol_" + std::to_string(::getpid()) + "_" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
};

TEST(FoldFile, RoundTrip) {
  const TempDir dir;
  const auto t = make_table();
  for (const std::string protocol : {"full", "sparse"}) {
    ProtocolOptions o = full_options();
    o.protocol = name_table(Protocol{}).parse(protocol, "protocol");
    o.sparse_train_drugs = 5;
    const FoldPlan plan = make_folds(t, o);
    write_fold_file(dir.path / "folds.csv", t, plan);
    const FoldPlan back = read_fold_file(dir.path / "folds.csv", t);
    EXPECT_EQ(back.fold, plan.fold) << protocol;
    EXPECT_EQ(back.num_folds, plan.num_folds) << protocol;
    EXPECT_EQ(back.dropped_cells, plan.dropped_cells) << protocol;
  }
}

TEST(FoldFile, ReadsListedEntriesOnly) {
  const TempDir dir;
  const auto t = make_table();
  // C_z observes every drug. Extra columns are ignored; unlisted entries are kUnused; cells with nothing listed
  // are dropped.
  const auto path = dir.write("f.csv", "note,cell_id,pert_id,fold\nx,C_z,P00,train\ny,C_z,P03,2\nz,MCF7,P12,0\n");
  const FoldPlan plan = read_fold_file(path, t);
  EXPECT_EQ(plan.num_folds, 3);
  EXPECT_EQ(plan.fold[std::size_t(t.entry(t.find_cell("C_z"), 0))], kTrainOnly);
  EXPECT_EQ(plan.fold[std::size_t(t.entry(t.find_cell("C_z"), 3))], 2);
  EXPECT_EQ(plan.fold[std::size_t(t.entry(t.find_cell("C_z"), 1))], kUnused);
  EXPECT_EQ(std::count_if(plan.fold.begin(), plan.fold.end(), [](int l) { return l != kUnused; }), 3);
  EXPECT_EQ(plan.dropped_cells, (std::vector<std::string>{"C_a", "C_b", "C_c", "C_few", "C_nine"}));
}

// Each bad fold file fails with an Error naming the file, the line and the problem.
TEST(FoldFile, ErrorsNameFileLineAndProblem) {
  const TempDir dir;
  const auto t = make_table();
  // MCF7 observes P00..P03 only when (p * 7 + 6) % 30 < 4: P12 ((84 + 6) % 30 = 0) is observed, P00 is not.
  ASSERT_FALSE(t.observed[std::size_t(t.entry(t.find_cell("MCF7"), 0))]);
  ASSERT_TRUE(t.observed[std::size_t(t.entry(t.find_cell("MCF7"), 12))]);
  const std::string header = "cell_id,pert_id,fold\n";
  const std::string good = "C_z,P00,0\n";
  const std::map<std::string, std::pair<std::string, std::string>> cases = {
      {"unknown_cell", {header + good + "HeLa,P00,1\n", "line 3: unknown cell id 'HeLa'"}},
      {"unknown_pert", {header + good + "C_z,P99,1\n", "line 3: unknown perturbation id 'P99'"}},
      {"unobserved", {header + good + "MCF7,P00,1\n", "line 3: entry (MCF7, P00) is not observed"}},
      {"duplicate", {header + good + "C_z,P01,1\nC_z,P00,train\n", "line 4: duplicate entry (C_z, P00)"}},
      {"negative_fold", {header + good + "C_z,P01,-1\n", "line 3: bad fold value '-1'"}},
      {"text_fold", {header + "C_z,P01,test\n", "line 2: bad fold value 'test'"}},
      {"fractional_fold", {header + "C_z,P01,1.5\n", "line 2: bad fold value '1.5'"}},
      {"empty_fold", {header + "C_z,P01,\n", "line 2: bad fold value ''"}},
      {"missing_column", {"cell_id,pert,fold\nC_z,P01,1\n", "no column 'pert_id'"}},
  };
  for (const auto& [name, content] : cases) {
    const auto path = dir.write(name + ".csv", content.first);
    try {
      read_fold_file(path, t);
      ADD_FAILURE() << name << ": expected an error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path.string()), std::string::npos) << name << ": " << what;
      EXPECT_NE(what.find(content.second), std::string::npos) << name << ": " << what;
    }
  }
  EXPECT_NO_THROW(read_fold_file(dir.write("ok.csv", header + good + "MCF7,P12,train\n"), t));
  // Nothing held out: nothing to evaluate.
  const auto all_train = dir.write("all_train.csv", header + "C_z,P00,train\nMCF7,P12,train\n");
  expect_mentions(error_of([&] { read_fold_file(all_train, t); }),
                  {all_train.string(), "holds no held-out entry (2 rows, every one 'train')", "a fold number 0, 1"});
}

}  // namespace
}  // namespace tessera::solvers::imputation
