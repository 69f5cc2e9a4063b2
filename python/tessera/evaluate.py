"""tessera.evaluate: predicted signatures scored against measured or true ones."""

from __future__ import annotations

import os

import pandas as pd

from . import _commands
from ._tables import input_path


@_commands.document("evaluate", "Scores predicted signatures against measured or true ones.")
def evaluate(
    predictions,
    truth=None,
    ground_truth: str | os.PathLike | None = None,
    fold_file: str | os.PathLike | None = None,
    **options,
) -> pd.DataFrame | None:
    """Scores predictions against measured signatures (truth) or the simulator's ground truth, as `tessera
    evaluate` does (same options, same metrics).

    predictions: a GCTX/GCT/.h5ad path, a GeneTable or an AnnData with cell_id and pert_id fields (e.g.
        ImputeResult.completed["dnpp"]), or GEARS / CPA predictions (.h5ad, see predictions_are).
    truth: measured signatures, in the same forms; ground_truth: the HDF5 truth of `tessera simulate`.
    fold_file: with truth, score only the pairs held out in it (folds.csv of impute).
    name: the label of the predictions in the table (default: the file's name; "predictions" for a table).
    Returns the metrics table (method, scope, pearson_r, ...) on rank 0 and None on the other ranks.
    """
    with _commands.WorkFolder(None) as work:
        table = work.temporary / "metrics.csv"
        knobs = {
            "predictions": input_path(predictions, work.inputs, "predictions"),
            "truth": input_path(truth, work.inputs, "truth"),
            "ground_truth": ground_truth,
            "fold_file": fold_file,
            "out": table,
            **options,
        }
        _commands.run("evaluate", knobs)
        return pd.read_csv(table) if _commands.is_root() else None
