"""A small Perturb-seq screen written by anndata itself, with its pseudobulk tables computed by numpy, for
tests/jobs/test_single_cell_input.cpp and test_single_cell_cli.cpp.

Usage: /usr/bin/python3 single_cell_fixtures.py FOLDER            writes the files below
       /usr/bin/python3 single_cell_fixtures.py --summary FILE    prints an .h5ad Tessera wrote, as anndata reads it

FOLDER/screen.h5ad: CSR counts, 2 contexts (obs cell_type) x conditions named as GEARS names them (obs condition:
  ctrl, A+ctrl, ctrl+B, A+B and B+A -- one combination --, C+ctrl in K562 only), one cell whose condition is
  missing; var: ids ENSG..., gene_name, highly_variable.
FOLDER/expected_raw.tsv: per (context, perturbation) the mean of the group's counts minus the mean of the
  context's ctrl cells (what `--preset gears` must give); header "context perturbation <gene ids>".
FOLDER/expected_norm_log1p_hvg.tsv: the same after scaling each cell to 10,000 counts (over all its genes) and
  log1p, on the highly_variable genes only (--normalize-total 10000 --log1p --var-genes highly_variable).
FOLDER/empty_part.h5ad: one cell's condition is "A++B" (refused).
FOLDER/screen_stats.txt: min, max, mean and sample sd of X's values (what `tessera inspect` prints).
FOLDER/screen_cells.csv: the cells with a condition as CSV rows (gene ids, then `condition`), what
  `tessera discover` reads in its CSV layout.
--summary prints "shape N M", then "obs NAME DTYPE [categories]" per obs column, then one line per obs row:
  its values, then X's row (repr floats), tab-separated.
Exit code 3 when anndata, numpy, pandas or scipy is missing (the test then skips).
"""
import os
import sys

try:
    import anndata
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
except ImportError as e:  # the C++ test reports a skip
    print("missing Python package:", e)
    sys.exit(3)

N_GENES = 12
GROUPS = [  # (context, condition as written, cells)
    ("K562", "ctrl", 20), ("K562", "A+ctrl", 10), ("K562", "ctrl+B", 8), ("K562", "A+B", 5), ("K562", "B+A", 4),
    ("K562", "C+ctrl", 6),
    ("RPE1", "ctrl", 15), ("RPE1", "A+ctrl", 7), ("RPE1", "ctrl+B", 9), ("RPE1", "B+A", 6),
]
CANONICAL = {"A+ctrl": "A", "ctrl+B": "B", "A+B": "A+B", "B+A": "A+B", "C+ctrl": "C"}


def screen():
    rng = np.random.default_rng(2024)
    rows, contexts, conditions = [], [], []
    base = rng.gamma(2.0, 2.0, size=N_GENES)
    for context, condition, cells in GROUPS:
        rate = base * np.exp(rng.normal(0.0, 0.5, size=N_GENES))
        rows.append(rng.poisson(rate, size=(cells, N_GENES)))
        contexts += [context] * cells
        conditions += [condition] * cells
    # One cell whose condition is missing: left out of every group.
    rows.append(rng.poisson(base, size=(1, N_GENES)))
    contexts.append("RPE1")
    conditions.append(None)
    x = np.vstack(rows).astype(np.float32)
    obs = pd.DataFrame(
        {"condition": pd.Categorical(conditions), "cell_type": pd.Categorical(contexts)},
        index=[f"cell{i}" for i in range(x.shape[0])],
    )
    var = pd.DataFrame(
        {"gene_name": [f"G{i}" for i in range(N_GENES)], "highly_variable": [i % 3 != 1 for i in range(N_GENES)]},
        index=[f"ENSG{i:04d}" for i in range(N_GENES)],
    )
    return x, obs, var


def expected(x, obs, genes):
    lines = []
    for context in sorted(set(obs["cell_type"])):
        in_context = (obs["cell_type"] == context).to_numpy()
        control = x[in_context & (obs["condition"] == "ctrl").to_numpy()].mean(axis=0)
        names = obs["condition"].astype(object).map(lambda c: CANONICAL.get(c) if isinstance(c, str) else None)
        for pert in sorted(set(n for n in names[in_context] if n is not None)):
            group = x[in_context & (names == pert).to_numpy()]
            change = group.mean(axis=0) - control
            lines.append([context, pert] + [repr(float(v)) for v in change[genes]])
    return lines


def write_tsv(path, header, lines):
    with open(path, "w") as out:
        out.write("\t".join(header) + "\n")
        for line in lines:
            out.write("\t".join(line) + "\n")


def write(folder):
    os.makedirs(folder, exist_ok=True)
    x, obs, var = screen()
    anndata.AnnData(X=sp.csr_matrix(x), obs=obs, var=var, dtype=np.float32).write_h5ad(
        os.path.join(folder, "screen.h5ad"))
    dense = x.astype(np.float64)
    all_genes = np.arange(N_GENES)
    write_tsv(os.path.join(folder, "expected_raw.tsv"), ["context", "perturbation"] + list(var.index),
              expected(dense, obs, all_genes))
    totals = dense.sum(axis=1, keepdims=True)
    normalised = np.log1p(dense * np.where(totals > 0, 1e4 / np.where(totals > 0, totals, 1), 1.0))
    hvg = np.flatnonzero(var["highly_variable"].to_numpy())
    write_tsv(os.path.join(folder, "expected_norm_log1p_hvg.tsv"), ["context", "perturbation"] + list(var.index[hvg]),
              expected(normalised, obs, hvg))
    with open(os.path.join(folder, "screen_stats.txt"), "w") as out:
        out.write("min %.4g, max %.4g, mean %.4g, sd %.4g\n" % (dense.min(), dense.max(), dense.mean(), dense.std(ddof=1)))
    with open(os.path.join(folder, "screen_cells.csv"), "w") as out:
        out.write(",".join(list(var.index) + ["condition"]) + "\n")
        for i, condition in enumerate(obs["condition"]):
            if isinstance(condition, str):
                out.write(",".join([repr(float(v)) for v in dense[i]] + [condition]) + "\n")
    bad = obs.copy()
    bad["condition"] = bad["condition"].astype(object)
    bad.iloc[3, bad.columns.get_loc("condition")] = "A++B"
    bad["condition"] = pd.Categorical(bad["condition"])
    anndata.AnnData(X=sp.csr_matrix(x), obs=bad, var=var, dtype=np.float32).write_h5ad(
        os.path.join(folder, "empty_part.h5ad"))


def summary(path):
    adata = anndata.read_h5ad(path)
    x = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    print(f"shape {adata.n_obs} {adata.n_vars}")
    for name in adata.obs.columns:
        column = adata.obs[name]
        categories = ",".join(map(str, column.cat.categories)) if column.dtype.name == "category" else ""
        print(f"obs {name} {column.dtype.name} {categories}")
    print("\t".join(["var"] + list(adata.var_names)))
    for i, name in enumerate(adata.obs_names):
        values = [str(adata.obs[c].iloc[i]) for c in adata.obs.columns]
        print("\t".join(["row", name] + values + [repr(float(v)) for v in x[i]]))


if __name__ == "__main__":
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
    else:
        write(sys.argv[1])
