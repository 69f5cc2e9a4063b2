"""tessera.simulate and tessera.simulate_dag against the command line: the same seed gives the same files."""

import re

import anndata
import numpy as np
import pandas as pd
import pytest

import tessera
from conftest import run_cli
from tessera.simulate import read_truth, simulate, simulate_dag

# A tiny screen: 30 genes, 3 cell types, 10 drugs (the defaults are 978 x 12 x 200).
SCREEN = {"num_genes": 30, "num_cells": 3, "num_drugs": 10, "target_pool_size": 20, "reference_cells": 1,
          "controls_per_cell": 4, "replicates": 2, "seed": 7}
DAG = {"nodes": 6, "observational_samples": 50, "settings": 3, "samples_per_setting": 20, "seed": 3}


def cli_args(options: dict) -> list:
    return [item for name, value in options.items() for item in ("--" + name.replace("_", "-"), value)]


@pytest.fixture(scope="module")
def screen_cli(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    run_cli("simulate", "-o", folder / "s.gctx", "--truth", folder / "t.h5", *cli_args(SCREEN), "--log-level", "warn")
    return folder


@pytest.fixture(scope="module")
def screen_python():
    return simulate(**SCREEN, log_level="warn")


def test_samples_equal_the_command_lines(screen_cli, screen_python):
    cli = tessera.read_gctx(screen_cli / "s.gctx")
    assert screen_python.data.shape == (cli.values.shape[1], 30)
    assert np.array_equal(screen_python.data.X, cli.values.T)
    assert list(screen_python.data.obs_names) == list(cli.signatures.index)
    assert list(screen_python.data.obs["pert_id"]) == list(cli.signatures["pert_id"])
    assert screen_python.data_path is None and screen_python.truth_path is None  # a temporary folder, removed


def test_truth_equals_the_command_lines(screen_cli, screen_python):
    truth, attributes = read_truth(screen_cli / "t.h5")
    assert sorted(truth) == sorted(screen_python.truth)
    for name, value in truth.items():
        assert np.array_equal(value, screen_python.truth[name]), name
    assert attributes == screen_python.truth_attributes
    assert attributes["seed"] == "7" and attributes["num_genes"] == 30
    # signatures: (cells * drugs) x genes; the gene and drug ids are decoded text.
    assert truth["signatures"].shape == (3 * 10, 30)
    assert list(truth["genes"][:2]) == ["g0001", "g0002"] and truth["drugs"][0] == "DRUG0001"


def test_kept_files_and_the_truth_beside_them(tmp_path):
    result = simulate(out=tmp_path / "screen.gctx", tables="arrays", **SCREEN, log_level="warn")
    assert result.data_path == tmp_path / "screen.gctx" and result.truth_path == tmp_path / "screen_truth.h5"
    assert result.data_path.exists() and result.truth_path.exists()
    assert np.array_equal(result.data.values, tessera.read_gctx(result.data_path).values)


def test_single_cell_screen_equals_the_command_lines(tmp_path):
    screen = {"single_cell": True, "num_genes": 20, "target_pool_size": 10, "cell_types": 2, "singles": 3,
              "pairs": 1, "cells_per_group": 5, "control_cells": 10, "seed": 2}
    flags = cli_args({k: v for k, v in screen.items() if k != "single_cell"})
    run_cli("simulate", "--single-cell", "-o", tmp_path / "c.h5ad", "--truth", tmp_path / "t.h5", *flags)
    result = simulate(**screen, log_level="warn")
    cli = anndata.read_h5ad(tmp_path / "c.h5ad")
    assert result.data.shape == cli.shape and result.data.n_vars == 20
    assert np.array_equal(result.data.X.toarray(), cli.X.toarray())
    pd.testing.assert_frame_equal(result.data.obs, cli.obs)
    truth, _ = read_truth(tmp_path / "t.h5")
    assert all(np.array_equal(value, result.truth[name]) for name, value in truth.items())


def test_bad_option_raises_the_engines_message():
    message = "--num-genes 0 is invalid: the allowed values of num_genes are in [1, 100000]"
    with pytest.raises(tessera.InputError, match=re.escape(message)):
        simulate(num_genes=0)
    with pytest.raises(tessera.InputError, match="--cell-types is an option of the single-cell screen"):
        simulate(cell_types=2)


@pytest.fixture(scope="module")
def dag_cli(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dag")
    run_cli("simulate-dag", "-o", folder, *cli_args(DAG), "--log-level", "warn")
    return folder


def test_simulate_dag_equals_the_command_line(dag_cli):
    result = simulate_dag(**DAG, log_level="warn")
    cli_data = pd.read_csv(dag_cli / "data.csv", float_precision="round_trip", dtype={"setting": str})
    pd.testing.assert_frame_equal(result.data, cli_data, check_exact=True)
    assert len(result.data) == 50 + 3 * 20 and list(result.data.columns) == [f"X{i}" for i in range(6)] + ["setting"]
    edges = pd.read_csv(dag_cli / "truth_edges.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(result.truth_edges, edges, check_exact=True)
    pd.testing.assert_frame_equal(result.truth_targets, pd.read_csv(dag_cli / "truth_targets.csv", dtype=str))
    assert result.targets == (dag_cli / "targets.txt").read_text().strip()
    # The graph: every variable a node, the arcs of truth_edges.csv with their weights.
    assert list(result.truth_graph.nodes) == [f"X{i}" for i in range(6)]
    assert set(result.truth_graph.edges) == set(zip(edges["source"], edges["target"]))
    for source, target, weight in edges.itertuples(index=False):
        assert result.truth_graph.edges[source, target]["weight"] == weight


def test_simulate_dag_dcdi_holds_the_same_samples(dag_cli):
    dcdi = simulate_dag(format="dcdi", **DAG, log_level="warn")
    csv = pd.read_csv(dag_cli / "data.csv", float_precision="round_trip", dtype={"setting": str})
    variables = [f"X{i}" for i in range(6)]
    assert np.array_equal(dcdi.data[variables].to_numpy(), csv[variables].to_numpy())
    assert list(dcdi.data["regime"]) == list(csv["setting"].replace("obs", "0"))
    assert dcdi.targets is None and list(dcdi.truth_graph.nodes) == variables
    edges = pd.read_csv(dag_cli / "truth_edges.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(dcdi.truth_edges, edges, check_exact=True)


def test_simulate_dag_bad_option():
    with pytest.raises(tessera.InputError, match=re.escape("--graph 'tree' is not one of er | scale-free")):
        simulate_dag(graph="tree")
