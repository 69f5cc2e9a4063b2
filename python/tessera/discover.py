"""tessera.discover: a causal DAG (GSP, IGSP, UT-IGSP) from observational and interventional data."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import _commands, _core
from ._tables import read_csv, written_by_root


@dataclass
class DiscoverResult:
    """What `tessera discover` writes, in memory (rank 0)."""

    graph: object  # networkx.DiGraph: every variable a node (isolated ones too), the arcs of dag_edges.csv
    edges: pd.DataFrame  # dag_edges.csv: from, to
    targets: pd.DataFrame  # targets.csv: setting, target (learned by utigsp, the given ones for igsp)
    stability: pd.DataFrame | None = None  # edge_stability.csv (with bootstrap > 0): source, target, frequency
    metrics: pd.DataFrame | None = None  # metrics.csv (with truth): SHD, precision, recall, targets found
    restarts: pd.DataFrame | None = None  # restarts.csv: each restart's rank, arcs, score, DAGs, tests, seconds
    timing: pd.DataFrame | None = None  # timing.csv: ranks, read and search seconds, test counts
    printed: str = ""  # what the command line prints

    def __repr__(self) -> str:
        return self.printed.strip() or repr(self.edges)


def graph_from_edges(edges: pd.DataFrame, nodes=()):
    """A networkx.DiGraph of an edge table: the first two columns are the arc (from, to or source, target), the
    others (weight, frequency, ...) become edge attributes; `nodes` are added first, in their order."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    source, target, *attributes = edges.columns
    for row in edges.itertuples(index=False):
        values = dict(zip(edges.columns, row))
        graph.add_edge(values[source], values[target], **{name: values[name] for name in attributes})
    return graph


def write_edges(dag, folder: Path, name: str) -> str | None:
    """The edge-list CSV a command reads a DAG from (--dag, --truth): a path as given; a networkx graph as
    source,target (plus weight when every arc has one); a DataFrame as it is (source,target[,weight] or from,to).
    Rank 0 writes, every rank waits for the file."""
    if dag is None:
        return None
    if isinstance(dag, (str, os.PathLike)):
        return os.fspath(dag)
    if isinstance(dag, pd.DataFrame):
        table = dag
    elif hasattr(dag, "edges") and hasattr(dag, "nodes"):
        arcs = list(dag.edges(data=True))
        weighted = bool(arcs) and all("weight" in data for _, _, data in arcs)
        columns = ["source", "target"] + (["weight"] if weighted else [])
        table = pd.DataFrame(
            [(a, b, data["weight"]) if weighted else (a, b) for a, b, data in arcs], columns=columns, dtype=object
        )
    else:
        raise _core.InputError(f"expected a path, a networkx DiGraph or an edge DataFrame; got {type(dag).__name__}")
    return written_by_root(folder / (name + ".csv"), lambda path: table.to_csv(path, index=False))


def write_frame(data, folder: Path, name: str) -> str | None:
    """A path as given; a pandas DataFrame as a CSV without its index (floats written to round-trip exactly)."""
    if data is None or isinstance(data, (str, os.PathLike)):
        return None if data is None else os.fspath(data)
    if not isinstance(data, pd.DataFrame):
        raise _core.InputError(f"expected a path or a pandas DataFrame; got {type(data).__name__}")
    return written_by_root(folder / (name + ".csv"), lambda path: data.to_csv(path, index=False))


def targets_text(targets) -> str | None:
    """--targets from {setting: target or [targets]}: 'setting:var1;var2,setting:var3'; a string as it is."""
    if targets is None or isinstance(targets, str):
        return targets
    if not isinstance(targets, Mapping):
        raise _core.InputError(f"targets: give 'setting:var1;var2,...' or a dict setting -> targets, not {targets!r}")
    items = []
    for setting, names in targets.items():
        names = [names] if isinstance(names, str) else list(names)
        items.append(f"{setting}:" + ";".join(map(str, names)))
    return ",".join(items)


def _arcs_text(arcs) -> str | None:
    """--required / --forbidden from [(a, b), ...]: 'a>b,...'; a string as it is."""
    if arcs is None or isinstance(arcs, str):
        return arcs
    return ",".join(f"{a}>{b}" for a, b in arcs)


def _read_arcs(path: Path) -> pd.DataFrame | None:
    """edge_stability.csv, with the variable names as text even when they look like numbers."""
    return pd.read_csv(path, dtype={"source": str, "target": str}) if path.exists() else None


def _dot_nodes(path: Path) -> list[str]:
    """The variables of dag.dot in their order (node lines '  "name";', quotes and backslashes escaped)."""
    nodes = []
    for line in path.read_text().splitlines():
        match = re.fullmatch(r'\s*"((?:[^"\\]|\\.)*)";', line)
        if match:
            nodes.append(re.sub(r"\\(.)", r"\1", match.group(1)))
    return nodes


@_commands.document("discover", "Learns a causal DAG from observational and interventional data.")
def discover(
    data,
    setting_column: str | None = None,
    algorithm: str | None = None,
    targets=None,
    truth=None,
    out: str | os.PathLike | None = None,
    **options,
) -> DiscoverResult | None:
    """Learns a causal DAG by greedy sparsest permutation search, as `tessera discover` does (same options, same
    graph).

    data: a CSV path (one numeric column per variable plus a setting column), a DCDI folder, a GCTX/GCT/.h5ad
        file, or a pandas DataFrame of the same layout as the CSV (written to a temporary CSV).
    setting_column: the column naming each row's setting (--setting-column; default 'setting', pert_iname for
        GCTX). Rows whose setting is 0, obs or observational are observational (--observational).
    algorithm: gsp (observational only), igsp (known targets) or utigsp (unknown targets, learned).
    targets: known targets, 'setting:var1;var2,...' or a dict {setting: [variables]} (--targets).
    truth: the true DAG (a path, a networkx DiGraph or an edge DataFrame): adds metrics (metrics.csv).
    required, forbidden: arcs as 'a>b,c>d' or a list of (a, b) pairs.
    out: a folder to keep dag_edges.csv, dag.dot, targets.csv, restarts.csv, timing.csv (and edge_stability.csv,
        metrics.csv) in; None works in a temporary folder removed afterwards.
    Returns a DiscoverResult on rank 0 (graph: a networkx.DiGraph with every variable as a node; edges, targets;
    stability with bootstrap > 0; metrics with truth; restarts and timing: what the search cost) and None on the
    other ranks.
    """
    for name in ("required", "forbidden"):
        if name in options:
            options[name] = _arcs_text(options[name])
    with _commands.WorkFolder(out) as work:
        folder, inputs = work.out, work.inputs
        knobs = {
            "input": write_frame(data, inputs, "data"),
            "setting_column": setting_column,
            "algorithm": algorithm,
            "targets": targets_text(targets),
            "truth": write_edges(truth, inputs, "truth"),
            "out": folder,
            **options,
        }
        if isinstance(knobs.get("truth_targets"), pd.DataFrame):
            knobs["truth_targets"] = write_frame(knobs["truth_targets"], inputs, "truth_targets")
        printed = _commands.run("discover", knobs)
        if not _commands.is_root():
            return None
        edges = pd.read_csv(folder / "dag_edges.csv", dtype=str)
        return DiscoverResult(
            graph=graph_from_edges(edges, _dot_nodes(folder / "dag.dot")),
            edges=edges,
            targets=pd.read_csv(folder / "targets.csv", dtype=str),
            stability=_read_arcs(folder / "edge_stability.csv"),
            metrics=read_csv(folder / "metrics.csv"),
            restarts=read_csv(folder / "restarts.csv"),
            timing=read_csv(folder / "timing.csv"),
            printed=printed,
        )
