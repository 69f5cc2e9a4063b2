// Which table entries train and which are held out: the imputation protocols of Radhakrishnan et al. (PNAS 2022).
//
// A FoldPlan gives every entry of a PerturbationTable (index entry(c, p) = c * num_perts + p) one label:
//   kUnused     the entry is not observed, or its cell type was dropped: never used;
//   kTrainOnly  always in the training set, never evaluated (a reference cell type such as MCF7 in CMap, or
//               the sparse protocol's B training drugs);
//   0..K-1      held out in that fold, training in every other fold.
//
// Protocols (make_folds):
//   full    per cell type, its observed drugs are shuffled and dealt into K folds of sizes differing by at most
//           one (the deal starts where the previous cell type's ended, so whole folds also differ by at most one);
//   sparse  per cell type, B randomly chosen drugs are kTrainOnly and all its other drugs are held out in the
//           single fold 0 (num_folds = 1).
// Reference cell types are entirely kTrainOnly and never dropped. Any other cell type with fewer than min_drugs
// observed drugs (sparse: fewer than max(min_drugs, B + 1), so that something is held out) is dropped: its
// entries become kUnused, its id goes to dropped_cells and engine::warn lists them. When that leaves no cell type
// to evaluate, make_folds throws tessera::Error naming --min-drugs / --sparse-train-drugs, the most observed drugs
// of any cell type and the value that works (a run that evaluates nothing is an error, not an empty success). Shuffles
// use one engine::RandomStream(seed, "folds", stable_hash(cell id)) per cell type, so a plan depends only on the seed
// and the table, never on the rank count. All functions here are local (no MPI).
//
// Combination protocols (the "simulation" split of GEARS, Roohani et al. 2023) for tables whose perturbation ids
// include combinations "A+B" (io/combinations.h). One draw serves all three:
//   - the singles drawn from are the distinct parts of the table's observed combinations, in name order; a fraction
//     train_singles_fraction of them (rounded to the nearest whole number) are the training singles. A single
//     perturbation that is no part of any combination is always a training single: it decides no combination's
//     class, and a method may learn from it what it can;
//   - a two-part combination is seenK when K of its parts are training singles. The seen2 combinations are split:
//     a fraction train_seen2_fraction of them (rounded) train, the rest are held out;
//   - the labels: the entries of the training singles and of the training seen2 combinations are kTrainOnly; the
//     protocol combo_seenK holds out (fold 0, num_folds 1) the entries of the seenK combinations (for K = 2 only the
//     held-out share), in every cell type where they are observed; every other entry is kUnused (the other
//     singles, the other combinations, and combinations of three or more parts, which these protocols leave out).
// So the three protocols train on the same entries for one seed and differ only in what they evaluate. The split
// is by perturbation, not by entry: a held-out combination is held out in every cell type. Reference cell types
// are entirely kTrainOnly as in the other protocols; folds, sparse_train_drugs and min_drugs do not apply (no cell
// type is dropped). The draws use engine::RandomStream(seed, "combo/singles") and (seed, "combo/seen2") over
// name-ordered lists, so a plan depends only on the seed and the table. A table without combinations, a
// perturbation id with an empty part ("A++B"), or a split that holds out nothing is a tessera::Error naming the
// option to change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/parameters.h"
#include "io/perturbation_table.h"

namespace tessera::solvers::imputation {

constexpr int kUnused = -1;     // entry not observed, or in a dropped cell type: never used
constexpr int kTrainOnly = -2;  // always training, never evaluated

struct FoldPlan {
  int num_folds = 0;
  std::vector<int> fold;                   // per table entry: kUnused, kTrainOnly or 0..num_folds-1
  std::vector<std::string> dropped_cells;  // cell types left out (too few drugs), sorted
};

// full: K folds over each cell type's observed drugs; sparse: B training drugs per cell type, the rest held out;
// combo_seen0/1/2: the combinations with 0, 1 or 2 parts among the training singles held out (above).
enum class Protocol { kFull, kSparse, kComboSeen0, kComboSeen1, kComboSeen2 };
const engine::NameTable<Protocol>& name_table(Protocol);  // full | sparse | combo_seen0 | combo_seen1 | combo_seen2

struct ProtocolOptions {
  Protocol protocol = Protocol::kFull;
  int folds = 5;                             // K of the full protocol
  int sparse_train_drugs = 10;               // B of the sparse protocol
  std::vector<std::string> reference_cells;  // train-only cell types (e.g. MCF7); each must be in the table
  int min_drugs = 10;                        // cell types with fewer observed drugs are dropped
  std::uint64_t seed = 1;
  double train_singles_fraction = 0.75;  // combo protocols: share of the combinations' parts that train
  double train_seen2_fraction = 0.75;    // combo protocols: share of the seen2 combinations that train

  // The knobs `tessera impute` offers (reference_cells is a list the command reads).
  template <typename Self, typename Declare>
  static void declare_knobs(Self& self, Declare&& declare) {
    declare(engine::knob("protocol", self.protocol,
                         "how the folds are drawn: full (K folds over each cell type's observed drugs), sparse (B "
                         "training drugs per cell type, the rest held out) or combo_seen0/1/2 (hold out the "
                         "combinations A+B with 0/1/2 parts among the training singles)"));
    declare(engine::knob("folds", self.folds, "K of the full protocol").at_least(2));
    declare(engine::knob("sparse_train_drugs", self.sparse_train_drugs, "B of the sparse protocol").at_least(1));
    declare(engine::knob("min_drugs", self.min_drugs, "drop cell types with fewer observed perturbations").at_least(1));
    declare(engine::knob("seed", self.seed, "seed of the folds and of the built-in data set"));
    declare(engine::knob("train_singles_fraction", self.train_singles_fraction,
                         "combo protocols: fraction of the singles that are parts of combinations drawn to train")
                .in(0.0, 1.0));
    declare(engine::knob("train_seen2_fraction", self.train_seen2_fraction,
                         "combo protocols: fraction of the combinations with both parts training that train (the "
                         "rest is combo_seen2's held-out set)")
                .in(0.0, 1.0));
  }
  // Throws tessera::Error naming the bad option (as impute's --option) and its valid range.
  void validate() const { engine::check_knobs(*this); }
};

// Deterministic in (table, options). Throws for invalid options, a reference cell type not in the table, or
// options that leave nothing to evaluate (no cell type; for the combo protocols, no combination).
FoldPlan make_folds(const io::PerturbationTable& table, const ProtocolOptions& options);

// Fold file: CSV with header columns cell_id, pert_id, fold (others ignored); fold is an integer >= 0 or
// "train" (kTrainOnly). Entries not listed are kUnused; num_folds = max fold + 1; dropped_cells = the cell
// types with observed entries of which none is listed. Errors name the file and line: missing column, unknown
// cell or perturbation id, entry not observed in the table, duplicate entry, bad fold value; and the file when it
// holds no held-out entry (nothing to evaluate).
FoldPlan read_fold_file(const std::filesystem::path& path, const io::PerturbationTable& table);

// Writes every entry whose label is not kUnused, in entry order. read_fold_file gives the plan back (num_folds
// excepted when the highest folds are empty).
void write_fold_file(const std::filesystem::path& path, const io::PerturbationTable& table, const FoldPlan& plan);

// num_entries flags: 1 for entries that train in `fold` (label neither kUnused nor `fold`; kTrainOnly included).
std::vector<std::uint8_t> train_mask(const FoldPlan& plan, int fold);

// The entries held out in `fold`, ascending.
std::vector<std::int64_t> held_out_entries(const FoldPlan& plan, int fold);

}  // namespace tessera::solvers::imputation
