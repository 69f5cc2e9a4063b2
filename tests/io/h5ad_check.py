"""What python3-anndata reads from an .h5ad file, as tab-separated text for tests/io/test_h5ad_writer.cpp.

Usage: /usr/bin/python3 h5ad_check.py FILE.h5ad OUT.txt

The file is opened with anndata.read_h5ad only (no h5py), so a line here is what a user of anndata sees; one h5py
line reports X's chunk shape. Lines:
  X <type> <dtype> <n_obs> <n_var>          X's Python type and dtype
  X_chunks <rows> <cols>                   X's HDF5 chunk shape (h5py)
  X_row <bits>...                          one per obs row: the float32 values' bit patterns (exact, NaN included)
  <frame>_index <id>...                    frame is obs or var
  <frame>_column <name> <dtype> [<codes dtype> <ordered>]   in column order; the codes for categoricals
  <frame>_categories <name> <category>...  categoricals only: as stored
  <frame>_pandas_categories <name> <category>...  the categories pandas builds from the same values
  <frame>_values <name> <value>...         text as is, numbers as repr(float or int)
  <key>_keys <n> <key>...                  uns, obsm, varm, layers, obsp, varp
  anndata_differences <n>                  then one line per difference: the file against anndata's own
                                           write_h5ad of what it read (elements, types, shapes, attributes with
                                           their HDF5 types, values); X's storage layout (chunks) is not compared
"""
import sys

import anndata
import h5py
import numpy as np
import pandas as pd


def describe_type(type_id):
    """An HDF5 type as text: class, size, and for strings variable/fixed and character set."""
    text = "class %d size %s" % (type_id.get_class(), "var" if type_id.get_class() == h5py.h5t.STRING
                                 and type_id.is_variable_str() else type_id.get_size())
    if type_id.get_class() == h5py.h5t.STRING:
        text += " cset %d" % type_id.get_cset()
    if type_id.get_class() == h5py.h5t.ENUM:
        text += " members " + ",".join(type_id.get_member_name(i).decode() for i in range(type_id.get_nmembers()))
    return text


def same_values(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return bool(np.array_equal(a.view(np.uint8), b.view(np.uint8))) if a.dtype == b.dtype else False
    return bool(np.array_equal(a, b))


def differences_from_anndata(path, adata, scratch):
    """Every difference between `path` and the file anndata writes for the AnnData it read from it."""
    adata.write_h5ad(scratch)
    found = []
    with h5py.File(path, "r") as mine, h5py.File(scratch, "r") as theirs:
        names = {"/"}
        mine.visit(lambda n: names.add(n))
        theirs.visit(lambda n: names.add(n))
        for name in sorted(names):
            if name not in mine or name not in theirs:
                found.append("%s: only in %s" % (name, "anndata's file" if name not in mine else "this file"))
                continue
            a, b = mine[name], theirs[name]
            if type(a) is not type(b):
                found.append("%s: %s here, %s in anndata's" % (name, type(a).__name__, type(b).__name__))
                continue
            if isinstance(a, h5py.Dataset):
                if describe_type(a.id.get_type()) != describe_type(b.id.get_type()) or a.shape != b.shape:
                    found.append("%s: %s %s here, %s %s in anndata's" % (
                        name, describe_type(a.id.get_type()), a.shape, describe_type(b.id.get_type()), b.shape))
                elif not same_values(a[()], b[()]):
                    found.append("%s: different values" % name)
            if set(a.attrs) != set(b.attrs):
                found.append("%s: attributes %s here, %s in anndata's" % (name, sorted(a.attrs), sorted(b.attrs)))
                continue
            for key in a.attrs:
                ta, tb = describe_type(a.attrs.get_id(key).get_type()), describe_type(b.attrs.get_id(key).get_type())
                if ta != tb or a.attrs.get_id(key).shape != b.attrs.get_id(key).shape:
                    found.append("%s@%s: type %s here, %s in anndata's" % (name, key, ta, tb))
                elif not same_values(a.attrs[key], b.attrs[key]):
                    found.append("%s@%s: %r here, %r in anndata's" % (name, key, a.attrs[key], b.attrs[key]))
    return found


def main(path, out_path):
    adata = anndata.read_h5ad(path)
    lines = []

    def line(*fields):
        lines.append("\t".join(str(f) for f in fields))

    x = adata.X
    line("X", type(x).__name__, x.dtype, x.shape[0], x.shape[1])
    with h5py.File(path, "r") as f:
        chunks = f["X"].chunks or (0, 0)
    line("X_chunks", *chunks)
    for row in np.ascontiguousarray(x, dtype=np.float32).view(np.uint32):
        line("X_row", *row.tolist())
    for name, frame in (("obs", adata.obs), ("var", adata.var)):
        line(name + "_index", *frame.index.tolist())
        for column in frame.columns:
            series = frame[column]
            if series.dtype.name == "category":
                line(name + "_column", column, "category", series.cat.codes.dtype, series.cat.ordered)
                line(name + "_categories", column, *series.cat.categories.tolist())
                # The categories pandas chooses itself for these values: the writer must store the same order.
                rebuilt = pd.Categorical(np.asarray(series.astype(str), dtype=object))
                line(name + "_pandas_categories", column, *rebuilt.categories.tolist())
                line(name + "_values", column, *series.astype(str).tolist())
            else:
                line(name + "_column", column, series.dtype)
                values = series.tolist()
                if series.dtype.kind == "f":
                    values = [repr(float(v)) for v in values]
                line(name + "_values", column, *values)
    for key in ("uns", "obsm", "varm", "layers", "obsp", "varp"):
        keys = list(getattr(adata, key).keys())
        line(key + "_keys", len(keys), *keys)
    differences = differences_from_anndata(path, adata, out_path + ".anndata.h5ad")
    line("anndata_differences", len(differences))
    for difference in differences:
        line("difference", difference)
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
