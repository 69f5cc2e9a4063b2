"""A small AnnData (.h5ad) file, written by anndata itself, from a table a C++ test wrote (tests/jobs/test_evaluate_*).

Usage: /usr/bin/python3 h5ad_from_table.py TABLE.tsv OUT.h5ad

TABLE.tsv: tab-separated, one line per obs row. The header names the columns: the first is the obs index, those
named "obs:<name>" are string obs columns (stored by anndata as categoricals when values repeat, as GEARS's and
CPA's files are), the others are var ids, whose values make X (dense float32, as GEARS writes its predictions).
Exit code 3 when anndata, numpy or pandas is missing (the test then skips).
"""
import sys

try:
    import anndata
    import numpy as np
    import pandas as pd
except ImportError as e:  # the C++ test reports a skip
    print("missing Python package:", e)
    sys.exit(3)


def main(table_path, out_path):
    with open(table_path) as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    header, rows = lines[0], lines[1:]
    obs_columns = [i for i, name in enumerate(header) if name.startswith("obs:")]
    var_columns = [i for i in range(1, len(header)) if i not in obs_columns]
    obs = pd.DataFrame(
        {header[i][4:]: [row[i] for row in rows] for i in obs_columns}, index=[row[0] for row in rows]
    )
    var = pd.DataFrame(index=[header[i] for i in var_columns])
    X = np.array([[float(row[i]) for i in var_columns] for row in rows], dtype=np.float32)
    anndata.AnnData(X=X, obs=obs, var=var).write_h5ad(out_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
