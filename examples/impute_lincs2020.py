"""Imputation on the LINCS2020 Level 5 set: cross-validate the fast methods and plot the method table.

    python3 examples/impute_lincs2020.py [--data ../shared/data] [--out lincs-impute]
    mpirun -np 2 python3 examples/impute_lincs2020.py        # the same, on 2 ranks

The set has 24 cell lines x 678 compounds with 15% of the pairs measured; each method predicts held-out measured
signatures (5 folds per cell line) and completes NL20's missing ones. The table and its plot give Pearson r per
method with its spread over the folds.
"""

import argparse
import logging
from pathlib import Path

import tessera

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
parser.add_argument("--out", type=Path, default=Path("lincs-impute"))
parser.add_argument("--methods", default="cell_mean,drug_mean,two_way_mean,dnpp")
args = parser.parse_args()
logging.basicConfig(level=logging.INFO, format="%(message)s")

result = tessera.impute(
    args.data / "lincs2020" / "lincs2020_l5_gold_24h_10uM_dev.gctx",
    methods=args.methods.split(","),
    folds=5,
    complete_cells="NL20",
    out=args.out,
)

if result is not None:  # rank 0
    table = result.metrics[result.metrics["scope"] == "all"].set_index("method")
    print(table[["pearson_r", "pearson_r_fold_sd", "mean_cosine", "signatures"]].round(3).to_string())
    completed = result.completed["two_way_mean"] if "two_way_mean" in result.completed else None
    if completed is not None:
        imputed = int((completed.obs["imputed"].astype(int) == 1).sum())
        print(f"NL20: {completed.n_obs} signatures in the completed table, {imputed} of them imputed")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed (apt-get install python3-matplotlib)")
    else:
        figure, axes = plt.subplots(figsize=(6, 3))
        axes.bar(table.index, table["pearson_r"], yerr=table["pearson_r_fold_sd"], capsize=4, color="#4878a8")
        axes.set_ylabel("Pearson r, held-out signatures")
        axes.set_title("LINCS2020 Level 5 set, 5 folds per cell line")
        figure.tight_layout()
        figure.savefig(args.out / "methods.png", dpi=120)
        print(f"plot: {args.out / 'methods.png'}")
