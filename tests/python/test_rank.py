"""tessera.rank against the command line: the same query and library give the same top-k table."""

import re

import numpy as np
import pandas as pd
import pytest

import tessera
from conftest import TINY, run_cli, simulate_screen
from tessera.rank import rank

SCORING = {"min_genes": 10, "set_size": 5, "seed": 3}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A tiny simulated library (30 genes x 34 profiles) and a query of 30 genes by symbol."""
    folder = tmp_path_factory.mktemp("inputs")
    simulate_screen(folder / "library.gctx", TINY)
    values = np.random.default_rng(0).normal(size=30)
    query = pd.Series(values, index=[f"GENE{i:04d}" for i in range(1, 31)])
    pd.DataFrame({"gene": query.index, "value": query.to_numpy()}).to_csv(folder / "query.csv", index=False)
    return folder, query


@pytest.fixture(scope="module")
def cli_table(inputs):
    folder, _ = inputs
    run_cli("rank", "-q", folder / "query.csv", "-l", folder / "library.gctx", "--min-genes", 10, "--set-size", 5,
            "--seed", 3, "--rank-by", "cosine", "--pairs", "-k", 8, "-o", folder / "cli.csv", "--log-level", "warn")
    return pd.read_csv(folder / "cli.csv", na_values=["n/a"], keep_default_na=False)


def test_paths_give_the_command_lines_table(inputs, cli_table, tmp_path):
    folder, _ = inputs
    table = rank(folder / "query.csv", folder / "library.gctx", score="cosine", pairs=True, top=8,
                 out=tmp_path / "kept.csv", log_level="warn", **SCORING)
    pd.testing.assert_frame_equal(table, cli_table, check_exact=True)
    assert (tmp_path / "kept.csv").read_text() == (folder / "cli.csv").read_text()
    assert len(table) == 8 and list(table["rank"]) == list(range(1, 9))
    assert table["score"].is_monotonic_decreasing and (table["score"] == table["cosine"]).all()
    assert table["candidate"].str.contains(" \\+ ").any()  # pairs ranked among the single signatures
    assert table["low"].isna().all()  # no imputed signature: no interval


def test_in_memory_query_and_library(inputs, cli_table):
    folder, query = inputs
    library = tessera.read_gctx(folder / "library.gctx")
    from_series = rank(query, [library], score="cosine", pairs=True, top=8, log_level="warn", **SCORING)
    pd.testing.assert_frame_equal(from_series, cli_table, check_exact=True)
    from_frame = rank(query.rename("value").reset_index(), tessera.to_anndata(library), score="cosine", pairs=True,
                      top=8, log_level="warn", **SCORING)
    pd.testing.assert_frame_equal(from_frame, cli_table, check_exact=True)


def test_bad_option_raises_the_engines_message(inputs):
    folder, query = inputs
    message = "--top-k 0 is invalid: the allowed values of top_k are in [1, 1000000000]"
    with pytest.raises(tessera.InputError, match=re.escape(message)):
        rank(query, folder / "library.gctx", top=0)
    with pytest.raises(tessera.InputError, match="has no option topk; did you mean top_k"):
        rank(query, folder / "library.gctx", topk=3)


def test_compound_table_and_enrichment_come_with_the_table(inputs, tmp_path):
    folder, query = inputs
    library = tessera.read_gctx(folder / "library.gctx")
    perts = sorted(set(library.signatures["pert_id"]))
    info = pd.DataFrame({"pert_id": perts, "cmap_name": [f"name{i}" for i in range(len(perts))],
                         "target": ["T1" if i % 2 else "T2" for i in range(len(perts))], "moa": "M"})
    info.to_csv(tmp_path / "compoundinfo.txt", sep="\t", index=False)
    table = rank(query, folder / "library.gctx", top=3, compound_info=tmp_path / "compoundinfo.txt",
                 enrichment_top=4, out=tmp_path / "hits.csv", log_level="warn", **SCORING)
    compounds = pd.read_csv(tmp_path / "hits.compounds.csv", na_values=["n/a"], keep_default_na=False,
                            dtype={"pert_id": str, "name": str})
    pd.testing.assert_frame_equal(table.attrs["compounds"], compounds, check_exact=True)
    assert set(compounds["pert_id"]) == set(perts)
    assert compounds["summary_ncs"].is_monotonic_increasing
    enrichment = table.attrs["enrichment"]
    assert set(enrichment["term"]) == {"T1", "T2", "M"}
    assert (enrichment["top"] == 4).all() and (enrichment["universe"] == len(perts)).all()
    assert {"ncs", "p_value", "fdr", "target", "moa"} <= set(table.columns)
