"""AnnData (.h5ad) fixtures for tests/io/test_h5ad.cpp, written by anndata itself (Debian's python3-anndata 0.8).

Usage: /usr/bin/python3 h5ad_fixtures.py FOLDER good|bad

good: one file per layout the reader takes (dense float32 / int64 X, CSR with int32 or int64 indptr and
float32 or float64 data, CSR with unsorted and repeated genes in a row, CSC), each with what an independent reader (scipy / pandas) makes of it:
  NAME.h5ad        the file
  NAME.X.npy       X as a dense float64 cells x genes array (scipy's toarray(): exact for every stored type)
  NAME.obs.tsv     obs: header "id<TAB>column...", a line of types (string / float32 / float64 / int32 / int64),
  NAME.var.tsv     then one line per row; numbers in Python's repr (round-trips exactly), missing text empty.
bad: malformed copies (made with h5py), one per error, each NAME.h5ad with NAME.expect holding the text the
error must contain.
Exit code 3 when anndata, h5py, scipy or pandas is missing (the test then skips).
"""
import os
import shutil
import sys

try:
    import anndata
    import h5py
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
except ImportError as e:  # the C++ test reports a skip
    print("missing Python package:", e)
    sys.exit(3)

N_OBS, N_VAR = 7, 5


def obs_frame():
    # A categorical with an unused category ("unused") and a missing value; strings, ints, floats, booleans.
    pert = pd.Categorical(["ctrl", "A", "B", None, "A", "ctrl", "B"], categories=["A", "B", "ctrl", "unused"])
    return pd.DataFrame(
        {
            "perturbation": pert,
            # anndata stores repeated strings as a categorical, unique ones as a string-array
            "cell_type": ["K562", "K562", "RPE1", "RPE1", "K562", "RPE1", "K562"],
            "barcode": ["AAAC", "AAAG", "AACT", "ACGT", "CCGA", "GGTA", "TTTA"],
            "n_counts": np.array([10, 0, 3, 7, 2, 11, 5], dtype=np.int64),
            "dose": np.array([0.5, 1.25, np.nan, 3.0, 0.1, 2.0, 1e-3], dtype=np.float64),
            "score": np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], dtype=np.float32),
            "small": np.array([1, -2, 3, 4, 5, 6, 7], dtype=np.int32),
            "is_control": np.array([True, False, False, False, False, True, False]),
        },
        index=[f"cell{i}" for i in range(N_OBS)],
    )


def var_frame():
    # 300 categories, 295 unused: pandas stores the codes as int16.
    symbols = [f"SYM{i}" for i in range(300)]
    chosen = pd.Categorical(["SYM7", "SYM250", None, "SYM7", "SYM0"], categories=symbols)
    return pd.DataFrame(
        {"symbol": chosen, "highly_variable": np.array([True, True, False, True, False])},
        index=[f"gene{i}" for i in range(N_VAR)],
    )


def matrix(dtype):
    # Cell 3 and the last cell have no nonzero (an empty row, one at a rank boundary at 2 and 3 ranks).
    rng = np.random.default_rng(7)
    x = rng.integers(1, 9, size=(N_OBS, N_VAR)).astype(np.float64) * 0.37
    x[rng.random((N_OBS, N_VAR)) < 0.4] = 0
    x[3, :] = 0
    x[N_OBS - 1, :] = 0
    x[0, 4] = -2.5
    x[1, 1] = 1e-7
    return x.astype(dtype)


def write_tsv(path, frame):
    types = {"int32": "int32", "int64": "int64", "float32": "float32", "float64": "float64"}
    with open(path, "w") as out:
        out.write("\t".join(["id"] + list(frame.columns)) + "\n")
        kinds = []
        for c in frame.columns:
            kind = str(frame[c].dtype)
            kinds.append(types.get(kind, "string"))
        out.write("\t".join(["string"] + kinds) + "\n")
        for i, name in enumerate(frame.index):
            row = [str(name)]
            for c, kind in zip(frame.columns, kinds):
                v = frame[c].iloc[i]
                if kind == "string":
                    row.append("" if pd.isna(v) else ("True" if v is True or v is np.True_ else
                                                      "False" if v is False or v is np.False_ else str(v)))
                elif kind.startswith("int"):
                    row.append(str(int(v)))
                else:
                    row.append(repr(float(v)))
            out.write("\t".join(row) + "\n")


def write_good(folder, name, x):
    adata = anndata.AnnData(X=x, obs=obs_frame(), var=var_frame(), dtype=x.dtype)
    path = os.path.join(folder, name + ".h5ad")
    adata.write_h5ad(path)
    dense = x.toarray() if sp.issparse(x) else np.asarray(x)
    np.save(os.path.join(folder, name + ".X.npy"), dense.astype(np.float64))
    write_tsv(os.path.join(folder, name + ".obs.tsv"), obs_frame())
    write_tsv(os.path.join(folder, name + ".var.tsv"), var_frame())
    return path


def write_large(folder, name, x):
    # More than 2^20 nonzeros: the reader's pieces (io/h5ad.cpp kSparsePiece) split rows and columns.
    n_obs, n_var = x.shape
    obs = pd.DataFrame({"group": pd.Categorical([f"g{i % 3}" for i in range(n_obs)])},
                       index=[f"c{i}" for i in range(n_obs)])
    var = pd.DataFrame(index=[f"v{i}" for i in range(n_var)])
    anndata.AnnData(X=x, obs=obs, var=var, dtype=x.dtype).write_h5ad(os.path.join(folder, name + ".h5ad"))
    np.save(os.path.join(folder, name + ".X.npy"), x.toarray().astype(np.float64))
    write_tsv(os.path.join(folder, name + ".obs.tsv"), obs)
    write_tsv(os.path.join(folder, name + ".var.tsv"), var)


def widen_to_int64(path):
    # anndata writes scipy's int32 index arrays as they are; h5py rewrites them as int64, as scipy keeps them for
    # matrices with more than 2^31 nonzeros.
    with h5py.File(path, "r+") as f:
        for part in ("indptr", "indices"):
            values = f["X"][part][()].astype(np.int64)
            del f["X"][part]
            f["X"].create_dataset(part, data=values)


def unsorted_repeated(path):
    # A CSR file scipy would call non-canonical (has_sorted_indices False, duplicates): each row's entries
    # reversed, and each row's first value split into two halves stored as two entries of the same gene; the dense
    # matrix (duplicates summed, as scipy's toarray does) is unchanged, so NAME.X.npy still holds.
    with h5py.File(path, "r+") as f:
        indptr, indices, data = f["X/indptr"][()], f["X/indices"][()], f["X/data"][()]
        new_indptr, new_indices, new_data = [0], [], []
        for r in range(len(indptr) - 1):
            row_indices = list(indices[indptr[r]:indptr[r + 1]])[::-1]
            row_data = list(data[indptr[r]:indptr[r + 1]])[::-1]
            if row_data:
                half = row_data[0] / 2  # exact in binary
                row_indices = [row_indices[0]] + row_indices
                row_data = [half, half] + row_data[1:]
            new_indices += row_indices
            new_data += row_data
            new_indptr.append(len(new_indices))
        for name, values, dtype in (("indptr", new_indptr, indptr.dtype), ("indices", new_indices, indices.dtype),
                                    ("data", new_data, data.dtype)):
            del f["X"][name]
            f["X"].create_dataset(name, data=np.asarray(values, dtype=dtype))
    return path


def good(folder):
    write_good(folder, "dense_f32", matrix(np.float32))
    write_good(folder, "dense_i64", (matrix(np.float64) / 0.37).round().astype(np.int64))
    write_good(folder, "csr_i32_f32", sp.csr_matrix(matrix(np.float32)))
    widen_to_int64(write_good(folder, "csr_i64_f64", sp.csr_matrix(matrix(np.float64))))
    write_good(folder, "csc_f32", sp.csc_matrix(matrix(np.float32)))
    rng = np.random.default_rng(11)
    large = sp.random(2501, 600, density=0.75, format="csr", random_state=rng, dtype=np.float32)
    large.data = np.round(large.data * 1000) / 8  # exact in float32
    keep = np.ones(large.shape[0], dtype=np.float32)
    keep[17] = 0  # an empty row in the middle
    large = (sp.diags(keep) @ large).tocsr()
    large.eliminate_zeros()
    assert large.nnz > 2**20
    write_large(folder, "csr_pieces", large)
    write_large(folder, "csc_pieces", large.tocsc())
    unsorted_repeated(write_good(folder, "csr_unsorted", sp.csr_matrix(matrix(np.float64))))
    with h5py.File(os.path.join(folder, "csr_i64_f64.h5ad"), "r") as f:
        assert f["X/indptr"].dtype == np.int64 and f["X/data"].dtype == np.float64
    with h5py.File(os.path.join(folder, "csr_i32_f32.h5ad"), "r") as f:
        assert f["X/indptr"].dtype == np.int32 and f["X/data"].dtype == np.float32
        assert f["obs/perturbation/codes"].dtype == np.int8 and f["var/symbol/codes"].dtype == np.int16
        assert f["obs/barcode"].attrs["encoding-type"] == "string-array"
        assert f["obs/cell_type"].attrs["encoding-type"] == "categorical"
    with h5py.File(os.path.join(folder, "dense_i64.h5ad"), "r") as f:
        assert f["X"].dtype == np.int64


def bad(folder):
    base = os.path.join(folder, "base")
    os.makedirs(base, exist_ok=True)
    csr = write_good(base, "csr", sp.csr_matrix(matrix(np.float32)))
    csc = write_good(base, "csc", sp.csc_matrix(matrix(np.float32)))
    dense = write_good(base, "dense", matrix(np.float32))

    def make(name, source, change, expect):
        path = os.path.join(folder, name + ".h5ad")
        shutil.copy(source, path)
        with h5py.File(path, "r+") as f:
            change(f)
        with open(os.path.join(folder, name + ".expect"), "w") as out:
            out.write(expect)

    def replace(f, name, values):
        del f[name]
        f.create_dataset(name, data=values)

    nnz = sp.csr_matrix(matrix(np.float32)).nnz
    indptr = sp.csr_matrix(matrix(np.float32)).indptr.astype(np.int32)

    def not_monotone(f):
        p = indptr.copy()
        p[5] = p[4] - 1  # cell 4 has nonzeros, so p[4] > 0
        replace(f, "X/indptr", p)

    def shift_start(f):
        p = indptr.copy()
        p[0] = 1
        replace(f, "X/indptr", p)

    def long_end(f):
        p = indptr.copy()
        p[-1] = nnz + 3
        replace(f, "X/indptr", p)

    def index_out(f):
        i = f["X/indices"][()]
        i[nnz - 1] = N_VAR + 4
        replace(f, "X/indices", i)

    def csc_index_out(f):
        i = f["X/indices"][()]
        i[2] = N_OBS
        replace(f, "X/indices", i)

    def not_finite(f):
        d = f["X/data"][()]
        d[nnz - 2] = np.nan
        replace(f, "X/data", d)

    def dense_inf(f):
        x = f["X"][()]
        x[6, 2] = np.inf
        del f["X"]
        f.create_dataset("X", data=x)
        f["X"].attrs["encoding-type"] = "array"
        f["X"].attrs["encoding-version"] = "0.2.0"

    def duplicate_obs(f):
        ids = np.array([f"cell{i}" for i in range(N_OBS)], dtype=object)
        ids[5] = "cell2"
        del f["obs/_index"]
        f["obs"].create_dataset("_index", data=ids, dtype=h5py.string_dtype())
        f["obs/_index"].attrs["encoding-type"] = "string-array"
        f["obs/_index"].attrs["encoding-version"] = "0.2.0"

    def dense_narrow(f):
        x = f["X"][()][:, : N_VAR - 1]
        del f["X"]
        f.create_dataset("X", data=x)
        f["X"].attrs["encoding-type"] = "array"
        f["X"].attrs["encoding-version"] = "0.2.0"

    def bad_code(f):
        c = f["obs/perturbation/codes"][()]
        c[1] = 9
        replace(f, "obs/perturbation/codes", c)
        f["obs/perturbation/codes"].attrs["encoding-type"] = "array"

    where = "h5ad file '" + folder + "/"
    make("no_encoding", csr, lambda f: f["X"].attrs.__delitem__("encoding-type"),
         where + "no_encoding.h5ad', /X: no 'encoding-type' attribute")
    make("unknown_encoding", csr, lambda f: f["X"].attrs.__setitem__("encoding-type", "coo_matrix"),
         where + "unknown_encoding.h5ad', /X: unknown encoding-type 'coo_matrix'")
    make("no_column_encoding", csr, lambda f: f["obs/dose"].attrs.__delitem__("encoding-type"),
         where + "no_column_encoding.h5ad', /obs/dose: no 'encoding-type' attribute")
    make("indptr_decreasing", csr, not_monotone,
         where + "indptr_decreasing.h5ad', /X/indptr: decreases at position 5")
    make("indptr_start", csr, shift_start, where + "indptr_start.h5ad', /X/indptr: starts at 1, not 0")
    make("indptr_end", csr, long_end,
         where + f"indptr_end.h5ad', /X/indptr: ends at {nnz + 3} but h5ad file '")
    make("index_out_of_range", csr, index_out,
         where + f"index_out_of_range.h5ad', /X/indices: index {N_VAR + 4} at position {nnz - 1} is outside "
         f"[0, {N_VAR}) ({N_VAR} genes)")
    make("csc_index_out_of_range", csc, csc_index_out,
         where + f"csc_index_out_of_range.h5ad', /X/indices: index {N_OBS} at position 2 is outside "
         f"[0, {N_OBS}) ({N_OBS} cells)")
    make("shape_attribute", csr, lambda f: f["X"].attrs.__setitem__("shape", np.array([N_OBS, N_VAR + 1])),
         where + f"shape_attribute.h5ad', /X: shape ({N_OBS}, {N_VAR + 1}) differs from obs x var "
         f"({N_OBS} cells x {N_VAR} genes)")
    make("dense_shape", dense, dense_narrow,
         where + f"dense_shape.h5ad', /X: shape ({N_OBS}, {N_VAR - 1}) differs from obs x var")
    make("duplicate_obs", csr, duplicate_obs,
         where + "duplicate_obs.h5ad', /obs/_index: duplicate id 'cell2' at positions 2 and 5")
    make("not_finite", csr, not_finite, where + f"not_finite.h5ad', /X/data: value nan at position {nnz - 2} "
         "is not finite")
    make("dense_not_finite", dense, dense_inf, where + "dense_not_finite.h5ad', /X: value inf at cell 6, gene 2 "
         "is not finite")
    make("bad_code", csr, bad_code,
         where + "bad_code.h5ad', /obs/perturbation/codes: code 9 at row 1 is outside [-1, 4)")
    shutil.rmtree(base)


if __name__ == "__main__":
    folder, kind = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    good(folder) if kind == "good" else bad(folder)
