"""tessera.simulate and tessera.simulate_dag: simulated screens and causal-discovery data sets with their truth."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import _commands
from ._tables import read_table
from .discover import graph_from_edges


@dataclass
class SimulateResult:
    """What `tessera simulate` writes, in memory (rank 0)."""

    data: object  # the observed samples: AnnData (or GeneTable with tables='arrays'); None for --release
    truth: dict = field(default_factory=dict)  # every dataset of the truth HDF5 file, by path (read_truth)
    truth_attributes: dict = field(default_factory=dict)  # the truth group's attributes (parameters, seed, format)
    data_path: Path | None = None  # the written samples (the folder with release='beta'); None when not kept
    truth_path: Path | None = None  # the truth HDF5 file; None when not kept
    printed: str = ""  # what the command line prints

    def __repr__(self) -> str:
        return self.printed.strip() or repr(self.data)


def read_truth(path: str | os.PathLike) -> tuple[dict, dict]:
    """The datasets and attributes of a truth HDF5 file written by `tessera simulate`, read with h5py (the engine
    offers no Python reader of it). Datasets come back by their path under the top group ("signatures",
    "network/parents", ...) as numpy arrays, strings decoded. A matrix is stored as the transpose of the engine's:
    "signatures" is (cells * drugs) x genes, row cell * num_drugs + drug; "baseline_means" and "intercepts" are
    cells x genes; "network/weights" is cells x edges (edge e from network/parents[e] to network/children[e]).
    Attributes: the simulation parameters, seed (text), format and version."""
    import h5py

    datasets: dict = {}
    with h5py.File(path, "r") as file:
        top = file["truth"] if "truth" in file else file
        attributes = {name: _decoded(value) for name, value in top.attrs.items()}

        def keep(name, item):
            if isinstance(item, h5py.Dataset):
                value = item[()]
                datasets[name] = _decoded(value)

        top.visititems(keep)
    return datasets, attributes


def _decoded(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO":
        return np.array([v.decode() if isinstance(v, bytes) else v for v in value.ravel()], dtype=object).reshape(
            value.shape
        )
    return value


@_commands.document("simulate", "Simulates a CMap-like screen and its ground truth.")
def simulate(
    out: str | os.PathLike | None = None,
    truth: str | os.PathLike | None = None,
    tables: str = "anndata",
    **options,
) -> SimulateResult | None:
    """Simulates a screen from a causal gene network, as `tessera simulate` does (same options, same numbers for
    the same seed): the observed samples and the ground truth (true signatures of every pair, DAG, targets).

    out: the file of the samples (GCTX, GCT for a .gct name; an .h5ad with single_cell=True; a folder with
        release='beta'); None works in a temporary folder removed afterwards.
    truth: the truth HDF5 file; default: beside out, named <out stem>_truth.h5 (truth.h5 inside the release
        folder), so nothing is written to the working folder.
    tables: "anndata" or "arrays" (GeneTable) for the samples.
    Returns a SimulateResult on rank 0 (data; truth and truth_attributes as read_truth gives them; the paths when
    kept) and None on the other ranks. With release='beta' data is None: read the level-5 GCTX of data_path.
    """
    release = options.get("release") is not None
    single_cell = bool(options.get("single_cell"))
    with _commands.WorkFolder(None) as work:
        folder = work.temporary
        default_name = "release" if release else ("simulated.h5ad" if single_cell else "simulated.gctx")
        data_path = Path(out) if out is not None else folder / default_name
        if release:
            truth_path = data_path / "truth.h5"
        else:
            truth_path = Path(truth) if truth is not None else data_path.with_name(data_path.stem + "_truth.h5")
        knobs = {"out": data_path, "truth": None if release else truth_path, **options}
        printed = _commands.run("simulate", knobs)
        if not _commands.is_root():
            return None
        datasets, attributes = read_truth(truth_path)
        return SimulateResult(
            data=None if release else read_table(data_path, tables),
            truth=datasets,
            truth_attributes=attributes,
            data_path=data_path if out is not None else None,
            truth_path=truth_path if out is not None or truth is not None else None,
            printed=printed,
        )


@dataclass
class SimulateDagResult:
    """What `tessera simulate-dag` writes, in memory (rank 0)."""

    data: pd.DataFrame  # data.csv: one column per variable and 'setting' (obs or the setting's name); format
    # dcdi: data_interv1.npy as columns X0, X1, ... and 'regime' (regime1.csv; 0: observational)
    truth_edges: pd.DataFrame  # truth_edges.csv: source, target, weight
    truth_graph: object  # networkx.DiGraph of the true DAG: every variable a node, arcs with their weight
    truth_targets: pd.DataFrame  # truth_targets.csv: setting, target, listed (yes: in targets; no: hidden)
    targets: str | None  # targets.txt: the listed targets as discover's targets= value; None for format dcdi
    folder: Path | None = None  # the output folder when kept
    printed: str = ""

    def __repr__(self) -> str:
        return self.printed.strip() or repr(self.truth_edges)


@_commands.document("simulate-dag", "Simulates observational and interventional data from a random linear SEM.")
def simulate_dag(out: str | os.PathLike | None = None, **options) -> SimulateDagResult | None:
    """Simulates a causal-discovery data set from a random linear Gaussian SEM, as `tessera simulate-dag` does
    (same options, same numbers for the same seed).

    out: a folder to keep data.csv, targets.txt (or the DCDI files with format='dcdi') and the truth in; None
        works in a temporary folder removed afterwards.
    Returns a SimulateDagResult on rank 0 (data as a DataFrame, the truth as edges, a networkx.DiGraph and
    targets, and the listed targets as discover's targets= text) and None on the other ranks.
    """
    with _commands.WorkFolder(out) as work:
        folder = work.out
        printed = _commands.run("simulate-dag", {"out": folder, **options})
        if not _commands.is_root():
            return None
        csv = options.get("format", "csv") != "dcdi"
        if csv:
            data = pd.read_csv(folder / "data.csv", float_precision="round_trip", dtype={"setting": str})
            variables = [c for c in data.columns if c != "setting"]
        else:  # DCDI: the samples of data_interv1.npy, named X0, X1, ... as discover names them, and the regime
            samples = np.load(folder / "data_interv1.npy")
            variables = [f"X{j}" for j in range(samples.shape[1])]
            data = pd.DataFrame(samples, columns=variables)
            data["regime"] = (folder / "regime1.csv").read_text().split()
        edges = pd.read_csv(
            folder / "truth_edges.csv", dtype={"source": str, "target": str}, float_precision="round_trip"
        )
        return SimulateDagResult(
            data=data,
            truth_edges=edges,
            truth_graph=graph_from_edges(edges, variables),
            truth_targets=pd.read_csv(folder / "truth_targets.csv", dtype=str),
            targets=(folder / "targets.txt").read_text().strip() if csv else None,
            folder=folder if out is not None else None,
            printed=printed,
        )
