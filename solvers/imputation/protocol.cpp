#include "solvers/imputation/protocol.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/random.h"
#include "io/combinations.h"
#include "io/csv.h"

namespace tessera::solvers::imputation {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// The observed perturbations of one cell type, ascending.
std::vector<std::int64_t> observed_perts(const io::PerturbationTable& table, std::int64_t cell) {
  std::vector<std::int64_t> perts;
  for (std::int64_t p = 0; p < table.num_perts(); ++p)
    if (table.observed[std::size_t(table.entry(cell, p))]) perts.push_back(p);
  return perts;
}

void check_fold(const FoldPlan& plan, int fold) {
  TESSERA_CHECK(fold >= 0 && fold < plan.num_folds, "fold ", fold, " is out of range: the plan has ", plan.num_folds,
                " folds");
}

// "train" -> kTrainOnly; a whole non-negative integer -> itself; anything else -> kUnused (invalid).
int parse_fold(const std::string& text) {
  if (text == "train") return kTrainOnly;
  int value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size() || value < 0) return kUnused;
  return value;
}

// A run whose options leave no cell type to evaluate would write empty metrics and completed tables: refuse it
// before anything is written, naming the option to change and the value that works. most_drugs: the most observed
// drugs of a cell type that is not a reference (-1 when there is none).
[[noreturn]] void fail_nothing_to_evaluate(const io::PerturbationTable& table, const ProtocolOptions& options,
                                           std::int64_t most_drugs, std::int64_t most_drugs_cell) {
  TESSERA_CHECK(most_drugs >= 0, "every cell type of the table (", join(table.cells),
                ") is a --reference-cell, so no cell type is left to evaluate: leave at least one out of "
                "--reference-cell");
  TESSERA_CHECK(most_drugs > 0,
                "no cell type outside --reference-cell has an observed perturbation, so none can "
                "be evaluated: check --cell-field, --pert-field, --dose and --time");
  const std::string& best = table.cells[std::size_t(most_drugs_cell)];
  if (options.protocol == Protocol::kSparse) {
    // A cell type needs its B training drugs, at least one drug held out, and min_drugs in any case.
    TESSERA_CHECK(most_drugs >= 2,
                  "the sparse protocol needs a cell type with at least 2 observed drugs (1 to train, "
                  "1 to hold out), and the most any cell type has is 1 (",
                  best, "): use --protocol full or more data");
    std::string options_named, fix;
    if (options.sparse_train_drugs >= most_drugs) {
      options_named = "--sparse-train-drugs " + std::to_string(options.sparse_train_drugs);
      fix = "--sparse-train-drugs " + std::to_string(most_drugs - 1) + " or lower";
    }
    if (options.min_drugs > most_drugs) {
      options_named += (options_named.empty() ? "" : " and ") + ("--min-drugs " + std::to_string(options.min_drugs));
      fix += (fix.empty() ? "" : " and ") + ("--min-drugs " + std::to_string(most_drugs) + " or lower");
    }
    TESSERA_FAIL(options_named,
                 " leaves no cell type to evaluate: the sparse protocol needs more observed drugs than "
                 "--sparse-train-drugs and at least --min-drugs, and the most any cell type has is ",
                 most_drugs, " (", best, "); use ", fix);
  }
  TESSERA_FAIL("--min-drugs ", options.min_drugs,
               " leaves no cell type to evaluate: the most observed drugs of any "
               "cell type is ",
               most_drugs, " (", best, "); use --min-drugs ", most_drugs, " or lower");
}

// Per cell type: true for the reference cell types of `options` (an Error for one not in the table).
std::vector<bool> reference_flags(const io::PerturbationTable& table, const ProtocolOptions& options) {
  std::vector<bool> is_reference(table.cells.size(), false);
  for (const auto& id : options.reference_cells) {
    const std::int64_t cell = table.find_cell(id);
    TESSERA_CHECK(cell >= 0, "reference cell type '", id, "' is not in the table (cell types: ", join(table.cells),
                  ")");
    is_reference[std::size_t(cell)] = true;
  }
  return is_reference;
}

// round(fraction * count), halves up: the share of a list a fraction knob selects.
std::size_t share(double fraction, std::size_t count) {
  return std::size_t(std::floor(fraction * double(count) + 0.5));
}

// The K of a combo protocol.
int seen_parts(Protocol protocol) {
  return protocol == Protocol::kComboSeen0 ? 0 : protocol == Protocol::kComboSeen1 ? 1 : 2;
}

// What one draw of the combination split decided, per perturbation of the table.
struct ComboSplit {
  enum class Role { kTrain, kHeldOut, kUnused };
  std::vector<Role> role;  // per perturbation
  std::size_t num_singles = 0, num_training_singles = 0;
  std::size_t num_pairs = 0;    // observed two-part combinations
  std::size_t seen[3] = {};     // of them, with 0, 1 and 2 training parts
  std::size_t seen2_train = 0;  // seen2 combinations drawn to train
};

ComboSplit draw_combo_split(const io::PerturbationTable& table, const ProtocolOptions& options) {
  const int k = seen_parts(options.protocol);
  std::vector<bool> observed_pert(table.perts.size(), false);
  for (std::int64_t e = 0; e < table.num_entries(); ++e)
    if (table.observed[std::size_t(e)]) observed_pert[std::size_t(table.pert_of(e))] = true;

  // The singles to draw from: the distinct parts of the observed combinations, in name order.
  std::vector<std::vector<std::string>> parts_of(table.perts.size());
  std::set<std::string> combination_parts;
  std::size_t num_combinations = 0;
  for (std::size_t p = 0; p < table.perts.size(); ++p) {
    if (!observed_pert[p] || !io::is_combination(table.perts[p])) continue;
    parts_of[p] = io::combination_parts(table.perts[p]);
    for (const auto& part : parts_of[p]) {
      TESSERA_CHECK(!part.empty(), "--protocol ", name_table(options.protocol).name(options.protocol),
                    ": perturbation '", table.perts[p],
                    "' has an empty part; name a combination by its parts joined by single '+' signs (\"A+B\")");
      combination_parts.insert(part);
    }
    ++num_combinations;
  }
  TESSERA_CHECK(num_combinations > 0, "--protocol ", name_table(options.protocol).name(options.protocol),
                " holds out combinations of perturbations (ids such as \"A+B\"), but none of the table's ",
                table.perts.size(),
                " perturbations is an observed combination: use --protocol full or sparse for a screen of single "
                "perturbations");

  ComboSplit split;
  std::vector<std::string> singles(combination_parts.begin(), combination_parts.end());
  engine::RandomStream(options.seed, "combo/singles").shuffle(singles);
  split.num_singles = singles.size();
  split.num_training_singles = share(options.train_singles_fraction, singles.size());
  const std::set<std::string> training(singles.begin(), singles.begin() + std::ptrdiff_t(split.num_training_singles));

  using Role = ComboSplit::Role;
  split.role.assign(table.perts.size(), Role::kUnused);
  std::vector<std::size_t> seen2;  // perturbation indices, ascending
  for (std::size_t p = 0; p < table.perts.size(); ++p) {
    if (!observed_pert[p]) continue;
    if (!io::is_combination(table.perts[p])) {
      const bool drawn_from = combination_parts.count(table.perts[p]) > 0;
      split.role[p] = !drawn_from || training.count(table.perts[p]) ? Role::kTrain : Role::kUnused;
      continue;
    }
    if (parts_of[p].size() != 2) continue;  // three or more parts: left out
    ++split.num_pairs;
    const int trained = int(training.count(parts_of[p][0]) + training.count(parts_of[p][1]));
    ++split.seen[trained];
    if (trained == 2)
      seen2.push_back(p);
    else if (trained == k)
      split.role[p] = Role::kHeldOut;
  }
  engine::RandomStream(options.seed, "combo/seen2").shuffle(seen2);
  split.seen2_train = share(options.train_seen2_fraction, seen2.size());
  for (std::size_t i = 0; i < seen2.size(); ++i)
    split.role[seen2[i]] = i < split.seen2_train ? Role::kTrain : k == 2 ? Role::kHeldOut : Role::kUnused;
  return split;
}

// A combo split that holds out no entry: say which count came out empty and which option to change.
[[noreturn]] void fail_combo_holds_out_nothing(const ProtocolOptions& options, const ComboSplit& split) {
  const int k = seen_parts(options.protocol);
  const std::string name(name_table(options.protocol).name(options.protocol));
  const std::string drawn = std::to_string(split.num_training_singles) + " training singles drawn (" +
                            "--train-singles-fraction " + engine::value_text(options.train_singles_fraction) +
                            " of the " + std::to_string(split.num_singles) + " singles that are parts of combinations)";
  const std::size_t candidates = k == 2 ? split.seen[2] - split.seen2_train : split.seen[k];
  TESSERA_CHECK(candidates == 0, "--protocol ", name,
                " holds out nothing: every held-out combination is observed only in --reference-cell cell types, "
                "which always train; leave a cell type that observes them out of --reference-cell");
  TESSERA_CHECK(split.num_pairs > 0, "--protocol ", name,
                " holds out nothing: the table has no combination of exactly two parts, and the combo protocols "
                "leave combinations of three or more parts out; use --protocol full or sparse");
  if (k == 2 && split.seen[2] > 0) {
    TESSERA_FAIL("--protocol combo_seen2 holds out nothing: --train-seen2-fraction ",
                 engine::value_text(options.train_seen2_fraction), " trains all ", split.seen[2],
                 " combinations with both parts among the ", drawn, "; lower --train-seen2-fraction");
  }
  const char* fix = k == 0   ? "lower --train-singles-fraction"
                    : k == 2 ? "raise --train-singles-fraction"
                             : "use a --train-singles-fraction nearer 0.5 or another --seed";
  TESSERA_FAIL("--protocol ", name, " holds out nothing: none of the ", split.num_pairs,
               " two-part combinations has exactly ", k, " of its parts among the ", drawn, "; ", fix);
}

// The combo_seen0/1/2 protocols (protocol.h).
FoldPlan make_combo_folds(const io::PerturbationTable& table, const ProtocolOptions& options,
                          const std::vector<bool>& is_reference) {
  const ComboSplit split = draw_combo_split(table, options);
  FoldPlan plan;
  plan.num_folds = 1;
  plan.fold.assign(std::size_t(table.num_entries()), kUnused);
  bool held_out_any = false;
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    if (!table.observed[std::size_t(e)]) continue;
    const auto role = split.role[std::size_t(table.pert_of(e))];
    int& label = plan.fold[std::size_t(e)];
    if (is_reference[std::size_t(table.cell_of(e))] || role == ComboSplit::Role::kTrain) {
      label = kTrainOnly;
    } else if (role == ComboSplit::Role::kHeldOut) {
      label = 0;
      held_out_any = true;
    }
  }
  if (!held_out_any) fail_combo_holds_out_nothing(options, split);
  engine::info("imputation protocol '", name_table(options.protocol).name(options.protocol),
               "': ", split.num_training_singles, " of ", split.num_singles,
               " combination parts are training singles; two-part combinations seen0/seen1/seen2: ", split.seen[0], "/",
               split.seen[1], "/", split.seen[2], " (", split.seen2_train, " seen2 train)");
  return plan;
}

}  // namespace

const engine::NameTable<Protocol>& name_table(Protocol) {
  static const engine::NameTable<Protocol> table{{Protocol::kFull, "full"},
                                                 {Protocol::kSparse, "sparse"},
                                                 {Protocol::kComboSeen0, "combo_seen0"},
                                                 {Protocol::kComboSeen1, "combo_seen1"},
                                                 {Protocol::kComboSeen2, "combo_seen2"}};
  return table;
}

FoldPlan make_folds(const io::PerturbationTable& table, const ProtocolOptions& options) {
  options.validate();
  TESSERA_CHECK(table.observed.size() == std::size_t(table.num_entries()), "make_folds: table has ",
                table.observed.size(), " observed flags for ", table.num_entries(), " entries");
  const std::vector<bool> is_reference = reference_flags(table, options);
  if (options.protocol != Protocol::kFull && options.protocol != Protocol::kSparse)
    return make_combo_folds(table, options, is_reference);
  const bool sparse = options.protocol == Protocol::kSparse;
  const std::int64_t min_drugs =
      sparse ? std::max<std::int64_t>(options.min_drugs, std::int64_t(options.sparse_train_drugs) + 1)
             : options.min_drugs;

  FoldPlan plan;
  plan.num_folds = sparse ? 1 : options.folds;
  plan.fold.assign(std::size_t(table.num_entries()), kUnused);
  std::int64_t dealt = 0;  // entries dealt so far by the full protocol: where the next cell type's deal starts
  std::int64_t most_drugs = -1, most_drugs_cell = -1;  // the best-observed cell type that may be evaluated
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    std::vector<std::int64_t> perts = observed_perts(table, c);
    if (is_reference[std::size_t(c)]) {
      for (auto p : perts) plan.fold[std::size_t(table.entry(c, p))] = kTrainOnly;
      continue;
    }
    if (std::int64_t(perts.size()) > most_drugs) most_drugs = std::int64_t(perts.size()), most_drugs_cell = c;
    if (std::int64_t(perts.size()) < min_drugs) {
      plan.dropped_cells.push_back(table.cells[std::size_t(c)]);
      continue;
    }
    engine::RandomStream stream(options.seed, "folds", engine::stable_hash(table.cells[std::size_t(c)]));
    stream.shuffle(perts);
    for (std::size_t i = 0; i < perts.size(); ++i) {
      int label = 0;
      if (sparse)
        label = i < std::size_t(options.sparse_train_drugs) ? kTrainOnly : 0;
      else
        label = int((dealt + std::int64_t(i)) % options.folds);
      plan.fold[std::size_t(table.entry(c, perts[i]))] = label;
    }
    dealt += std::int64_t(perts.size());
  }
  if (dealt == 0) fail_nothing_to_evaluate(table, options, most_drugs, most_drugs_cell);
  if (!plan.dropped_cells.empty()) {
    engine::warn("imputation protocol '", name_table(options.protocol).name(options.protocol), "': dropped ",
                 plan.dropped_cells.size(), " cell type(s) with fewer than ", min_drugs,
                 " observed drugs: ", join(plan.dropped_cells));
  }
  return plan;
}

FoldPlan read_fold_file(const std::filesystem::path& path, const io::PerturbationTable& table) {
  const io::CsvTable csv = io::read_csv(path);
  const std::string where = "fold file '" + path.string() + "'";
  const std::size_t cell_column = csv.column("cell_id", where);
  const std::size_t pert_column = csv.column("pert_id", where);
  const std::size_t fold_column = csv.column("fold", where);

  FoldPlan plan;
  plan.fold.assign(std::size_t(table.num_entries()), kUnused);
  std::vector<int> listed_line(plan.fold.size(), 0);
  int max_fold = -1;
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const auto& row = csv.rows[r];
    const int line = r < csv.line_numbers.size() ? csv.line_numbers[r] : int(r) + 2;
    const std::string& cell_id = row[cell_column];
    const std::string& pert_id = row[pert_column];
    const std::int64_t cell = table.find_cell(cell_id);
    TESSERA_CHECK(cell >= 0, where, ", line ", line, ": unknown cell id '", cell_id, "' (not in the table)");
    const std::int64_t pert = table.find_pert(pert_id);
    TESSERA_CHECK(pert >= 0, where, ", line ", line, ": unknown perturbation id '", pert_id, "' (not in the table)");
    const std::size_t entry = std::size_t(table.entry(cell, pert));
    TESSERA_CHECK(table.observed[entry], where, ", line ", line, ": entry (", cell_id, ", ", pert_id,
                  ") is not observed in the table, so it cannot train or be evaluated");
    TESSERA_CHECK(listed_line[entry] == 0, where, ", line ", line, ": duplicate entry (", cell_id, ", ", pert_id,
                  "), first listed on line ", listed_line[entry]);
    const int label = parse_fold(row[fold_column]);
    TESSERA_CHECK(label != kUnused, where, ", line ", line, ": bad fold value '", row[fold_column],
                  "': use an integer >= 0 or 'train'");
    listed_line[entry] = line;
    plan.fold[entry] = label;
    max_fold = std::max(max_fold, label);
  }
  TESSERA_CHECK(max_fold >= 0, where, " holds no held-out entry (", csv.rows.size(),
                " rows, every one 'train'), so "
                "nothing can be evaluated: give the entries to hold out a fold number 0, 1, ...");
  plan.num_folds = max_fold + 1;
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    const auto perts = observed_perts(table, c);
    const bool any_listed = std::any_of(perts.begin(), perts.end(), [&](std::int64_t p) {
      return plan.fold[std::size_t(table.entry(c, p))] != kUnused;
    });
    if (!perts.empty() && !any_listed) plan.dropped_cells.push_back(table.cells[std::size_t(c)]);
  }
  return plan;
}

void write_fold_file(const std::filesystem::path& path, const io::PerturbationTable& table, const FoldPlan& plan) {
  TESSERA_CHECK(plan.fold.size() == std::size_t(table.num_entries()), "write_fold_file: the plan has ",
                plan.fold.size(), " entries but the table has ", table.num_entries());
  io::CsvTable csv;
  csv.header = {"cell_id", "pert_id", "fold"};
  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    const int label = plan.fold[std::size_t(e)];
    if (label == kUnused) continue;
    csv.rows.push_back({table.cells[std::size_t(table.cell_of(e))], table.perts[std::size_t(table.pert_of(e))],
                        label == kTrainOnly ? std::string("train") : std::to_string(label)});
  }
  io::write_csv(path, csv);
}

std::vector<std::uint8_t> train_mask(const FoldPlan& plan, int fold) {
  check_fold(plan, fold);
  std::vector<std::uint8_t> mask(plan.fold.size(), 0);
  for (std::size_t e = 0; e < plan.fold.size(); ++e) mask[e] = plan.fold[e] != kUnused && plan.fold[e] != fold;
  return mask;
}

std::vector<std::int64_t> held_out_entries(const FoldPlan& plan, int fold) {
  check_fold(plan, fold);
  std::vector<std::int64_t> entries;
  for (std::size_t e = 0; e < plan.fold.size(); ++e)
    if (plan.fold[e] == fold) entries.push_back(std::int64_t(e));
  return entries;
}

}  // namespace tessera::solvers::imputation
