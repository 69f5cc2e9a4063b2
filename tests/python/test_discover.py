"""tessera.discover against the command line (same graph, targets, stability and metrics) and on two ranks."""

import re
import textwrap

import pandas as pd
import pytest

import tessera
from conftest import run_cli, run_python
from tessera.discover import discover

SEARCH = {"algorithm": "igsp", "restarts": 2, "seed": 5}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A small interventional data set (6 variables, 3 settings) written by the command line, and its truth."""
    folder = tmp_path_factory.mktemp("data")
    run_cli("simulate-dag", "-o", folder, "--nodes", 6, "--observational-samples", 200, "--settings", 3,
            "--samples-per-setting", 100, "--seed", 2, "--log-level", "warn")
    return folder


@pytest.fixture(scope="module")
def cli_out(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out"
    run_cli("discover", "-i", data / "data.csv", "-o", out, "--targets", (data / "targets.txt").read_text().strip(),
            "--algorithm", "igsp", "--restarts", 2, "--seed", 5, "--bootstrap", 3, "--truth", data / "truth_edges.csv",
            "--log-level", "warn")
    return out


@pytest.fixture(scope="module")
def result(data):
    return discover(data / "data.csv", targets=(data / "targets.txt").read_text().strip(), bootstrap=3,
                    truth=data / "truth_edges.csv", log_level="warn", **SEARCH)


def test_tables_equal_the_command_lines(cli_out, result):
    pd.testing.assert_frame_equal(result.edges, pd.read_csv(cli_out / "dag_edges.csv", dtype=str))
    pd.testing.assert_frame_equal(result.targets, pd.read_csv(cli_out / "targets.csv", dtype=str))
    pd.testing.assert_frame_equal(result.stability, pd.read_csv(cli_out / "edge_stability.csv"), check_exact=True)
    pd.testing.assert_frame_equal(result.metrics, pd.read_csv(cli_out / "metrics.csv"), check_exact=True)
    counts = ["restart", "rank", "arcs", "score", "dags_visited", "ci_tests", "invariance_tests"]  # not the seconds
    pd.testing.assert_frame_equal(result.restarts[counts], pd.read_csv(cli_out / "restarts.csv")[counts])
    assert list(result.restarts["restart"]) == [0, 1]
    assert result.timing["dags_visited"][0] == result.restarts["dags_visited"].sum()
    assert len(result.edges) > 0 and result.stability["frequency"].max() == 1.0
    assert list(result.targets["setting"]) == ["1", "2", "3"]


def test_graph_is_dag_edges_csv(cli_out, result):
    edges = pd.read_csv(cli_out / "dag_edges.csv", dtype=str)
    assert set(result.graph.edges) == set(zip(edges["from"], edges["to"]))
    assert result.graph.number_of_edges() == len(edges)
    assert list(result.graph.nodes) == [f"X{i}" for i in range(6)]  # isolated variables too, in the data's order


def test_dataframe_input_and_target_dict(data, result, tmp_path):
    frame = pd.read_csv(data / "data.csv", float_precision="round_trip", dtype={"setting": str})
    targets = {}
    for item in (data / "targets.txt").read_text().strip().split(","):
        setting, names = item.split(":")
        targets[setting] = names.split(";")
    kept = discover(frame.rename(columns={"setting": "regime"}), setting_column="regime", targets=targets,
                    out=tmp_path / "kept", log_level="warn", **SEARCH)
    pd.testing.assert_frame_equal(kept.edges, result.edges)
    assert set(kept.graph.edges) == set(result.graph.edges)
    assert (tmp_path / "kept" / "dag_edges.csv").exists() and kept.stability is None and kept.metrics is None


def test_bad_option_raises_the_engines_message(data):
    message = "--algorithm 'bogus' is not one of gsp | igsp | utigsp; help(tessera.discover) lists them"
    with pytest.raises(tessera.InputError, match=re.escape(message)):
        discover(data / "data.csv", algorithm="bogus")
    with pytest.raises(tessera.InputError, match=re.escape("--required names 'X9', which is not a variable")):
        discover(data / "data.csv", required=[("X0", "X9")], log_level="quiet")


def test_two_ranks_root_gets_the_one_rank_answer(data, result, tmp_path):
    script = tmp_path / "two_ranks.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import pandas as pd
        import tessera
        from tessera.discover import discover

        result = discover({str(data / "data.csv")!r}, targets={(data / "targets.txt").read_text().strip()!r},
                          log_level="warn", **{SEARCH!r})
        if tessera.mpi_rank == 0:
            result.edges.to_csv(sys.argv[1], index=False)
        else:
            assert result is None, result
            print("rank 1 got None")
        """))
    run = run_python(script, tmp_path / "edges.csv", ranks=2)
    assert "rank 1 got None" in run.stdout
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "edges.csv", dtype=str), result.edges)
