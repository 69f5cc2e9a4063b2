"""tessera.design: sequential optimal intervention design on a linear SEM."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from . import _commands
from .discover import write_edges, write_frame


@_commands.document("design", "Sequential optimal intervention design on a linear SEM.")
def design(
    dag=None, pool=None, pool_data=None, out: str | os.PathLike | None = None, **options
) -> pd.DataFrame | None:
    """Chooses shift interventions round by round and returns the mean distance to the target per round for each
    acquisition, as `tessera design` does (same options, same numbers for the same seed).

    dag: the DAG (a CSV path, a networkx DiGraph whose arcs may carry a 'weight', or an edge DataFrame
        source,target[,weight] or from,to such as DiscoverResult.edges); None: random DAGs (nodes, edge_prob).
        The command numbers the nodes in the order the arcs first name them, and the random draws follow that
        numbering: a graph is written in its own arc order (graph.edges), so the same arcs listed in another order
        give other (equally valid) numbers for the same seed.
    pool: a finite pool of named shifts: a CSV path or a DataFrame (perturbation, one column per DAG node).
    pool_data: interventional data to fit the SEM on and take one candidate per setting from (a path or a
        DataFrame, as discover's data); the fitted pool comes back in the table's attrs["pool"].
    acquisition: a list of greedy | variance | ucb | mi | random (default all).
    out: a CSV file to keep the table in (and <out>.pool.csv with pool_data); None keeps no file.
    Returns the table (round, then one column per acquisition) on rank 0 and None on the other ranks.
    """
    with _commands.WorkFolder(None) as work:
        inputs = work.inputs
        table = Path(out) if out is not None else work.temporary / "design.csv"
        knobs = {
            "dag": write_edges(dag, inputs, "dag"),
            "pool": write_frame(pool, inputs, "pool"),
            "pool_data": write_frame(pool_data, inputs, "pool_data"),
            "out": table,
            **options,
        }
        _commands.run("design", knobs)
        if not _commands.is_root():
            return None
        result = pd.read_csv(table)
        pool_table = Path(os.fspath(table) + ".pool.csv")
        if pool_data is not None and pool_table.exists():
            result.attrs["pool"] = pd.read_csv(pool_table, dtype={"perturbation": str})
        return result
