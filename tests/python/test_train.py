"""tessera.train against the command line: the same input and seed give the same losses and latent codes."""

import re

import numpy as np
import pandas as pd
import pytest

import tessera
from conftest import TINY, run_cli, simulate_screen
from tessera.train import train

MODEL = {"ae_max_epochs": 2, "ae_width": 8, "ae_batch_size": 16, "ae_seed": 3, "ae_threads": 1}


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory):
    """A tiny simulated input (30 genes x 34 profiles) and a 2-epoch model trained on it by the command line."""
    folder = tmp_path_factory.mktemp("cli")
    simulate_screen(folder / "input.gctx", TINY)
    probe = run_cli("train", "-i", folder / "input.gctx", "-o", folder / "model", "--zscore", "--log-level", "warn",
                    *[item for name, value in MODEL.items() for item in ("--" + name.replace("_", "-"), value)],
                    check=False)
    if "built without LibTorch" in probe.stderr:
        pytest.skip("this tessera was built without LibTorch: no `tessera train`")
    assert probe.returncode == 0, probe.stderr[-3000:]
    return folder


def test_kept_model_equals_the_command_lines(cli_out, tmp_path):
    result = train(cli_out / "input.gctx", out=tmp_path / "model", zscore=True, log_level="warn", **MODEL)
    pd.testing.assert_frame_equal(result.loss, pd.read_csv(cli_out / "model" / "loss.csv"), check_exact=True)
    assert list(result.loss["epoch"]) == [1, 2]
    expected = tessera.read_gctx(cli_out / "model" / "latent.gctx")
    assert result.latent.shape == (34, 8)
    assert np.array_equal(result.latent.X, expected.values.T)
    assert list(result.latent.obs["pert_id"]) == list(expected.signatures["pert_id"])
    assert result.model == tmp_path / "model"
    for name in ("checkpoints/latest", "scaling.h5", "latent.gctx"):
        assert (result.model / name).exists(), name


def test_in_memory_input_gives_the_same_codes(cli_out):
    table = tessera.read_gctx(cli_out / "input.gctx")
    result = train(table, tables="arrays", zscore=True, log_level="warn", **MODEL)
    assert result.model is None
    assert np.array_equal(result.latent.values, tessera.read_gctx(cli_out / "model" / "latent.gctx").values)
    pd.testing.assert_frame_equal(result.loss, pd.read_csv(cli_out / "model" / "loss.csv"), check_exact=True)


def test_bad_option_raises_the_engines_message(cli_out):
    message = "--ae-max-epochs 0 is invalid: the allowed values of ae_max_epochs are at least 1"
    with pytest.raises(tessera.InputError, match=re.escape(message)):
        train(cli_out / "input.gctx", ae_max_epochs=0)
    with pytest.raises(tessera.InputError, match=re.escape("--alignment takes two cell types, A,B (got 1)")):
        train(cli_out / "input.gctx", alignment="CELL01", log_level="quiet")
