"""Reports opened in a real browser: headless Chromium, network off, loads each kind of page made from a small real
run (the built-in imputation screen, Sachs discovery with bootstrap, the SARS-CoV-2 drug ranking, a design study,
an autoencoder, a sweep folder) and checks what a person would see: no console message, every plot drawn as SVG
with its marks, every table filled. Screenshots go to report-screenshots/ in the test's folder.

Skips with a message where Chromium is missing (scripts/install_deps.sh installs it) and, for the Sachs and
SARS-CoV-2 pages, where ../shared/data is missing."""

import csv
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("TESSERA_SOURCE_DIR", Path(__file__).resolve().parents[2]))
DATA = Path(os.environ.get("TESSERA_DATA_DIR") or SOURCE.parent / "shared" / "data")
SCREENSHOTS = Path.cwd() / "report-screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium; "
                                "scripts/install_deps.sh installs it)")


def clean_environment() -> dict:
    keep = ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "OMPI_MCA_rmaps_base_oversubscribe")
    return {k: v for k, v in os.environ.items() if k in keep or not k.startswith(("OMPI_", "PMIX_"))}


def tessera(*args, ranks: int = 1) -> None:
    command = [os.environ["TESSERA_BIN"], *map(str, args)]
    if ranks > 1:
        command = [os.environ.get("TESSERA_MPIEXEC", "mpirun"), "-np", str(ranks), "--oversubscribe", *command]
    result = subprocess.run(command, capture_output=True, text=True, env=clean_environment(), timeout=600)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stderr[-3000:]}"


def chromium(page: Path, *flags: str) -> subprocess.CompletedProcess:
    """Chromium, headless, offline: every request goes to a closed local port and no name resolves."""
    command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
               "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
               "--virtual-time-budget=20000", f"--user-data-dir={page.parent / '.chromium'}", *flags,
               page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


class PageReader(HTMLParser):
    """What was drawn: per chart box, whether Vega finished and how many marks its SVG holds; per table, its rows."""

    def __init__(self):
        super().__init__()
        self.charts = {}  # id -> {"drawn": bool, "svg": bool, "marks": int}
        self.tables = []  # rows of each table's body
        self.stack = []  # (tag, chart id or None, inside a data mark group)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        chart, in_mark = (self.stack[-1][1], self.stack[-1][2]) if self.stack else (None, False)
        classes = (attrs.get("class") or "").split()
        if tag == "div" and "chart" in classes:
            chart = attrs["id"]
            self.charts[chart] = {"drawn": attrs.get("data-drawn") == "yes", "svg": False, "marks": 0}
        if chart and tag == "svg":
            self.charts[chart]["svg"] = True
        if chart and in_mark and tag in ("path", "line", "rect", "circle"):
            self.charts[chart]["marks"] += 1
        if tag == "g" and "role-mark" in classes:
            in_mark = True
        if tag == "table":
            self.tables.append(0)
        if tag == "tr" and any(t == "tbody" for t, _, _ in self.stack):
            self.tables[-1] += 1
        if tag not in ("meta", "br", "img", "input", "hr", "link"):  # elements without an end tag
            self.stack.append((tag, chart, in_mark))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return


def open_in_browser(page: Path, name: str, min_marks: dict = None) -> PageReader:
    """Loads the page; fails on any console message; returns what it shows. Saves a screenshot."""
    assert page.exists(), page
    html = page.read_text()
    assert "<script src" not in html and "<link" not in html, "the page fetches something"
    result = chromium(page, "--dump-dom")
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "console messages:\n" + "\n".join(console)
    reader = PageReader()
    reader.feed(result.stdout)
    assert reader.charts, "no chart on the page"
    for chart, seen in reader.charts.items():
        assert seen["drawn"] and seen["svg"], f"{chart} was not drawn"
        assert seen["marks"] >= (min_marks or {}).get(chart, 1), f"{chart} has {seen['marks']} marks"
    assert reader.tables and all(rows > 0 for rows in reader.tables), f"an empty table: {reader.tables}"
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = chromium(page, "--window-size=1200,2400", f"--screenshot={SCREENSHOTS / (name + '.png')}")
    assert (SCREENSHOTS / (name + ".png")).stat().st_size > 10000, shot.stderr[-2000:]
    return reader


def rows_of(path: Path) -> list:
    with open(path, newline="") as f:
        return list(csv.reader(f))[1:]


def test_imputation_report_of_the_built_in_screen(tmp_path):
    out = tmp_path / "impute"
    tessera("impute", "--method", "cell_mean,two_way_mean,dnpp,ntk", "--out", out, "--report", ranks=2)
    pooled = [row for row in rows_of(out / "metrics.csv") if row[1] == "all"]
    reader = open_in_browser(out / "report.html", "impute", {"chart-1": len(pooled)})  # a bar per method
    assert len(reader.charts) == 4  # methods, per cell type, predicted vs measured, time


def test_discovery_report_of_sachs_with_bootstrap(tmp_path):
    data = DATA / "sachs" / "sachs_gss.csv"
    if not data.exists():
        pytest.skip(f"real data not found at {data} (set TESSERA_DATA_DIR or put ../shared/data beside the checkout)")
    out = tmp_path / "sachs"
    tessera("discover", "-i", data, "--setting-column", "grp", "--observational", "1,2", "--settings",
            "1,2,3,4,5,6,7", "--algorithm", "utigsp", "--bootstrap", "10", "-o", out, "--report")
    stability = rows_of(out / "edge_stability.csv")
    open_in_browser(out / "report.html", "discover", {"chart-1": len(stability)})  # a bar per arc
    html = (out / "report.html").read_text()
    for source, target in rows_of(out / "dag_edges.csv"):
        assert f"<title>{source}&#45;&gt;{target}</title>" in html, f"arc {source} -> {target} not drawn"


def test_ranking_report_of_the_sars_cov_2_query(tmp_path):
    library = DATA / "lincs2020" / "lincs2020_l5_gold_24h_10uM_dev.gctx"
    query = DATA / "covid19" / "blancoA_l2fc.csv"
    if not library.exists() or not query.exists():
        pytest.skip(f"real data not found at {library} / {query}")
    tessera("impute", "--input", library, "--method", "two_way_mean", "--out", tmp_path / "lincs", ranks=2)
    table = tmp_path / "rank.csv"
    tessera("rank", "--query", query, "--library", tmp_path / "lincs" / "completed_two_way_mean.gctx", "--heldout",
            tmp_path / "lincs" / "heldout_two_way_mean.gctx", "--cell", "NL20", "-k", "20", "-o", table, "--report",
            ranks=2)
    # a point per hit; a bar for each of the 20 first compounds
    reader = open_in_browser(tmp_path / "rank.html", "rank", {"chart-1": 20, "chart-2": 20})
    assert len(reader.charts) == 4  # hits, compounds, score distribution, matched genes


def test_design_train_and_sweep_reports(tmp_path):
    tessera("simulate-dag", "--nodes", "8", "--settings", "3", "--seed", "2", "--out", tmp_path / "sim")
    tessera("design", "--dag", tmp_path / "sim" / "truth_edges.csv", "--pool-data", tmp_path / "sim" / "data.csv",
            "--observational", "obs", "--rounds", "4", "-o", tmp_path / "design.csv", "--report")
    open_in_browser(tmp_path / "design.html", "design")

    tessera("simulate", "--out", tmp_path / "screen.gctx", "--num-cells", "4", "--num-drugs", "30")
    tessera("train", "--input", tmp_path / "screen.gctx", "--out", tmp_path / "ae", "--zscore", "--ae-max-epochs", "3",
            "--ae-width", "32", "--alignment", "CELL01,CELL02", "--report")
    open_in_browser(tmp_path / "ae" / "report.html", "train", {"chart-1": 1})

    sweep = tmp_path / "sweep"
    (sweep / "status").mkdir(parents=True)
    (sweep / "sweep.ini").write_text("[sweep]\ncommand = impute\n")
    (sweep / "points.csv").write_text("index,folds\n0,3\n1,5\n")
    (sweep / "status" / "0").write_text("done 2.0\n")
    (sweep / "results.csv").write_text("point,folds,method,scope,pearson_r\n0,3,two_way_mean,all,0.47\n")
    tessera("report", sweep)
    open_in_browser(sweep / "report.html", "sweep")
