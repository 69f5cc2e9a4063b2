"""tessera.train: the autoencoder of Belyaeva et al. (2021), trained data-parallel over the MPI ranks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import _commands, _core
from ._tables import input_path, read_csv, read_table


@dataclass
class TrainResult:
    """What `tessera train` writes, in memory (rank 0)."""

    loss: pd.DataFrame  # loss.csv: epoch, loss (mean training loss per epoch)
    latent: object  # latent.gctx: the latent code of every input profile (AnnData, or GeneTable with tables='arrays')
    model: Path | None = None  # the kept --out folder (checkpoints/, scaling.h5): rank's model=; None when not kept
    alignment: pd.DataFrame | None = None  # alignment.csv (with alignment='A,B'): pert_id, input_cosine, latent_cosine
    printed: str = ""

    def __repr__(self) -> str:
        return self.printed.strip() or repr(self.loss)


def _train(data, out, tables, options) -> TrainResult | None:
    with _commands.WorkFolder(out) as work:
        folder = work.out
        knobs = {"input": input_path(data, work.inputs, "data"), "out": folder, **options}
        printed = _commands.run("train", knobs)
        if not _commands.is_root():
            return None
        return TrainResult(
            loss=pd.read_csv(folder / "loss.csv"),
            latent=read_table(folder / "latent.gctx", tables),
            model=folder if out is not None else None,
            alignment=read_csv(folder / "alignment.csv"),
            printed=printed,
        )


def train(data, out: str | os.PathLike | None = None, tables: str = "anndata", **options) -> TrainResult | None:
    """Trains the autoencoder on every profile of `data`, as `tessera train` does (same options, same weights for
    the same seed, ranks and ae_threads). Needs a Tessera built with LibTorch (else InputError says so).

    data: a GCTX/GCT/.h5ad path, a GeneTable, an AnnData or (values, genes, signatures).
    out: the folder of the model (checkpoints/, loss.csv, latent.gctx, scaling.h5 with zscore=True). A model is
        only usable later (rank(pair_space='latent', model=...), resume=True) from a kept folder: give out. None
        trains in a temporary folder removed afterwards: only the loss and the latent codes come back.
    tables: "anndata" or "arrays" (GeneTable) for the latent codes.
    Returns a TrainResult on rank 0 (loss, latent, model: the folder when kept, alignment with alignment='A,B')
    and None on the other ranks.
    """
    return _train(data, out, tables, options)


try:
    train = _commands.document("train", "Trains the autoencoder on the profiles of a signature file.")(train)
except _core.InputError:  # a build without LibTorch declares no train options; calling it raises the engine's error

    def train(data=None, out=None, tables="anndata", **options):  # noqa: F811
        """Trains the autoencoder: this Tessera was built without LibTorch, so it raises InputError saying so."""
        _core.run("train", [])
