"""What python3-anndata reads from an .h5ad file with a sparse X, as tab-separated text for
tests/io/test_h5ad_csr_writer.cpp and tests/solvers/simulation/test_single_cell_screen.cpp.

Usage: /usr/bin/python3 h5ad_csr_check.py FILE.h5ad OUT.txt

The file is opened with anndata.read_h5ad only; the comparison with anndata's own write_h5ad of what it read is
h5ad_check.py's (same folder). Lines:
  X <type> <dtype> <n_obs> <n_var> <stored values> <sum>   X's Python type, dtype, shape, nnz, sum (repr of float)
  X_row <bits>...                          one per obs row, only when X has at most 10000 values: the float32 values'
                                           bit patterns of the dense row
  <frame>_index <id>...                    frame is obs or var
  <frame>_column <name> <dtype> [<codes dtype> <ordered>]   in column order; the codes for categoricals
  <frame>_categories <name> <category>...  categoricals only: as stored
  <frame>_values <name> <value>...         as text
  anndata_differences <n>                  then one line per difference (h5ad_check.differences_from_anndata)
"""
import os
import sys

import anndata
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5ad_check import differences_from_anndata  # noqa: E402


def main(path, out_path):
    adata = anndata.read_h5ad(path)
    lines = []

    def line(*fields):
        lines.append("\t".join(str(f) for f in fields))

    x = adata.X
    line("X", type(x).__name__, x.dtype, x.shape[0], x.shape[1], x.nnz, repr(float(x.sum(dtype=np.float64))))
    if x.shape[0] * x.shape[1] <= 10000:
        for row in np.ascontiguousarray(x.toarray(), dtype=np.float32).view(np.uint32):
            line("X_row", *row.tolist())
    for name, frame in (("obs", adata.obs), ("var", adata.var)):
        line(name + "_index", *frame.index.tolist())
        for column in frame.columns:
            series = frame[column]
            if series.dtype.name == "category":
                line(name + "_column", column, "category", series.cat.codes.dtype, series.cat.ordered)
                line(name + "_categories", column, *series.cat.categories.tolist())
            else:
                line(name + "_column", column, series.dtype)
            line(name + "_values", column, *series.astype(str).tolist())
    differences = differences_from_anndata(path, adata, out_path + ".anndata.h5ad")
    line("anndata_differences", len(differences))
    for difference in differences:
        line("difference", difference)
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
