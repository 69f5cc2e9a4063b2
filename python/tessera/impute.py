"""tessera.impute: cross-validated imputation of missing (cell type, perturbation) signatures."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd

from . import _commands
from ._tables import input_path, read_csv, read_table


@dataclass
class ImputeResult:
    """What `tessera impute` writes, in memory (rank 0)."""

    metrics: pd.DataFrame  # metrics.csv: one row per method (cell 'all') and per method and cell type
    folds: pd.DataFrame  # folds.csv: the fold of every held-out (cell, perturbation) pair
    heldout: dict = field(default_factory=dict)  # method -> held-out predictions (AnnData or GeneTable)
    completed: dict = field(default_factory=dict)  # method -> completed table: observed + imputed
    metrics_vs_truth: pd.DataFrame | None = None  # built-in simulated data: never-measured pairs vs the truth
    inner_cv: dict = field(default_factory=dict)  # method -> inner_cv_<method>.csv (autotune=True, "stack")
    printed: str = ""  # the tables as the command line prints them

    def __repr__(self) -> str:
        return self.printed.strip() or repr(self.metrics)


@_commands.document("impute", "Imputes missing (cell type, perturbation) signatures and scores the methods.")
def impute(
    data=None,
    methods="all",
    protocol: str | None = None,
    folds: int | None = None,
    fold_file: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    tables: str = "anndata",
    **options,
) -> ImputeResult | None:
    """Cross-validates imputation methods on a (cell type x perturbation) table and completes it, as
    `tessera impute` does (same options, same numbers).

    data: a GCTX/GCT/.h5ad path, an AnnData (signatures, or single cells to pseudobulk), a GeneTable or
        (values, genes, signatures); None runs on the built-in simulated screen.
    methods: a method name or a list of them ("all": every method).
    protocol, folds, fold_file: how entries are held out (as --protocol, --folds, --fold-file).
    out: a folder to keep the files in; None works in a temporary folder removed afterwards.
    tables: "anndata" or "arrays" (GeneTable) for the held-out and completed tables.
    Returns an ImputeResult on rank 0 and None on the other ranks.
    """
    with _commands.WorkFolder(out) as work:
        folder = work.out
        knobs = {
            "input": input_path(data, work.inputs, "data"),
            "method": methods,
            "protocol": protocol,
            "folds": folds,
            "fold_file": fold_file,
            "out": folder,
            **options,
        }
        printed = _commands.run("impute", knobs)
        if not _commands.is_root():
            return None
        metrics = pd.read_csv(folder / "metrics.csv")
        result = ImputeResult(
            metrics=metrics,
            folds=pd.read_csv(folder / "folds.csv"),
            metrics_vs_truth=read_csv(folder / "metrics_vs_truth.csv"),
            printed=printed,
        )
        for method in metrics["method"].unique():
            for kind, tables_of in (("heldout", result.heldout), ("completed", result.completed)):
                written = [p for p in folder.glob(f"{kind}_{method}.*") if p.suffix in (".gctx", ".h5ad")]
                if written:
                    tables_of[method] = read_table(written[0], tables)
            choices = read_csv(folder / f"inner_cv_{method}.csv")
            if choices is not None:
                result.inner_cv[method] = choices
        return result
