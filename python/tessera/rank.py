"""tessera.rank: drug signatures (observed, imputed, and pairs) ranked by how strongly they reverse a query."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from . import _commands, _core
from ._tables import input_path, written_by_root


def _query_path(query, folder: Path) -> str:
    """The --query CSV (gene symbol or Entrez id, value; header skipped): a path as given; a pandas Series (index:
    genes), a one-column DataFrame (index: genes), a two-column DataFrame (gene, value) or a dict written."""
    if isinstance(query, (str, os.PathLike)):
        return os.fspath(query)
    if isinstance(query, Mapping):
        query = pd.Series(query)
    if isinstance(query, pd.DataFrame):
        if query.shape[1] == 1:
            query = query.iloc[:, 0]
        elif query.shape[1] == 2:
            query = query.set_index(query.columns[0]).iloc[:, 0]
        else:
            raise _core.InputError(
                f"query: a DataFrame needs one value column (genes as the index) or two (gene, value); it has "
                f"{query.shape[1]}"
            )
    if not isinstance(query, pd.Series):
        raise _core.InputError(f"query: expected a path, a pandas Series gene -> value or a dict; got {type(query)}")
    table = pd.DataFrame({"gene": query.index.astype(str), "value": query.to_numpy(dtype=float)})
    return written_by_root(folder / "query.csv", lambda path: table.to_csv(path, index=False))


def _signature_paths(tables, folder: Path, prefix: str) -> list[str] | None:
    """--library / --heldout files: a path, a GeneTable or AnnData, a list of those, or a dict method -> table (as
    ImputeResult.completed / .heldout), written as <prefix><method> so that the command labels them by method."""
    if tables is None:
        return None
    if isinstance(tables, Mapping):
        return [input_path(table, folder, f"{prefix}{method}") for method, table in tables.items()]
    one_table = isinstance(tables, tuple) and len(tables) == 3 and isinstance(tables[0], np.ndarray)
    if isinstance(tables, (list, tuple)) and not one_table:  # a GeneTable is a tuple of (values, genes, signatures)
        return [input_path(table, folder, f"table{i}") for i, table in enumerate(tables)]
    return [input_path(tables, folder, "table")]


@_commands.document("rank", "Ranks drug signatures by how strongly they reverse a query signature.")
def rank(
    query,
    library,
    score: str | None = None,
    pairs: bool | None = None,
    top: int | None = None,
    heldout=None,
    out: str | os.PathLike | None = None,
    **options,
) -> pd.DataFrame | None:
    """Scores every library signature (and with pairs=True every pair) against the reversed query and returns the
    top-k table, as `tessera rank` does (same options, same table).

    query: a CSV path (gene symbol or Entrez id, value), a pandas Series gene -> value, a DataFrame (gene, value),
        or a dict gene -> value.
    library: a GCTX/GCT/.h5ad path, a GeneTable or AnnData, a list of those, or a dict method -> table such as
        ImputeResult.completed (written as completed_<method>, so imputed columns are labelled by method).
    score: the score candidates are ranked by (--rank-by: connectivity, cosine, pearson or ncs).
    pairs: also score every pair of signatures (the sum of the two).
    top: rows of the table (--top-k).
    heldout: heldout_<method> files for the bootstrap interval of imputed signatures: paths, or a dict method ->
        table such as ImputeResult.heldout.
    out: a CSV file to keep the table in; None keeps no file.
    Other options as the command's: permutations, permutation_stop, compound_info, enrichment_top, seed, ...
    Returns the top-k table (rank, candidate, cell_id, pert_id, source, score, low, high, cosine, pearson, wtcs,
    es_up, es_down, ncs, p_value, fdr, and target, moa with compound_info; 'n/a' read as NaN) on rank 0 and None on
    the other ranks. Its attrs["compounds"] is the compound table (<out>.compounds.csv) and, with compound_info,
    attrs["enrichment"] the target / MOA enrichment (<out>.enrichment.csv).
    """
    with _commands.WorkFolder(None) as work:
        inputs = work.inputs
        table = Path(out) if out is not None else work.temporary / "rank.csv"
        knobs = {
            "query": _query_path(query, inputs),
            "library": _signature_paths(library, inputs, "completed_"),
            "heldout": _signature_paths(heldout, inputs, "heldout_"),
            "rank_by": score,
            "pairs": pairs,
            "top_k": top,
            "out": table,
            **options,
        }
        _commands.run("rank", knobs)
        if not _commands.is_root():
            return None
        def read(path, **kwargs):
            return pd.read_csv(path, na_values=["n/a"], keep_default_na=False, **kwargs)

        top_table = read(table, dtype={"cell_id": str, "pert_id": str})
        stem = str(table)[:-4] if str(table).endswith(".csv") else str(table)
        top_table.attrs["compounds"] = read(stem + ".compounds.csv", dtype={"pert_id": str, "name": str})
        if Path(stem + ".enrichment.csv").exists():
            top_table.attrs["enrichment"] = read(stem + ".enrichment.csv", dtype={"term": str, "compounds": str})
        return top_table
