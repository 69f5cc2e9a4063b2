"""GCTX / GCT files as numpy arrays with pandas metadata, or as AnnData, through the engine's reader and writer.

A GCTX holds genes x signatures; in AnnData the signatures are the observations (obs) and the genes the variables
(var), so ``adata.X`` is the transpose of ``GeneTable.values``.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import _commands, _core


class GeneTable(NamedTuple):
    """A GCTX/GCT file in memory: ``values`` (genes x signatures, float32 or float64), ``genes`` and ``signatures``
    (DataFrames of the row and column metadata, indexed by id)."""

    values: np.ndarray
    genes: pd.DataFrame
    signatures: pd.DataFrame


def _frame(meta) -> pd.DataFrame:
    ids, fields = meta
    columns = {}
    for name, kind, values in fields:
        if kind == "int" and not np.isnan(values).any():
            values = values.astype(np.int64)
        columns[name] = values
    return pd.DataFrame(columns, index=pd.Index(ids, name="id"))


def _meta(frame: pd.DataFrame, which: str):
    fields = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
            fields.append((str(name), "int", column.to_numpy(dtype=np.float64)))
        elif pd.api.types.is_float_dtype(column):
            fields.append((str(name), "float", column.to_numpy(dtype=np.float64)))
        else:
            missing = column.isna()
            if missing.any():
                row = frame.index[int(np.argmax(missing.to_numpy()))]
                raise _core.InputError(
                    f"the {which} field '{name}' has no value for '{row}'; fill it (e.g. with '') before writing"
                )
            fields.append((str(name), "str", [str(value) for value in column]))
    return [str(i) for i in frame.index], fields


def read_gctx(path: str | os.PathLike, as_anndata: bool = False):
    """Reads a GCTX (or a .gct) file with the engine's reader: a GeneTable, or an AnnData when ``as_anndata``.
    Missing numbers (-666 in the file) become NaN; an integer field with a missing value becomes float."""
    values, rows, cols = _core.read_gene_matrix(os.fspath(path))
    table = GeneTable(values, _frame(rows), _frame(cols))
    return to_anndata(table) if as_anndata else table


def write_gctx(path: str | os.PathLike, data) -> None:
    """Writes a GeneTable, an AnnData (obs = signatures, var = genes) or a (values, genes, signatures) tuple as
    GCTX (or GCT for a .gct name), atomically: the file appears whole or not at all. Call it on one rank."""
    table = as_gene_table(data)
    _core.write_gene_matrix(
        os.fspath(path), table.values, _meta(table.genes, "gene"), _meta(table.signatures, "signature")
    )


def to_anndata(table: GeneTable):
    """The AnnData of a GeneTable: X = values.T (signatures x genes), obs = signatures, var = genes."""
    import anndata

    obs = table.signatures.copy()
    var = table.genes.copy()
    obs.index = obs.index.astype(str)
    var.index = var.index.astype(str)
    values = np.asarray(table.values)
    return anndata.AnnData(X=values.T, obs=obs, var=var, dtype=values.dtype)  # anndata 0.8 would make it float32


def as_gene_table(data) -> GeneTable:
    """A GeneTable from a GeneTable, an AnnData (X dense or sparse) or a (values, genes, signatures) tuple."""
    if isinstance(data, GeneTable):
        return data
    if hasattr(data, "obs") and hasattr(data, "var") and hasattr(data, "X"):
        x = data.X.toarray() if hasattr(data.X, "toarray") else np.asarray(data.X)
        return GeneTable(x.T, data.var, data.obs)
    if isinstance(data, tuple) and len(data) == 3:
        return GeneTable(*data)
    raise _core.InputError(
        f"expected a GeneTable, an AnnData or (values, genes, signatures); got {type(data).__name__}"
    )


def inspect(path: str | os.PathLike, **options) -> str:
    """Prints the summary of `tessera inspect` for a GCTX, GCT or .h5ad file (shape, fields, statistics) and
    returns it as text."""
    return _commands.run("inspect", {"file": path, **options})
