// The combination protocols combo_seen0/1/2 (solvers/imputation/protocol.h) on a hand-made combination screen.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "engine/error.h"
#include "io/combinations.h"
#include "solvers/imputation/protocol.h"
#include "tests/support/test_helpers.h"

namespace tessera::solvers::imputation {
namespace {

using tessera::testing::error_of;
using tessera::testing::expect_mentions;

const std::vector<std::string> kDrawn = {"A", "B", "C", "D"};  // the parts of the combinations

// Cell types R (a reference in some tests), X and Y. Perturbations: singles A, B, C, D; S, a single that is no part
// of any combination; the six pairs of A..D; the triple A+B+C. X and Y observe all 12; R observes A, B and A+B.
io::PerturbationTable make_screen() {
  io::PerturbationTable t;
  t.genes = {"g1"};
  t.cells = {"R", "X", "Y"};
  t.perts = {"A", "B", "C", "D", "S", "A+B+C"};
  for (std::size_t i = 0; i < kDrawn.size(); ++i)
    for (std::size_t j = i + 1; j < kDrawn.size(); ++j) t.perts.push_back(kDrawn[i] + "+" + kDrawn[j]);
  std::sort(t.perts.begin(), t.perts.end());
  t.observed.assign(std::size_t(t.num_entries()), 0);
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    const std::string& pert = t.perts[std::size_t(t.pert_of(e))];
    t.observed[std::size_t(e)] = t.cell_of(e) != 0 || pert == "A" || pert == "B" || pert == "A+B";
  }
  t.replicates.assign(t.observed.begin(), t.observed.end());
  t.index_observed();
  return t;
}

ProtocolOptions combo(Protocol protocol, double singles, double seen2, std::uint64_t seed = 42) {
  ProtocolOptions o;
  o.protocol = protocol;
  o.train_singles_fraction = singles;
  o.train_seen2_fraction = seen2;
  o.seed = seed;
  return o;
}

// The training singles of a plan: the drawn parts whose entry in X trains (the split is by perturbation).
std::set<std::string> training_singles(const io::PerturbationTable& t, const FoldPlan& plan) {
  std::set<std::string> singles;
  for (const auto& s : kDrawn)
    if (plan.fold[std::size_t(t.entry(t.find_cell("X"), t.find_pert(s)))] == kTrainOnly) singles.insert(s);
  return singles;
}

// The seen2 pairs drawn to train, read from X.
std::set<std::string> training_pairs(const io::PerturbationTable& t, const FoldPlan& plan) {
  std::set<std::string> pairs;
  for (const auto& p : t.perts)
    if (io::is_combination(p) && plan.fold[std::size_t(t.entry(t.find_cell("X"), t.find_pert(p)))] == kTrainOnly)
      pairs.insert(p);
  return pairs;
}

// Brute force: the label protocol.h gives entry (c, p), from the training singles and training pairs of the draw.
int expected_label(const io::PerturbationTable& t, std::int64_t e, int k, const std::set<std::string>& singles,
                   const std::set<std::string>& pairs, bool r_is_reference) {
  if (!t.observed[std::size_t(e)]) return kUnused;
  if (r_is_reference && t.cell_of(e) == 0) return kTrainOnly;
  const std::string& pert = t.perts[std::size_t(t.pert_of(e))];
  if (pert == "S") return kTrainOnly;
  const auto parts = io::combination_parts(pert);
  if (parts.size() == 1) return singles.count(pert) ? kTrainOnly : kUnused;
  if (parts.size() > 2) return kUnused;
  const int trained = int(singles.count(parts[0]) + singles.count(parts[1]));
  if (pairs.count(pert)) return kTrainOnly;
  return trained == k ? 0 : kUnused;
}

// The entries of X and Y with this label (R's are checked by expected_label).
std::ptrdiff_t count_label(const io::PerturbationTable& t, const FoldPlan& plan, int label) {
  std::ptrdiff_t count = 0;
  for (std::int64_t e = 0; e < t.num_entries(); ++e) count += t.cell_of(e) != 0 && plan.fold[std::size_t(e)] == label;
  return count;
}

// Training 2 of the 4 drawn singles makes, whichever 2 they are, 1 seen0 pair, 4 seen1 pairs and 1 seen2 pair;
// train_seen2_fraction 0.4 rounds 0.4 of 1 down to 0, so the seen2 pair is held out. Each pair is observed in X and
// Y; R observes only A, B and A+B, and is checked entry by entry, as a reference and not.
TEST(ComboProtocol, CountsAndLabelsOfEachSeenClass) {
  const auto t = make_screen();
  const std::vector<std::pair<Protocol, std::ptrdiff_t>> held_out = {
      {Protocol::kComboSeen0, 1 * 2}, {Protocol::kComboSeen1, 4 * 2}, {Protocol::kComboSeen2, 1 * 2}};
  for (const auto& [protocol, expected_held_out] : held_out) {
    for (const bool reference : {false, true}) {
      ProtocolOptions o = combo(protocol, 0.5, 0.4);
      if (reference) o.reference_cells = {"R"};
      const FoldPlan plan = make_folds(t, o);
      const int k = int(protocol) - int(Protocol::kComboSeen0);
      EXPECT_EQ(plan.num_folds, 1);
      EXPECT_TRUE(plan.dropped_cells.empty());
      const auto singles = training_singles(t, plan);
      EXPECT_EQ(singles.size(), 2u) << k;
      EXPECT_TRUE(training_pairs(t, plan).empty()) << k;
      EXPECT_EQ(count_label(t, plan, 0), expected_held_out) << k;
      EXPECT_EQ(count_label(t, plan, kTrainOnly), 3 * 2) << k;  // the 2 training singles and S in X and Y
      for (std::int64_t e = 0; e < t.num_entries(); ++e)
        EXPECT_EQ(plan.fold[std::size_t(e)], expected_label(t, e, k, singles, {}, reference))
            << "protocol " << k << " reference " << reference << " entry " << t.cells[std::size_t(t.cell_of(e))] << "/"
            << t.perts[std::size_t(t.pert_of(e))];
    }
  }
}

// The defaults: 3 of 4 singles train (0.75 * 4), giving 3 seen1 and 3 seen2 pairs and no seen0 pair; 2 of the 3 seen2
// pairs train (0.75 * 3 = 2.25 rounds to 2). The three protocols share that draw.
TEST(ComboProtocol, DefaultFractionsAndOneDrawForAllThree) {
  const auto t = make_screen();
  const FoldPlan seen1 = make_folds(t, combo(Protocol::kComboSeen1, 0.75, 0.75));
  const FoldPlan seen2 = make_folds(t, combo(Protocol::kComboSeen2, 0.75, 0.75));
  const auto singles = training_singles(t, seen1);
  const auto pairs = training_pairs(t, seen1);
  EXPECT_EQ(singles.size(), 3u);
  EXPECT_EQ(pairs.size(), 2u);
  EXPECT_EQ(training_singles(t, seen2), singles);
  EXPECT_EQ(training_pairs(t, seen2), pairs);
  EXPECT_EQ(train_mask(seen1, 0), train_mask(seen2, 0));
  EXPECT_EQ(count_label(t, seen1, 0), 3 * 2);
  EXPECT_EQ(count_label(t, seen2, 0), 1 * 2);
  for (std::int64_t e = 0; e < t.num_entries(); ++e) {
    EXPECT_EQ(seen1.fold[std::size_t(e)], expected_label(t, e, 1, singles, pairs, false)) << e;
    EXPECT_EQ(seen2.fold[std::size_t(e)], expected_label(t, e, 2, singles, pairs, false)) << e;
  }
  // The triple is never used, and the pairs drawn to train are pairs of training singles.
  for (const auto& cell : t.cells)
    EXPECT_EQ(seen2.fold[std::size_t(t.entry(t.find_cell(cell), t.find_pert("A+B+C")))], kUnused);
  for (const auto& pair : pairs)
    for (const auto& part : io::combination_parts(pair)) EXPECT_TRUE(singles.count(part)) << pair;
}

TEST(ComboProtocol, DeterministicBySeedAndTheSeedChangesTheDraw) {
  const auto t = make_screen();
  for (const auto protocol : {Protocol::kComboSeen1, Protocol::kComboSeen2}) {
    EXPECT_EQ(make_folds(t, combo(protocol, 0.75, 0.75, 7)).fold, make_folds(t, combo(protocol, 0.75, 0.75, 7)).fold);
  }
  // 4 ways to choose 3 of 4 singles, then 3 ways to choose 2 of the 3 seen2 pairs: seeds 1..12 see several.
  std::set<std::set<std::string>> single_draws, pair_draws;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const FoldPlan plan = make_folds(t, combo(Protocol::kComboSeen2, 0.75, 0.75, seed));
    single_draws.insert(training_singles(t, plan));
    pair_draws.insert(training_pairs(t, plan));
  }
  EXPECT_GE(single_draws.size(), 3u);
  EXPECT_GE(pair_draws.size(), 4u);
}

TEST(ComboProtocol, SplitsThatHoldOutNothingAreRefused) {
  const auto t = make_screen();
  // 3 of 4 singles train: no pair has 0 training parts.
  expect_mentions(error_of([&] { make_folds(t, combo(Protocol::kComboSeen0, 0.75, 0.75)); }),
                  {"--protocol combo_seen0 holds out nothing: none of the 6 two-part combinations has exactly 0 of "
                   "its parts among the 3 training singles drawn (--train-singles-fraction 0.75 of the 4 singles "
                   "that are parts of combinations); lower --train-singles-fraction"});
  EXPECT_EQ(count_label(t, make_folds(t, combo(Protocol::kComboSeen0, 0.0, 0.75)), 0), 6 * 2);
  // Every seen2 pair drawn to train.
  expect_mentions(error_of([&] { make_folds(t, combo(Protocol::kComboSeen2, 0.75, 1.0)); }),
                  {"--protocol combo_seen2 holds out nothing: --train-seen2-fraction 1 trains all 3 combinations "
                   "with both parts among the 3 training singles drawn",
                   "lower --train-seen2-fraction"});
  // No training single: no seen2 pair.
  expect_mentions(error_of([&] { make_folds(t, combo(Protocol::kComboSeen2, 0.0, 0.75)); }),
                  {"none of the 6 two-part combinations has exactly 2 of its parts among the 0 training singles",
                   "raise --train-singles-fraction"});
  // Every single trains: no seen1 pair.
  expect_mentions(error_of([&] { make_folds(t, combo(Protocol::kComboSeen1, 1.0, 0.75)); }),
                  {"--protocol combo_seen1 holds out nothing", "a --train-singles-fraction nearer 0.5"});
  // Held-out pairs observed only in reference cell types.
  ProtocolOptions all_reference = combo(Protocol::kComboSeen1, 0.75, 0.75);
  all_reference.reference_cells = t.cells;
  expect_mentions(error_of([&] { make_folds(t, all_reference); }),
                  {"--protocol combo_seen1 holds out nothing", "observed only in --reference-cell cell types"});
}

TEST(ComboProtocol, TablesWithoutPairsAndBadNamesAreRefused) {
  auto t = make_screen();
  // Singles only (the combination columns unobserved).
  auto singles_only = t;
  for (std::int64_t e = 0; e < t.num_entries(); ++e)
    if (io::is_combination(t.perts[std::size_t(t.pert_of(e))])) singles_only.observed[std::size_t(e)] = 0;
  singles_only.index_observed();
  expect_mentions(error_of([&] { make_folds(singles_only, combo(Protocol::kComboSeen1, 0.75, 0.75)); }),
                  {"--protocol combo_seen1 holds out combinations of perturbations", "none of the table's 12",
                   "use --protocol full or sparse"});
  // The triple alone.
  auto triple_only = singles_only;
  for (std::int64_t c = 0; c < t.num_cells(); ++c)
    triple_only.observed[std::size_t(t.entry(c, t.find_pert("A+B+C")))] = 1;
  triple_only.index_observed();
  expect_mentions(error_of([&] { make_folds(triple_only, combo(Protocol::kComboSeen2, 0.75, 0.75)); }),
                  {"no combination of exactly two parts"});
  // An empty part.
  auto bad = t;
  bad.perts[std::size_t(t.find_pert("A+B+C"))] = "A+B+";  // still sorted
  ASSERT_TRUE(std::is_sorted(bad.perts.begin(), bad.perts.end()));
  expect_mentions(error_of([&] { make_folds(bad, combo(Protocol::kComboSeen1, 0.75, 0.75)); }),
                  {"--protocol combo_seen1: perturbation 'A+B+' has an empty part", "joined by single '+' signs"});
}

TEST(ComboProtocol, OptionsNamesAndRanges) {
  EXPECT_EQ(name_table(Protocol{}).parse("combo_seen0", "--protocol"), Protocol::kComboSeen0);
  EXPECT_EQ(name_table(Protocol{}).parse("combo_seen1", "--protocol"), Protocol::kComboSeen1);
  EXPECT_EQ(name_table(Protocol{}).parse("combo_seen2", "--protocol"), Protocol::kComboSeen2);
  ProtocolOptions o;
  EXPECT_EQ(o.train_singles_fraction, 0.75);
  EXPECT_EQ(o.train_seen2_fraction, 0.75);
  o.train_singles_fraction = 1.5;
  expect_mentions(error_of([&] { o.validate(); }), {"--train-singles-fraction 1.5 is invalid"});
  o.train_singles_fraction = 0.75;
  o.train_seen2_fraction = -0.1;
  expect_mentions(error_of([&] { o.validate(); }), {"--train-seen2-fraction -0.1 is invalid"});
}

}  // namespace
}  // namespace tessera::solvers::imputation
