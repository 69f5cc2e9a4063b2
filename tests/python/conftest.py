"""Fixtures of the Python package's tests: the `tessera` binary to compare with, mpirun, the shared real data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("TESSERA_SOURCE_DIR", Path(__file__).resolve().parents[2]))
DATA = Path(os.environ.get("TESSERA_DATA_DIR") or SOURCE.parent / "shared" / "data")


def clean_environment() -> dict:
    """This process's environment without the MPI singleton's variables: a child `tessera` or mpirun must start
    its own MPI job, not join the one `import tessera` made in this process."""
    keep = ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "OMPI_MCA_rmaps_base_oversubscribe")
    return {k: v for k, v in os.environ.items() if k in keep or not k.startswith(("OMPI_", "PMIX_"))}


def run_cli(*args, ranks: int = 1, check: bool = True) -> subprocess.CompletedProcess:
    """Runs `tessera args...` (under mpirun -np ranks when ranks > 1), as a user of the command line would."""
    command = [os.environ["TESSERA_BIN"], *map(str, args)]
    if ranks > 1:
        command = [os.environ.get("TESSERA_MPIEXEC", "mpirun"), "-np", str(ranks), "--oversubscribe", *command]
    result = subprocess.run(command, capture_output=True, text=True, env=clean_environment(), timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def run_python(script: str, *args, ranks: int = 1) -> subprocess.CompletedProcess:
    """Runs a Python script with this interpreter, under mpirun -np ranks when ranks > 1; fails on non-zero exit."""
    command = [sys.executable, script, *map(str, args)]
    if ranks > 1:
        command = [os.environ.get("TESSERA_MPIEXEC", "mpirun"), "-np", str(ranks), "--oversubscribe", *command]
    result = subprocess.run(command, capture_output=True, text=True, env=clean_environment(), timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


# The two simulated screens the tests share: SMALL (60 genes x 5 cell types x 30 drugs) for imputation and tables,
# TINY (30 genes x 3 x 10, few controls and replicates) for ranking and training.
SMALL = ["--num-genes", 60, "--target-pool-size", 20, "--num-cells", 5, "--num-drugs", 30, "--seed", 3]
TINY = ["--num-genes", 30, "--num-cells", 3, "--num-drugs", 10, "--target-pool-size", 20, "--reference-cells", 1,
        "--controls-per-cell", 4, "--replicates", 2]


def simulate_screen(path: Path, sizes: list) -> Path:
    """Writes a simulated screen (GCTX at `path`, its truth beside it) with the command line; returns `path`."""
    run_cli("simulate", "--out", path, "--truth", path.with_suffix(".truth.h5"), *sizes, "--log-level", "warn")
    return path


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def shared_data() -> Path:
    """The real public data folder; the test is skipped (not passed) when it is missing."""
    if not DATA.is_dir():
        pytest.skip(f"real data folder {DATA} not found (set TESSERA_DATA_DIR)")
    return DATA
