"""Drug ranking for the SARS-CoV-2 signature (Belyaeva et al. 2021): which measured or imputed compound best
reverses the infection's expression change in NL20, a lung epithelial line.

    python3 examples/rank_sarscov2.py [--data ../shared/data] [--out covid-rank]

Completes NL20's missing (drug) signatures of the LINCS2020 set with two_way_mean, then ranks NL20's measured and
imputed signatures by CMap's connectivity score against the reversed query (blancoA_l2fc.csv: infected vs mock
A549-ACE2), with a bootstrap interval for the imputed ones from the held-out residuals.
"""

import argparse
from pathlib import Path

import tessera

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
parser.add_argument("--out", type=Path, default=Path("covid-rank"))
parser.add_argument("--top", type=int, default=10)
args = parser.parse_args()

# The completed and held-out tables are kept in --out: rank reads them from there.
tessera.impute(
    args.data / "lincs2020" / "lincs2020_l5_gold_24h_10uM_dev.gctx",
    methods="two_way_mean",
    complete_cells="NL20",
    out=args.out,
)
top = tessera.rank(
    args.data / "covid19" / "blancoA_l2fc.csv",
    library=args.out / "completed_two_way_mean.gctx",
    heldout=args.out / "heldout_two_way_mean.gctx",
    cell="NL20",
    top=args.top,
)
if top is not None:  # rank 0
    print(top[["rank", "pert_id", "source", "score", "low", "high"]].to_string(index=False))
