"""Data handed to a command (written where every rank reads it) and tables read back from its outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from . import _commands, _core
from .io import as_gene_table, read_gctx, write_gctx


def written_by_root(path: Path, write) -> str:
    """Rank 0 calls write(path) (after making its folder); every rank waits for the file and gets its name."""
    if _commands.is_root():
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
    _core.barrier()
    return os.fspath(path)


def input_path(data, folder: Path, name: str) -> str | None:
    """The file a command reads `data` from: a path as given; an AnnData as the .h5ad that anndata writes (read by
    the engine as `tessera` reads any .h5ad: cells pseudobulked, signatures as they are); a GeneTable or a
    (values, genes, signatures) tuple as GCTX. Rank 0 writes, every rank waits for the file."""
    if data is None:
        return None
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    is_anndata = hasattr(data, "obs") and hasattr(data, "var") and hasattr(data, "write_h5ad")
    if is_anndata:
        return written_by_root(folder / (name + ".h5ad"), data.write_h5ad)
    return written_by_root(folder / (name + ".gctx"), lambda path: write_gctx(path, as_gene_table(data)))


def read_table(path: Path, tables: str):
    """A written table (GCTX or .h5ad) as AnnData (tables='anndata') or GeneTable (tables='arrays')."""
    if tables not in ("anndata", "arrays"):
        raise _core.InputError(f"tables='{tables}' is not one of anndata | arrays")
    if path.suffix == ".h5ad":
        import anndata

        adata = anndata.read_h5ad(path)
        return adata if tables == "anndata" else as_gene_table(adata)
    return read_gctx(path, as_anndata=tables == "anndata")


def read_csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.exists() else None
