"""tessera.design against the command line: the same DAG and seed give the same distance per round."""

import re

import networkx as nx
import pandas as pd
import pytest

import tessera
from conftest import run_cli
from tessera.design import design

STUDY = {"rounds": 3, "instances": 2, "candidates": 20, "seed": 4}
# In networkx's arc order (by source, in the order nodes were added): the command numbers the nodes in the order
# the CSV first names them, so a graph written in its own arc order must be compared with that same order.
ARCS = [("a", "b", 0.5), ("a", "d", 0.4), ("b", "c", -0.7), ("d", "c", 0.6)]


@pytest.fixture(scope="module")
def cli_tables(tmp_path_factory):
    """design on a weighted 4-node DAG and on random DAGs, by the command line."""
    folder = tmp_path_factory.mktemp("cli")
    pd.DataFrame(ARCS, columns=["source", "target", "weight"]).to_csv(folder / "dag.csv", index=False)
    options = ["--rounds", 3, "--instances", 2, "--candidates", 20, "--seed", 4, "--log-level", "warn"]
    run_cli("design", "--dag", folder / "dag.csv", "-o", folder / "dag_design.csv", *options)
    run_cli("design", "--nodes", 5, "-a", "greedy,random", "-o", folder / "random_design.csv", *options)
    return folder


def test_networkx_dag_gives_the_command_lines_table(cli_tables):
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(ARCS)
    table = design(graph, log_level="warn", **STUDY)
    expected = pd.read_csv(cli_tables / "dag_design.csv")
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert list(table.columns) == ["round", "greedy", "variance", "ucb", "mi", "random"]
    assert list(table["round"]) == [0, 1, 2, 3]
    assert table.iloc[0, 1:].nunique() == 1  # round 0: no intervention yet, every acquisition at the same distance


def test_edge_frame_and_random_dags(cli_tables, tmp_path):
    frame = pd.DataFrame(ARCS, columns=["source", "target", "weight"])
    table = design(frame, out=tmp_path / "kept.csv", log_level="warn", **STUDY)
    assert (tmp_path / "kept.csv").read_text() == (cli_tables / "dag_design.csv").read_text()
    random = design(nodes=5, acquisition=["greedy", "random"], log_level="warn", **STUDY)
    pd.testing.assert_frame_equal(random, pd.read_csv(cli_tables / "random_design.csv"), check_exact=True)
    assert list(random.columns) == ["round", "greedy", "random"] and not random.equals(table)


def test_bad_option_raises_the_engines_message():
    message = "--acquisition 'best' is not one of greedy | variance | ucb | mi | random"
    with pytest.raises(tessera.InputError, match=re.escape(message)):
        design(acquisition="best")
    with pytest.raises(tessera.InputError, match=re.escape("--pool and --pool-data need --dag")):
        design(pool="pool.csv", log_level="quiet")
