#include "jobs/commands.h"

#include <algorithm>

#include "engine/error.h"

namespace tessera::jobs {

#ifndef TESSERA_HAVE_TORCH
// Builds without LibTorch have no jobs/train_command.cpp (jobs/CMakeLists.txt): say so instead.
int run_train(const engine::Context&, const std::vector<std::string>&) {
  TESSERA_FAIL("tessera train: this Tessera was built without LibTorch; install libtorch-dev and reconfigure ",
               "with -DTESSERA_TORCH=ON");
}
#endif

const std::vector<Command>& commands() {
  static const std::vector<Command> table{
      {{"simulate", "simulate a CMap-like screen from a causal gene network (GCTX + HDF5 ground truth)",
        "Simulates expression profiles of cell types treated with drugs, where genes follow a linear structural\n"
        "equation model on a random gene-regulatory DAG and each drug intervenes on a few target genes. Writes\n"
        "the observed samples (GCTX) and the ground truth (true signatures of every pair, DAG, targets; HDF5).\n"
        "With --release beta it writes a LINCS-shaped release instead (id-only GCTX, siginfo_beta.txt,\n"
        "geneinfo_beta.txt, truth.h5) from a low-rank model, every rank writing its slab. With --single-cell it\n"
        "writes a Perturb-seq screen (.h5ad of counts, single perturbations and pairs A+B) and its truth."},
       run_simulate},
      {{"impute", "impute missing (cell type, perturbation) signatures and score the methods",
        "Aggregates signatures (GCTX/GCT), or pseudobulks the cells of an AnnData .h5ad, into a (cell type x\n"
        "perturbation) table, cross-validates each method under a protocol (full: K folds per cell type; sparse:\n"
        "B training drugs per cell type; combo_seen0/1/2: GEARS's split of combinations A+B by how many of their\n"
        "parts trained) or a given fold file, prints and writes the metrics table, and writes the completed table\n"
        "(observed + imputed) as GCTX or .h5ad. Without --input it runs on the built-in simulated data set."},
       run_impute},
      {{"evaluate", "score predicted signatures against measured or true ones",
        "Compares predicted signatures (GCTX/GCT with cell_id and pert_id column fields, e.g. from another\n"
        "tool, or Tessera's heldout_* / completed_* tables; or an AnnData .h5ad of GEARS / CPA predictions, obs =\n"
        "conditions, see --predictions-are) with measured signatures (--truth) or with the simulator's ground\n"
        "truth (--ground-truth), on the pairs both hold (or those held out in --fold-file)."},
       run_evaluate},
      {{"inspect", "summarise a GCTX, GCT or AnnData (.h5ad) file",
        "Prints the shape, data type, metadata fields with their types and missing counts, the number of cell\n"
        "types and perturbations, and value statistics of a GCTX, GCT or .h5ad file (read a batch of cells at a\n"
        "time)."},
       run_inspect},
      {{"sweep", "plan, run, check, resubmit and collect a parameter sweep as a Slurm job array",
        "tessera sweep plan <sweep.ini> [--out DIR] [--submit]: writes DIR/points.csv and DIR/array.sbatch\n"
        "tessera sweep run <DIR> --task $SLURM_ARRAY_TASK_ID: runs that task's points (skips those done)\n"
        "tessera sweep status <DIR>: done / failed / missing points, from DIR/status/ alone\n"
        "tessera sweep resubmit <DIR> --failed [--submit]: an array of the tasks with failed or missing points\n"
        "tessera sweep collect <DIR>: merges every done point's metrics.csv with its parameters (results.csv)\n"
        "The sweep file (INI): [sweep] command, combine = product|zip, max_parallel, points_per_task, out;\n"
        "[fixed] options of every point; [grid] option = v1, v2, ... See slurm/README.md."},
       run_sweep},
      {{"rank", "rank observed and imputed drug signatures (and pairs) by how strongly they reverse a query",
        "Matches the query's genes (symbol or Entrez id) to the library's rows, scores every library signature\n"
        "(and, with --pairs, every pair, as the sum of the two) by cosine and Pearson against the reversed query\n"
        "and by CMap's weighted connectivity score (WTCS of the query's up and down sets), in parallel over ranks\n"
        "with a bounded top-k per rank, and prints the top-k table. Imputed signatures (completed_<method>.gctx)\n"
        "get a bootstrap interval when the matching heldout_<method>.gctx is given (--heldout).\n"
        "--pair-space latent sums a pair's two latent shifts in a `tessera train` model instead (--model,\n"
        "--controls; Belyaeva et al. 2021), for pairs of one cell type (needs a build with LibTorch)."},
       run_rank},
      {{"design", "sequential optimal intervention design on a linear SEM (acquisitions vs a random baseline)",
        "Chooses shift interventions a (||a|| <= radius) so that the SEM's mean response (I - B)^-1 (c + a)\n"
        "matches a target mean, on a DAG given as a CSV edge list (--dag, e.g. from tessera discover) or on\n"
        "random DAGs, learning B and c by Bayesian linear regression per node. Each round scores candidates\n"
        "(split over ranks) by greedy plug-in, integrated posterior variance, UCB, Monte-Carlo mutual\n"
        "information or at random, runs the chosen one on the simulated SEM and updates the posterior. Prints\n"
        "the mean distance to the target per round for each acquisition."},
       run_design},
      {{"train", "train the autoencoder on the profiles of a GCTX or GCT file (data-parallel, checkpointed)",
        "Trains the autoencoder of Belyaeva et al. (Nat. Commun. 2021; by default Linear(d, 1024) without bias,\n"
        "LeakyReLU(0.01), Linear(1024, d), MSE, Adam 1e-4, batch 128) on every profile of --input, with data\n"
        "parallelism over the MPI ranks. Checkpoints go to <out>/checkpoints; a SIGUSR1/USR2/TERM checkpoints at\n"
        "the next step and exits with 75 (requeue); --resume continues. Needs a build with LibTorch."},
       run_train},
      {{"discover", "learn a causal DAG from observational and interventional data (GSP, IGSP, UT-IGSP)",
        "Reads a CSV with one numeric column per variable and a setting column (observational rows and one\n"
        "setting per intervention), a DCDI folder (data_interv<i>.npy, intervention<i>.csv, regime<i>.csv) or a\n"
        "GCTX/GCT file (genes as variables, a column field such as pert_iname as the setting), runs greedy\n"
        "sparsest permutation search (gsp: observational only; igsp: known targets via --targets\n"
        "'setting:var1;var2,...'; utigsp: unknown targets, learned), with restarts spread over the ranks, and\n"
        "writes <out>/dag_edges.csv, <out>/dag.dot and <out>/targets.csv."},
       run_discover},
      {{"simulate-dag", "simulate observational and interventional data from a random linear Gaussian SEM",
        "Draws a random DAG (Erdos-Renyi or scale-free) and a linear SEM with weights +-U(0.25, 1), samples\n"
        "observational rows and interventional settings (perfect or shift interventions on random targets,\n"
        "optionally with unlisted off-targets or settings whose targets are not listed), and writes them as a\n"
        "CSV (data.csv + targets.txt) or a DCDI folder, with the truth (truth_edges.csv, truth_targets.csv)."},
       run_simulate_dag},
      {{"report", "write one self-contained HTML page of a run's outputs (plots, tables, the DAG, options)",
        "Reads the files that impute, discover, train, rank, design or a sweep wrote and writes one HTML page\n"
        "with the plotting library, styles and data inside it, so it opens offline and can be mailed or printed:\n"
        "the method table with its spread over folds, metrics per cell type, predicted against measured; the DAG\n"
        "drawn by graphviz with arcs coloured by bootstrap stability; the top hits with their intervals; loss\n"
        "curves; every sweep point's status and metric. The same page as a command's --report."},
       run_report},
  };
  return table;
}

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto& command : commands()) all.push_back(command.spec.name);
    return all;
  }();
  return names;
}

const Command* find_command(std::string_view name) {
  for (const auto& command : commands())
    if (command.spec.name == name) return &command;
  return nullptr;
}

bool stops_at_safe_points(std::string_view command) {
  constexpr std::string_view kCommands[] = {"impute", "evaluate", "train", "discover", "sweep"};
  return std::find(std::begin(kCommands), std::end(kCommands), command) != std::end(kCommands);
}

const CommandSpec& spec_of(const std::string& name) {
  for (const auto& command : commands())
    if (command.spec.name == name) return command.spec;
  TESSERA_FAIL("no command named '", name, "'");
}

}  // namespace tessera::jobs
