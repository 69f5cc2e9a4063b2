#!/usr/bin/python3
"""The Python baseline of bench/pseudobulk_bench.cpp: the same simulated .h5ad read with anndata (whole X in
memory, as anndata.read_h5ad does) and pseudobulked with numpy/scipy.

Group means per (cell_type, perturbation) as one sparse product: an indicator matrix (groups x cells, 1 where the
cell is in the group) times X, divided by the group sizes; then the same with each cell scaled to a total of 1e4
and log1p (done in place on X's float32 data, a block of cells at a time, as scanpy.pp.normalize_total and
scanpy.pp.log1p do on a sparse float32 X). Prints the read and aggregate times and the peak RSS, and with
--means=PREFIX checks both against the C++ bench's PREFIX.raw.csv / PREFIX.norm_log1p.csv
(pseudobulk_bench --write-means=PREFIX) to 1e-6 relative.

  /usr/bin/python3 bench/pseudobulk_anndata.py /tmp/pseudobulk_bench_1000000x5000_0.1.h5ad [--means=PREFIX]

The product casts X's int32 indices to int64 (the file's indptr is int64) and, with the float64 indicator kept
for exact means, X's data to float64: that, not the read, sets the peak memory (~3x X at the issue's size).
"""
import argparse
import resource
import sys
import time

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def group_means(indicator, counts, x):
    sums = (indicator @ x).toarray()  # float64: the indicator is float64
    return sums / counts[:, None]


def check(means, labels, path):
    """Max relative difference of our means against the C++ bench's CSV (rows matched by their labels)."""
    theirs = pd.read_csv(path, dtype={"cell_type": str, "perturbation": str})
    row_of = {label: r for r, label in enumerate(labels)}
    rows = [row_of[(t, p)] for t, p in zip(theirs["cell_type"], theirs["perturbation"])]
    ours = means[rows]
    values = theirs.iloc[:, 3:].to_numpy(dtype=np.float64)
    if ours.shape != values.shape:
        sys.exit(f"{path}: {values.shape} group means, ours {ours.shape}")
    scale = np.maximum(np.abs(values), 1e-300)
    relative = np.abs(ours - values) / scale
    relative[(ours == 0) & (values == 0)] = 0
    worst = float(relative.max())
    print(f"  {path}: {values.shape[0]} groups x {values.shape[1]} genes, max relative difference {worst:.2e}",
          "(ok, <= 1e-6)" if worst <= 1e-6 else "(FAILS 1e-6)")
    return worst <= 1e-6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--means", help="PREFIX of pseudobulk_bench --write-means=PREFIX's CSVs to check against")
    parser.add_argument("--target-sum", type=float, default=1e4)
    args = parser.parse_args()

    start = time.perf_counter()
    adata = anndata.read_h5ad(args.path)
    read_seconds = time.perf_counter() - start
    x = adata.X
    if not sp.isspmatrix_csr(x):
        sys.exit(f"{args.path}: X is {type(x).__name__}, expected a CSR matrix")
    cells, genes = x.shape
    read_peak = peak_rss_mib()
    print(f"anndata {anndata.__version__}: read {cells} cells x {genes} genes, {x.nnz} stored values "
          f"in {read_seconds:.2f} s, peak RSS {read_peak:.0f} MiB")

    start = time.perf_counter()
    types = adata.obs["cell_type"].astype("category")
    perts = adata.obs["perturbation"].astype("category")
    type_codes = types.cat.codes.to_numpy(np.int64)
    pert_codes = perts.cat.codes.to_numpy(np.int64)
    num_perts = len(perts.cat.categories)
    group = type_codes * num_perts + pert_codes
    num_groups = len(types.cat.categories) * num_perts
    labels = [(t, p) for t in types.cat.categories for p in perts.cat.categories]
    indicator = sp.csr_matrix((np.ones(cells), (group, np.arange(cells))), shape=(num_groups, cells))
    counts = np.maximum(np.bincount(group, minlength=num_groups), 1).astype(np.float64)
    raw = group_means(indicator, counts, x)
    raw_seconds = time.perf_counter() - start

    start = time.perf_counter()
    totals = np.asarray(x.sum(axis=1, dtype=np.float64)).ravel()
    scale = np.divide(args.target_sum, totals, out=np.zeros_like(totals), where=totals > 0)
    block = 100_000  # cells per step: the repeated scale factors stay small
    for begin in range(0, cells, block):
        end = min(begin + block, cells)
        lo, hi = x.indptr[begin], x.indptr[end]
        x.data[lo:hi] *= np.repeat(scale[begin:end], np.diff(x.indptr[begin:end + 1])).astype(x.data.dtype)
    np.log1p(x.data, out=x.data)
    normalized = group_means(indicator, counts, x)
    normalized_seconds = time.perf_counter() - start

    total = read_seconds + raw_seconds + normalized_seconds
    print(f"  aggregate (group means, as stored):            {raw_seconds:.2f} s")
    print(f"  normalize_total {args.target_sum:g} + log1p + group means: {normalized_seconds:.2f} s")
    print(f"  read + aggregate: {read_seconds + raw_seconds:.2f} s, {cells / (read_seconds + raw_seconds):.4g} cells/s;"
          f" all three: {total:.2f} s; peak RSS {peak_rss_mib():.0f} MiB")
    if args.means:
        ok = check(raw, labels, args.means + ".raw.csv")
        ok = check(normalized, labels, args.means + ".norm_log1p.csv") and ok
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
