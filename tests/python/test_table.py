"""tessera.perturbation_table against the same table computed with pandas and numpy from the file itself."""

import anndata
import numpy as np
import pandas as pd
import pytest

import tessera
from conftest import SMALL, run_cli, simulate_screen

CONTROLS = ("ctl_vehicle", "ctl_untrt")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    simulate_screen(folder / "screen.gctx", SMALL)
    run_cli("simulate", "--single-cell", "--out", folder / "cells.h5ad", "--truth", folder / "cells_truth.h5",
            "--cell-types", 2, "--singles", 4, "--pairs", 2, "--cells-per-group", 20)
    return folder


def expected_table(values: np.ndarray, context: pd.Series, perturbation: pd.Series, is_control: np.ndarray):
    """Mean profile per (context, perturbation) minus the context's control mean, from the values themselves
    (genes x samples); rows ordered as the engine orders entries (context, then perturbation, sorted)."""
    frame = pd.DataFrame(values.T.astype(np.float64))
    control_means = frame[is_control].groupby(context[is_control].to_numpy()).mean()
    treated = frame[~is_control]
    means = treated.groupby([context[~is_control].to_numpy(), perturbation[~is_control].to_numpy()]).mean()
    means = means.sort_index()
    centred = means.to_numpy() - control_means.loc[means.index.get_level_values(0)].to_numpy()
    return means.index, centred, control_means


def test_gctx_table_is_the_group_means_minus_the_control_mean(files):
    screen = tessera.read_gctx(files / "screen.gctx")
    is_control = screen.signatures["pert_type"].isin(CONTROLS).to_numpy()
    keys, centred, control_means = expected_table(
        screen.values, screen.signatures["cell_id"], screen.signatures["pert_id"], is_control
    )
    table = tessera.perturbation_table(files / "screen.gctx")
    assert list(zip(table.signatures.obs["cell_id"], table.signatures.obs["pert_id"])) == list(keys)
    np.testing.assert_allclose(table.signatures.X, centred, rtol=0, atol=1e-12)
    replicates = screen.signatures[~is_control].groupby(["cell_id", "pert_id"]).size().sort_index()
    assert list(table.signatures.obs["replicates"]) == list(replicates)
    np.testing.assert_allclose(table.controls.X, control_means.to_numpy(), rtol=0, atol=1e-12)
    assert table.source.endswith("screen.gctx") and table.signatures.X.dtype == np.float64


def test_h5ad_cells_are_pseudobulked_as_pandas_would(files):
    cells = anndata.read_h5ad(files / "cells.h5ad")
    counts = cells.X.toarray().T
    is_control = (cells.obs["perturbation"] == "ctrl").to_numpy()
    keys, centred, _ = expected_table(counts, cells.obs["cell_type"], cells.obs["perturbation"], is_control)
    # The group means pass through float32, the type of the signature block every input is read into: they agree to
    # float32 rounding of the largest mean (twice 2^-24 relative, for the group mean and the control mean).
    tolerance = 2 * 2.0**-24 * counts.max()
    for data in (files / "cells.h5ad", cells):  # the file, and the AnnData in memory
        table = tessera.perturbation_table(data, obs_context="cell_type", obs_perturbation="perturbation", tables="arrays")
        assert list(zip(table.signatures.signatures["cell_id"], table.signatures.signatures["pert_id"])) == list(keys)
        np.testing.assert_allclose(table.signatures.values.T, centred, rtol=0, atol=tolerance)


def test_options_are_checked_with_the_command_lines_messages():
    with pytest.raises(tessera.InputError, match=r"--center 'x' is not one of auto \| none \| required; "
                                                 r"help\(tessera.perturbation_table\) lists them"):
        tessera.perturbation_table(center="x")
    assert "normalize_total" in tessera.perturbation_table.__doc__
