"""tessera.impute and the GCTX arrays against the command line and against h5py, an independent reader."""

import json
import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time

import h5py
import numpy as np
import pandas as pd
import pytest

import tessera
from conftest import SMALL, clean_environment, run_cli, run_python, simulate_screen

CHEAP = dict(methods=["cell_mean", "two_way_mean"], folds=2)
CHEAP_ARGS = ["--method", "cell_mean,two_way_mean", "--folds", 2]


@pytest.fixture(scope="module")
def screen(tmp_path_factory):
    """A small simulated screen (GCTX), and the command line's impute run on it."""
    folder = tmp_path_factory.mktemp("screen")
    simulate_screen(folder / "screen.gctx", SMALL)
    run_cli("impute", "--input", folder / "screen.gctx", *CHEAP_ARGS, "--out", folder / "cli")
    return folder


def without_seconds(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics.drop(columns=["seconds"])


def test_read_gctx_matches_h5py(screen):
    table = tessera.read_gctx(screen / "screen.gctx")
    with h5py.File(screen / "screen.gctx") as f:
        stored = f["0/DATA/0/matrix"][()]  # signatures x genes, row-major
        col_ids = [x.decode() for x in f["0/META/COL/id"][()]]
        cell_ids = [x.decode() for x in f["0/META/COL/cell_id"][()]]
    assert table.values.dtype == stored.dtype
    np.testing.assert_array_equal(table.values, stored.T)
    assert list(table.signatures.index) == col_ids
    assert list(table.signatures["cell_id"]) == cell_ids
    adata = tessera.read_gctx(screen / "screen.gctx", as_anndata=True)
    np.testing.assert_array_equal(adata.X, stored)
    assert list(adata.obs_names) == col_ids


@pytest.mark.parametrize(
    "layout",
    ["float32 C", "float32 Fortran", "float32 strided view", "float64 C", "float64 Fortran", "int64"],
)
def test_write_gctx_any_dtype_and_memory_order(screen, tmp_path, layout):
    table = tessera.read_gctx(screen / "screen.gctx")
    dtype, order = layout.split(" ", 1) if " " in layout else (layout, "C")
    values = np.asarray(table.values, dtype=np.float64) * 4
    if dtype == "int64":
        values = np.round(values).astype(np.int64)
    elif order == "strided view":
        wide = np.zeros((values.shape[0], 2 * values.shape[1]), dtype=dtype)
        wide[:, ::2] = values
        values = wide[:, ::2]
        assert not values.flags.c_contiguous and not values.flags.f_contiguous
    else:
        values = np.asarray(values, dtype=dtype, order="F" if order == "Fortran" else "C")
    tessera.write_gctx(tmp_path / "out.gctx", tessera.GeneTable(values, table.genes, table.signatures))
    with h5py.File(tmp_path / "out.gctx") as f:
        stored = f["0/DATA/0/matrix"][()]
        assert stored.dtype == (np.float32 if dtype == "float32" else np.float64)
        np.testing.assert_array_equal(stored.T, values.astype(stored.dtype))
        assert [x.decode() for x in f["0/META/ROW/id"][()]] == list(table.genes.index)
    back = tessera.read_gctx(tmp_path / "out.gctx")
    pd.testing.assert_frame_equal(back.signatures, table.signatures)


def test_write_gctx_refuses_mismatched_metadata(screen, tmp_path):
    table = tessera.read_gctx(screen / "screen.gctx")
    with pytest.raises(tessera.InputError, match="the signature metadata has 29 ids but the matrix has 30"):
        tessera.write_gctx(tmp_path / "bad.gctx", (table.values[:, :30], table.genes, table.signatures.iloc[:29]))
    missing = table.signatures.astype({"cell_id": object}).copy()
    missing.iloc[2, missing.columns.get_loc("cell_id")] = None
    with pytest.raises(tessera.InputError, match="the signature field 'cell_id' has no value for"):
        tessera.write_gctx(tmp_path / "bad.gctx", (table.values, table.genes, missing))
    assert not (tmp_path / "bad.gctx").exists()


def test_inspect_prints_what_the_command_line_prints(screen, capsys):
    text = tessera.inspect(screen / "screen.gctx")
    assert capsys.readouterr().out == text == run_cli("inspect", screen / "screen.gctx").stdout
    assert "60 genes x" in text


def test_option_table_lists_the_command_lines_options():
    table = tessera.option_table("impute").set_index("name")
    assert table.loc["dnpp_k", "default"] == "10" and table.loc["dnpp_k", "help"].endswith("(at least 1)")
    assert bool(table.loc["per_cell", "switch"])


def test_impute_equals_command_line(screen):
    cli_metrics = pd.read_csv(screen / "cli" / "metrics.csv")
    for data in (screen / "screen.gctx", tessera.read_gctx(screen / "screen.gctx")):
        result = tessera.impute(data, **CHEAP)
        pd.testing.assert_frame_equal(without_seconds(result.metrics), without_seconds(cli_metrics))
        pd.testing.assert_frame_equal(result.folds, pd.read_csv(screen / "cli" / "folds.csv"))
        for method in CHEAP["methods"]:
            cli_table = tessera.read_gctx(screen / "cli" / f"completed_{method}.gctx")
            np.testing.assert_array_equal(result.completed[method].X, cli_table.values.T)
            assert list(result.completed[method].obs["imputed"]) == list(cli_table.signatures["imputed"])
            assert result.heldout[method].n_obs == len(result.folds)


def test_autotune_and_stack_return_their_choices(screen):
    result = tessera.impute(str(screen / "screen.gctx"), methods=["two_way_mean", "stack"], folds=2, inner_folds=2,
                            autotune=True, stack_methods="cell_mean,drug_mean")
    tuned = result.inner_cv["two_way_mean"]
    assert sorted(tuned["fold"].astype(str).unique()) == ["0", "1", "completion"]
    assert (tuned.groupby(tuned["fold"].astype(str))["weight"].sum() == 1).all()  # one grid point chosen per fold
    weights = result.inner_cv["stack"].groupby(["fold", "cell_id"])["weight"].sum()
    np.testing.assert_allclose(weights.to_numpy(), 1.0, atol=1e-12)
    assert set(result.inner_cv["stack"]["candidate"]) == {"cell_mean", "drug_mean"}


def test_impute_anndata_equals_command_line_on_the_same_h5ad(screen, tmp_path):
    adata = tessera.read_gctx(screen / "screen.gctx", as_anndata=True)
    adata.write_h5ad(tmp_path / "screen.h5ad")
    run_cli("impute", "--input", tmp_path / "screen.h5ad", *CHEAP_ARGS, "--out", tmp_path / "cli")
    result = tessera.impute(adata, tables="arrays", **CHEAP)
    pd.testing.assert_frame_equal(
        without_seconds(result.metrics), without_seconds(pd.read_csv(tmp_path / "cli" / "metrics.csv"))
    )
    assert isinstance(result.completed["two_way_mean"], tessera.GeneTable)


def test_options_keep_the_command_lines_names_checks_and_messages(tmp_path):
    with pytest.raises(tessera.InputError, match=r"--dnpp-k 0 is invalid: the allowed values of dnpp_k are at least 1"):
        tessera.impute(methods="dnpp", dnpp_k=0)
    with pytest.raises(tessera.InputError, match="has no option dnpp_kk; did you mean dnpp_k"):
        tessera.impute(methods="dnpp", dnpp_kk=3)
    with pytest.raises(tessera.InputError, match="--method 'dnp' is not one of all"):
        tessera.impute(methods="dnp")
    with pytest.raises(tessera.InputError, match="missing.gctx"):
        tessera.impute(tmp_path / "missing.gctx", methods="cell_mean")
    assert issubclass(tessera.InputError, ValueError)
    doc = tessera.impute.__doc__
    assert "dnpp_k (default 10)" in doc and "at least 1" in doc


def test_logs_reach_python_logging_and_the_gil_is_free_while_it_computes(screen, caplog):
    """Between two log lines of the command the engine computes; another Python thread must run meanwhile."""
    ticks = 0
    marks = {}

    class Marker(logging.Handler):
        def emit(self, record):
            marks.setdefault(record.getMessage(), ticks)

    handler = Marker()
    logging.getLogger("tessera").addHandler(handler)
    done = threading.Event()

    def impute_in_a_thread():
        tessera.impute(screen / "screen.gctx", methods="dnpp,falrtc", folds=2, falrtc_iterations=1)
        done.set()

    worker = threading.Thread(target=impute_in_a_thread)
    try:
        with caplog.at_level(logging.INFO, logger="tessera"):
            worker.start()
            while not done.is_set():
                ticks += 1
            worker.join()
    finally:
        logging.getLogger("tessera").removeHandler(handler)
    start = next(v for k, v in marks.items() if k.startswith("method dnpp: cross-validating over 2 fold(s)"))
    end = next(v for k, v in marks.items() if k.startswith("method falrtc: cross-validating"))
    assert end - start > 1000, f"only {end - start} ticks of the main thread while dnpp ran"
    assert any(r.name == "tessera" and r.levelno == logging.INFO for r in caplog.records)


def test_ctrl_c_stops_the_command_and_raises_stopped(screen, tmp_path):
    script = tmp_path / "long.py"
    script.write_text(textwrap.dedent(f"""
        import logging, sys, tessera
        class Ready(logging.Handler):
            def emit(self, record):
                if "cross-validating" in record.getMessage():
                    print("computing", file=sys.stderr, flush=True)  # stdout is the command's while it runs
        logging.getLogger("tessera").addHandler(Ready())
        logging.getLogger("tessera").setLevel(logging.INFO)
        try:
            tessera.impute({str(screen / 'screen.gctx')!r}, methods="falrtc", folds=2, falrtc_iterations=100000,
                           falrtc_tolerance=0, out={str(tmp_path / 'out')!r})
        except KeyboardInterrupt as stop:
            print(type(stop).__name__, stop, flush=True)
            sys.exit(3)
    """))
    child = subprocess.Popen([sys.executable, script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=clean_environment())
    assert child.stderr.readline().strip() == "computing"
    time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 3, out
    assert out.startswith("Stopped stopped on SIGINT: impute method falrtc:"), out
    assert "run the same command again to redo it" in out


def test_two_ranks_give_rank_0_the_command_lines_answer(screen, tmp_path):
    script = tmp_path / "two_ranks.py"
    script.write_text(textwrap.dedent(f"""
        from mpi4py import MPI  # first: mpi4py starts MPI, tessera uses its world
        import tessera
        result = tessera.impute({str(screen / 'screen.gctx')!r}, methods="two_way_mean", folds=2)
        assert tessera.mpi_size == MPI.COMM_WORLD.Get_size() == 2
        assert (result is None) == (MPI.COMM_WORLD.Get_rank() == 1)
        if result is not None:
            result.metrics.drop(columns=["seconds"]).to_csv({str(tmp_path / 'python.csv')!r}, index=False)
    """))
    run_python(script, ranks=2)
    run_cli("impute", "--input", screen / "screen.gctx", "--method", "two_way_mean", "--folds", 2,
            "--out", tmp_path / "cli", ranks=2)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "python.csv"), without_seconds(pd.read_csv(tmp_path / "cli" / "metrics.csv"))
    )


def test_evaluate_equals_command_line_on_files_and_on_tables(screen, tmp_path):
    completed = screen / "cli" / "completed_two_way_mean.gctx"
    truth = screen / "screen.truth.h5"
    run_cli("evaluate", "-p", completed, "--ground-truth", truth, "--only-imputed", "-o", tmp_path / "cli.csv")
    expected = pd.read_csv(tmp_path / "cli.csv")
    from_file = tessera.evaluate(completed, ground_truth=truth, only_imputed=True)
    table = tessera.read_gctx(completed, as_anndata=True)
    from_table = tessera.evaluate(table, ground_truth=truth, only_imputed=True)
    pd.testing.assert_frame_equal(from_file, expected)
    # An in-memory table is labelled "predictions" unless named
    pd.testing.assert_frame_equal(from_table.drop(columns="method"), expected.drop(columns="method"))
    assert set(from_table["method"]) == {"predictions"}
    assert expected.loc[0, "signatures"] > 0


def test_report_of_an_impute_folder_carries_its_metrics(screen, tmp_path):
    """tessera.report on a folder written by tessera.impute(out=...): the page's method chart holds metrics.csv's
    pooled Pearson r of each method, exactly."""
    tessera.impute(screen / "screen.gctx", out=tmp_path / "run", **CHEAP)
    page = tessera.report(tmp_path / "run")
    assert page == tmp_path / "run" / "report.html"
    html = page.read_text()
    opening = '<script type="application/json" id="tessera-charts">'
    charts = json.loads(html[html.index(opening) + len(opening) : html.index("</script>", html.index(opening))])
    plotted = {row["method"]: row["pearson_r"] for row in charts[0]["spec"]["data"]["values"]}
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    pooled = metrics[metrics["scope"] == "all"]
    assert plotted == dict(zip(pooled["method"], pooled["pearson_r"]))
    with pytest.raises(tessera.InputError, match="expected metrics.csv"):
        tessera.report(tmp_path)
